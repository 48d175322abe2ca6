import { SampleBuffer, readSeriesInto, type Series as StorageSeries } from '@strata/tsdb-core';
import { type Expr, type VectorSelector, inspect } from '../parser/ast';
import type { SelectedSeries } from './types';

export interface SelectPlan {
  readonly node: VectorSelector;
  /** Inclusive time range (ms) the selector can ever look at in this query. */
  readonly mint: number;
  readonly maxt: number;
}

/**
 * The time range each vector selector needs, as Prometheus' getTimeRangesForSelector computes it:
 * the query range shifted by enclosing subqueries (offsets and ranges, reset by an `@` on a
 * subquery), replaced by the selector's own `@`, widened by the lookback delta (instant selectors)
 * or the range (range selectors), and shifted by the selector's offset.
 */
export function planSelects(expr: Expr, startMs: number, endMs: number, lookbackDelta: number): SelectPlan[] {
  const plans: SelectPlan[] = [];
  let evalRange = 0;
  inspect(expr, (node, path) => {
    if (node.type === 'MatrixSelector') {
      evalRange = node.range;
    } else if (node.type === 'VectorSelector') {
      let start = startMs;
      let end = endMs;
      let subqOffset = 0;
      let subqRange = 0;
      let subqTs: number | null = null;
      for (const p of path) {
        if (p.type !== 'SubqueryExpr') continue;
        subqOffset += p.originalOffset;
        subqRange += p.range;
        if (p.timestamp !== null) {
          subqOffset = p.originalOffset;
          subqRange = p.range;
          subqTs = p.timestamp;
        }
      }
      if (subqTs !== null) start = end = subqTs;
      if (node.timestamp !== null) {
        start = end = node.timestamp;
      } else {
        start = start - subqOffset - subqRange;
        end = end - subqOffset;
      }
      start -= evalRange === 0 ? lookbackDelta : evalRange;
      start -= node.originalOffset;
      end -= node.originalOffset;
      evalRange = 0;
      plans.push({ node, mint: start, maxt: end });
    }
  });
  return plans;
}

/**
 * The series one vector selector selected, with the time range it may look at. Samples are decoded
 * when evaluation needs them: the hot paths (instant selectors, range functions) read one series at
 * a time into a shared SampleBuffer, evaluate it over all steps and move on, as Prometheus does, so
 * a query never holds more than one series' decoded samples; the rarer paths take every series as
 * typed arrays (`all()`, decoded once and cached).
 */
export class Selection {
  private cached: SelectedSeries[] | null = null;

  constructor(
    readonly series: readonly StorageSeries[],
    readonly mint: number,
    readonly maxt: number,
  ) {}

  /**
   * Decodes series `i` into `buf` (reset first). False when it has no real sample in range: such a
   * series can yield nothing (stale markers alone end nothing).
   */
  read(i: number, buf: SampleBuffer): boolean {
    buf.reset();
    readSeriesInto(this.series[i]!, this.mint, this.maxt, buf);
    return buf.n > 0;
  }

  /** Every series with samples in range, decoded into its own arrays. */
  all(): readonly SelectedSeries[] {
    if (this.cached !== null) return this.cached;
    const out: SelectedSeries[] = [];
    const buf = new SampleBuffer();
    for (let i = 0; i < this.series.length; i++) {
      if (!this.read(i, buf)) continue;
      out.push({
        labels: this.series[i]!.labels,
        ts: buf.ts.slice(0, buf.n),
        vs: buf.vs.slice(0, buf.n),
        staleTs: buf.nStale > 0 ? buf.staleTs.slice(0, buf.nStale) : null,
      });
    }
    this.cached = out;
    return out;
  }
}

/** Number of elements <= x in a sorted array. */
export function upperBound(a: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Number of elements < x in a sorted array. */
export function lowerBound(a: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
