import { compareLabels, type Labels } from './labels';
import type { ChunkData, SeriesChunks } from './ingest';
import type { SampleIterator, Series } from './querier';

/**
 * Merges lists of series (each sorted by labels) into one sorted list; series with equal labels
 * from several lists become one series whose samples are merged by time, keeping one sample per
 * timestamp (the first list's). This is how overlapping sources (ingesters and blocks, RF
 * copies) return every sample exactly once.
 */
export function mergeSeriesLists(lists: readonly (readonly Series[])[]): Series[] {
  const nonEmpty = lists.filter((l) => l.length > 0);
  if (nonEmpty.length === 0) return [];
  if (nonEmpty.length === 1) return [...nonEmpty[0]!];
  const out: Series[] = [];
  const pos = nonEmpty.map(() => 0);
  for (;;) {
    let min: Labels | undefined;
    for (let i = 0; i < nonEmpty.length; i++) {
      const s = nonEmpty[i]![pos[i]!];
      if (s !== undefined && (min === undefined || compareLabels(s.labels, min) < 0)) min = s.labels;
    }
    if (min === undefined) return out;
    const group: Series[] = [];
    for (let i = 0; i < nonEmpty.length; i++) {
      const s = nonEmpty[i]![pos[i]!];
      if (s !== undefined && compareLabels(s.labels, min) === 0) {
        group.push(s);
        pos[i]!++;
      }
    }
    out.push(group.length === 1 ? group[0]! : new MergedSeries(min, group));
  }
}

class MergedSeries implements Series {
  constructor(
    readonly labels: Labels,
    private readonly parts: Series[],
  ) {}

  iterator(): SampleIterator {
    return new MergedIterator(this.parts.map((p) => p.iterator()));
  }
}

class MergedIterator implements SampleIterator {
  t = 0;
  v = 0;
  stale = false;
  private readonly live: boolean[];
  private started = false;

  constructor(private readonly its: SampleIterator[]) {
    this.live = its.map(() => false);
  }

  next(): boolean {
    const its = this.its;
    if (!this.started) {
      this.started = true;
      for (let i = 0; i < its.length; i++) this.live[i] = its[i]!.next();
    } else {
      // Advance every iterator sitting on the timestamp just returned (duplicates included).
      for (let i = 0; i < its.length; i++) if (this.live[i] && its[i]!.t === this.t) this.live[i] = its[i]!.next();
    }
    let best = -1;
    for (let i = 0; i < its.length; i++) {
      if (this.live[i] && (best < 0 || its[i]!.t < its[best]!.t)) best = i;
    }
    if (best < 0) return false;
    const b = its[best]!;
    this.t = b.t;
    this.v = b.v;
    this.stale = b.stale;
    return true;
  }
}

/** Merges two SeriesChunks lists sorted by labels; chunks of equal series are concatenated by time. */
function mergeTwoChunkLists(a: readonly SeriesChunks[], b: readonly SeriesChunks[]): SeriesChunks[] {
  const out: SeriesChunks[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const c = compareLabels(x.labels, y.labels);
    if (c < 0) {
      out.push(x);
      i++;
    } else if (c > 0) {
      out.push(y);
      j++;
    } else {
      const chunks: ChunkData[] = x.chunks.concat(y.chunks);
      if (x.chunks.length > 0 && y.chunks.length > 0 && y.chunks[0]!.mint < x.chunks[x.chunks.length - 1]!.mint) {
        chunks.sort((p, q) => p.mint - q.mint);
      }
      out.push({ labels: x.labels, chunks });
      i++;
      j++;
    }
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/**
 * Merges SeriesChunks lists sorted by labels whose chunks do not overlap in time (one ingester's
 * head and blocks; consecutive blocks): equal series get their chunks concatenated by time.
 * Pairwise, so n series in k lists cost O(n log k) label comparisons.
 */
export function mergeSeriesChunks(lists: readonly (readonly SeriesChunks[])[]): SeriesChunks[] {
  let level = lists.filter((l) => l.length > 0) as (readonly SeriesChunks[])[];
  if (level.length === 0) return [];
  while (level.length > 1) {
    const next: (readonly SeriesChunks[])[] = [];
    for (let k = 0; k < level.length; k += 2) next.push(k + 1 < level.length ? mergeTwoChunkLists(level[k]!, level[k + 1]!) : level[k]!);
    level = next;
  }
  return [...level[0]!];
}
