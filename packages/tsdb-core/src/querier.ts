import type { Labels } from './labels';
import type { Matcher } from './matchers';
import type { SampleBuffer } from './sample-buffer';

/**
 * Iterates the samples of one series in time order. Fields are updated in place by `next()` so that
 * hot loops allocate nothing. Stale markers (the NaN 0x7ff0000000000002) are reported with
 * `stale === true` (and `v` NaN): query engines drop them, storage keeps their exact bits.
 */
export interface SampleIterator {
  next(): boolean;
  /** Timestamp of the current sample, ms since epoch. */
  t: number;
  v: number;
  stale: boolean;
}

export interface Series {
  readonly labels: Labels;
  iterator(): SampleIterator;
  /**
   * Optional fast path: appends the samples within [mint, maxt] (intersected with the series' own
   * range) to `buf`, exactly what iterating would give. See readSeriesInto.
   */
  decodeInto?(mint: number, maxt: number, buf: SampleBuffer): void;
}

/**
 * Read access to one tenant's data. `select` returns series sorted by labels (compareLabels), each
 * series appearing once, with samples in [mint, maxt] (inclusive, ms).
 */
export interface Querier {
  select(mint: number, maxt: number, matchers: readonly Matcher[]): Promise<Series[]>;
  labelNames(mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]>;
  labelValues(name: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]>;
}

/** An iterator over in-memory arrays, for tests and for merged results. */
export class ArraySampleIterator implements SampleIterator {
  t = 0;
  v = 0;
  stale = false;
  private i = -1;

  constructor(
    private readonly ts: ArrayLike<number>,
    private readonly vs: ArrayLike<number>,
    private readonly staleAt?: ArrayLike<number>,
  ) {}

  next(): boolean {
    this.i++;
    if (this.i >= this.ts.length) return false;
    this.t = this.ts[this.i]!;
    this.v = this.vs[this.i]!;
    this.stale = this.staleAt !== undefined && this.staleAt[this.i] === 1;
    return true;
  }
}
