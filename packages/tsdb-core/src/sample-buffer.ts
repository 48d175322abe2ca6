import type { Series } from './querier';

/**
 * Growable typed columns that a series' samples are decoded into, reused from series to series so
 * that reading a series allocates nothing once the buffer is large enough. Real samples go to
 * `ts`/`vs` (first `n` entries); stale markers only record their timestamp in `staleTs` (first
 * `nStale` entries). Query engines read one series at a time through it.
 */
export class SampleBuffer {
  ts: Float64Array;
  vs: Float64Array;
  /**
   * `vs` viewed as uint32 pairs (platform byte order), for decoders that write the raw IEEE-754
   * bits of a value; replaced together with `vs` when the buffer grows.
   */
  vbits: Uint32Array;
  n = 0;
  staleTs: Float64Array;
  nStale = 0;

  constructor(capacity = 1024) {
    this.ts = new Float64Array(capacity);
    this.vs = new Float64Array(capacity);
    this.vbits = new Uint32Array(this.vs.buffer);
    this.staleTs = new Float64Array(16);
  }

  reset(): void {
    this.n = 0;
    this.nStale = 0;
  }

  /** Makes room for `k` more samples. */
  ensure(k: number): void {
    const need = this.n + k;
    if (need <= this.ts.length) return;
    let cap = this.ts.length * 2;
    while (cap < need) cap *= 2;
    const ts = new Float64Array(cap);
    ts.set(this.ts.subarray(0, this.n));
    const vs = new Float64Array(cap);
    vs.set(this.vs.subarray(0, this.n));
    this.ts = ts;
    this.vs = vs;
    this.vbits = new Uint32Array(vs.buffer);
  }

  push(t: number, v: number): void {
    if (this.n === this.ts.length) this.ensure(1);
    this.ts[this.n] = t;
    this.vs[this.n++] = v;
  }

  pushStale(t: number): void {
    if (this.nStale === this.staleTs.length) {
      const s = new Float64Array(this.staleTs.length * 2);
      s.set(this.staleTs);
      this.staleTs = s;
    }
    this.staleTs[this.nStale++] = t;
  }
}

/**
 * Appends the samples of `s` within [mint, maxt] to `buf` (stale markers to its stale column). Uses
 * the series' own `decodeInto` when it has one (chunk-backed series decode straight into the
 * columns), else its iterator.
 */
export function readSeriesInto(s: Series, mint: number, maxt: number, buf: SampleBuffer): void {
  if (s.decodeInto !== undefined) {
    s.decodeInto(mint, maxt, buf);
    return;
  }
  const it = s.iterator();
  while (it.next()) {
    const t = it.t;
    if (t < mint) continue;
    if (t > maxt) break;
    if (it.stale) buf.pushStale(t);
    else buf.push(t, it.v);
  }
}
