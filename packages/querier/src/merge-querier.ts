import { mergeSeriesLists, type Matcher, type Querier, type Series } from '@strata/tsdb-core';

export interface TimedQuerier {
  querier: Querier;
  /** Only data in [minTime(), maxTime()] is asked from this source (ms; ±Infinity = unbounded). */
  minTime(): number;
  maxTime(): number;
}

/**
 * Reads several sources (ingesters for recent data, object storage for older data) as one
 * Querier. Each source is asked only for its time window; overlapping data is merged so that
 * every sample is returned once.
 */
export class MergeQuerier implements Querier {
  constructor(private readonly sources: readonly TimedQuerier[]) {}

  private active(mint: number, maxt: number): { q: Querier; mint: number; maxt: number }[] {
    const out: { q: Querier; mint: number; maxt: number }[] = [];
    for (const s of this.sources) {
      const lo = Math.max(mint, s.minTime());
      const hi = Math.min(maxt, s.maxTime());
      if (lo <= hi) out.push({ q: s.querier, mint: lo, maxt: hi });
    }
    return out;
  }

  async select(mint: number, maxt: number, matchers: readonly Matcher[]): Promise<Series[]> {
    const lists = await Promise.all(this.active(mint, maxt).map((a) => a.q.select(a.mint, a.maxt, matchers)));
    return mergeSeriesLists(lists);
  }

  async labelNames(mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
    const all = await Promise.all(this.active(mint, maxt).map((a) => a.q.labelNames(a.mint, a.maxt, matchers)));
    return [...new Set(all.flat())];
  }

  async labelValues(name: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
    const all = await Promise.all(this.active(mint, maxt).map((a) => a.q.labelValues(name, a.mint, a.maxt, matchers)));
    return [...new Set(all.flat())];
  }
}
