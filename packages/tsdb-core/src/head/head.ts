import { compareLabels, type Labels } from '../labels';
import { MatchType, type Matcher } from '../matchers';
import type { ChunkData } from '../ingest';
import { labelsFromSeriesKey, type SeriesKey } from '../series-key';
import { MemPostings, intersect, subtract, union, type PostingsList } from './postings';
import { MemSeries } from './mem-series';

export interface HeadOptions {
  /** Block range (ms); chunks never straddle its aligned boundaries. Default 2h. */
  chunkRange?: number;
}

/**
 * The in-memory part of one tenant's TSDB: series by key and by ref, and an inverted index.
 * Label objects are not kept per series (only the key string); they are decoded on demand for
 * queries and once at series creation for the postings.
 */
export class Head {
  readonly chunkRange: number;
  private readonly byKey = new Map<SeriesKey, MemSeries>();
  private readonly byRef: (MemSeries | undefined)[] = [undefined];
  readonly postings = new MemPostings();
  private nextRef = 1;
  minT = Infinity;
  maxT = -Infinity;

  constructor(opts: HeadOptions = {}) {
    this.chunkRange = opts.chunkRange ?? 2 * 3600 * 1000;
  }

  get numSeries(): number {
    return this.byKey.size;
  }

  get(key: SeriesKey): MemSeries | undefined {
    return this.byKey.get(key);
  }

  getByRef(ref: number): MemSeries | undefined {
    return this.byRef[ref];
  }

  /** Creates a series. `ref` is given on WAL replay; otherwise the next free ref is used. */
  create(key: SeriesKey, labels: Labels = labelsFromSeriesKey(key), ref?: number): MemSeries {
    const r = ref ?? this.nextRef;
    if (r >= this.nextRef) this.nextRef = r + 1;
    const s = new MemSeries(r, key);
    this.byKey.set(key, s);
    this.byRef[r] = s;
    this.postings.add(r, labels);
    return s;
  }

  /**
   * Series with their chunks in [mint, maxt), sorted by labels, for writing a block. Chunks never
   * straddle a chunkRange boundary, so a block range aligned to it takes whole chunks.
   */
  cutBlock(mint: number, maxt: number): { labels: Labels; chunks: ChunkData[] }[] {
    const out: { labels: Labels; chunks: ChunkData[] }[] = [];
    for (const s of this.byKey.values()) {
      if (s.minTime() >= maxt || s.lastT < mint) continue;
      const chunks = s.chunksInRange(mint, maxt);
      if (chunks.length > 0) out.push({ labels: labelsFromSeriesKey(s.key), chunks });
    }
    out.sort((a, b) => compareLabels(a.labels, b.labels));
    return out;
  }

  /**
   * Drops data before `mint` (persisted in a block). Series left without data are removed; their
   * keys are returned so that callers can update their own per-series state.
   */
  truncate(mint: number): SeriesKey[] {
    const dead = new Set<number>();
    const keys: SeriesKey[] = [];
    let newMin = Infinity;
    for (const s of this.byKey.values()) {
      if (s.truncateBefore(mint)) {
        dead.add(s.ref);
        keys.push(s.key);
      } else {
        newMin = Math.min(newMin, s.minTime());
      }
    }
    for (const k of keys) {
      const s = this.byKey.get(k)!;
      this.byKey.delete(k);
      this.byRef[s.ref] = undefined;
    }
    this.postings.remove(dead);
    this.minT = newMin;
    if (this.byKey.size === 0) this.maxT = -Infinity;
    return keys;
  }

  /** Updates the head's time bounds after appends (called once per batch). */
  updateTimes(mint: number, maxt: number): void {
    if (mint < this.minT) this.minT = mint;
    if (maxt > this.maxT) this.maxT = maxt;
  }

  /** Refs of series matching all matchers (Prometheus' PostingsForMatchers). */
  postingsForMatchers(matchers: readonly Matcher[]): PostingsList {
    let pos: PostingsList | null = null;
    const negatives: Matcher[] = [];
    for (const m of matchers) {
      if (m.matchesEmpty()) {
        negatives.push(m);
        continue;
      }
      const p = this.postingsMatching(m, true);
      pos = pos === null ? p : intersect(pos, p);
      if (pos.length === 0) return pos;
    }
    if (pos === null) pos = this.postings.allPostings();
    for (const m of negatives) {
      // Series matching m are those without a non-matching value of the label.
      pos = subtract(pos, this.postingsMatching(m, false));
    }
    return pos;
  }

  private postingsMatching(m: Matcher, want: boolean): PostingsList {
    if (m.type === MatchType.EQ && want) return this.postings.get(m.name, m.value);
    const vals = this.postings.values(m.name);
    if (vals === undefined) return [];
    const lists: PostingsList[] = [];
    for (const [v, l] of vals) if (m.matches(v) === want) lists.push(l);
    return union(lists);
  }

  /** Series (with labels) matching the matchers that have data in [mint, maxt], sorted by labels. */
  select(mint: number, maxt: number, matchers: readonly Matcher[]): { labels: Labels; series: MemSeries }[] {
    const out: { labels: Labels; series: MemSeries }[] = [];
    for (const ref of this.postingsForMatchers(matchers)) {
      const s = this.byRef[ref];
      if (s === undefined || s.lastT < mint || s.minTime() > maxt) continue;
      out.push({ labels: labelsFromSeriesKey(s.key), series: s });
    }
    out.sort((a, b) => compareLabels(a.labels, b.labels));
    return out;
  }

  labelNames(mint: number, maxt: number, matchers: readonly Matcher[]): string[] {
    const names = new Set<string>();
    if (matchers.length === 0 && mint <= this.minT && maxt >= this.maxT) {
      for (const n of this.postings.names()) names.add(n);
    } else {
      for (const { labels } of this.select(mint, maxt, matchers)) for (const l of labels) names.add(l.name);
    }
    return [...names];
  }

  labelValues(name: string, mint: number, maxt: number, matchers: readonly Matcher[]): string[] {
    if (matchers.length === 0 && mint <= this.minT && maxt >= this.maxT) {
      return [...(this.postings.values(name)?.keys() ?? [])];
    }
    const vals = new Set<string>();
    for (const { labels } of this.select(mint, maxt, matchers)) {
      for (const l of labels) if (l.name === name) vals.add(l.value);
    }
    return [...vals];
  }
}
