import { compareLabels, compareStrings, type Labels } from './labels';
import type { ChunkData, SeriesChunks } from './ingest';
import type { SampleIterator, Series } from './querier';
import { SampleBuffer, readSeriesInto } from './sample-buffer';
import { selectionLabels, type BlockSelection } from './block/reader';
import { ChainedChunkSeries, type SelectionChains } from './chunk-series';

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

/** Scratch buffers of MergedSeries.decodeInto, one set per nesting depth (merges of merges). */
const scratch: SampleBuffer[][] = [];
let scratchDepth = 0;

class MergedSeries implements Series {
  constructor(
    readonly labels: Labels,
    private readonly parts: Series[],
  ) {}

  iterator(): SampleIterator {
    return new MergedIterator(this.parts.map((p) => p.iterator()));
  }

  /**
   * What iterating gives, decoded part by part and then merged: samples (stale markers included)
   * by time, one per timestamp, the first part's on ties (as MergedIterator).
   */
  decodeInto(mint: number, maxt: number, buf: SampleBuffer): void {
    const parts = this.parts;
    const k = parts.length;
    const level = (scratch[scratchDepth] ??= []);
    scratchDepth++;
    try {
      for (let i = 0; i < k; i++) {
        const b = (level[i] ??= new SampleBuffer(256));
        b.reset();
        readSeriesInto(parts[i]!, mint, maxt, b);
      }
      const ri = new Int32Array(k); // next real sample of part i
      const si = new Int32Array(k); // next stale marker of part i
      for (;;) {
        let min = Infinity;
        let best = -1;
        let bestStale = false;
        for (let i = 0; i < k; i++) {
          const b = level[i]!;
          const tr = ri[i]! < b.n ? b.ts[ri[i]!]! : Infinity;
          const ts = si[i]! < b.nStale ? b.staleTs[si[i]!]! : Infinity;
          const t = tr <= ts ? tr : ts;
          if (t < min) {
            min = t;
            best = i;
            bestStale = ts < tr;
          }
        }
        if (best < 0) return;
        const b = level[best]!;
        if (bestStale) buf.pushStale(min);
        else buf.push(min, b.vs[ri[best]!]!);
        // Every part at this timestamp moves on.
        for (let i = 0; i < k; i++) {
          const p = level[i]!;
          if (ri[i]! < p.n && p.ts[ri[i]!] === min) ri[i]!++;
          if (si[i]! < p.nStale && p.staleTs[si[i]!] === min) si[i]!++;
        }
      }
    } finally {
      scratchDepth--;
    }
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
    const c = x.labels === y.labels ? 0 : compareLabels(x.labels, y.labels);
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

/**
 * The merge of mergeBlockSelections, over "occurrences": occurrence o is series o - base[b] of
 * selection b = occSel[o]. Lists of occurrences are merged pairwise by labels; occurrences with
 * equal labels are chained (next/tail) in selection order, the chain's head standing for the group.
 */
class SelectionMerger {
  readonly base: Int32Array;
  readonly occSel: Int32Array;
  readonly next: Int32Array;
  readonly tail: Int32Array;

  constructor(readonly sels: readonly BlockSelection[]) {
    const k = sels.length;
    this.base = new Int32Array(k + 1);
    for (let b = 0; b < k; b++) this.base[b + 1] = this.base[b]! + sels[b]!.numSeries;
    const total = this.base[k]!;
    this.occSel = new Int32Array(total);
    for (let b = 0; b < k; b++) this.occSel.fill(b, this.base[b]!, this.base[b + 1]!);
    this.next = new Int32Array(total).fill(-1);
    this.tail = new Int32Array(total);
    for (let o = 0; o < total; o++) this.tail[o] = o;
  }

  /** compareLabels of two occurrences, without building their labels. */
  compare(a: number, b: number): number {
    const ba = this.occSel[a]!;
    const bb = this.occSel[b]!;
    const sa = this.sels[ba]!;
    const sb = this.sels[bb]!;
    const ia = a - this.base[ba]!;
    const ib = b - this.base[bb]!;
    const la = sa.labelStart[ia]!;
    const lb = sb.labelStart[ib]!;
    const na = sa.labelStart[ia + 1]! - la;
    const nb = sb.labelStart[ib + 1]! - lb;
    const ya = sa.symbols;
    const yb = sb.symbols;
    const ra = sa.labelSyms;
    const rb = sb.labelSyms;
    const n = na < nb ? na : nb;
    if (ya === yb) {
      // One symbol table (shared through a SymbolPool): equal indexes are equal strings.
      for (let k = 0, pa = 2 * la, pb = 2 * lb; k < 2 * n; k++, pa++, pb++) {
        const x = ra[pa]!;
        const y = rb[pb]!;
        if (x !== y) {
          const c = compareStrings(ya[x]!, ya[y]!);
          if (c !== 0) return c;
        }
      }
      return na - nb;
    }
    // Strings shared through a SymbolPool compare equal by reference.
    for (let k = 0, pa = 2 * la, pb = 2 * lb; k < 2 * n; k++, pa++, pb++) {
      const x = ya[ra[pa]!]!;
      const y = yb[rb[pb]!]!;
      if (x !== y) return compareStrings(x, y);
    }
    return na - nb;
  }

  /**
   * Chains the series of selections [b0, b1], which all have the same series (sameSeries), series
   * by series, and returns the list of the chains' heads: the merge of those selections.
   */
  run(b0: number, b1: number): Int32Array {
    const n = this.sels[b0]!.numSeries;
    const heads = new Int32Array(n);
    const o0 = this.base[b0]!;
    for (let i = 0; i < n; i++) heads[i] = o0 + i;
    if (b1 > b0) {
      const next = this.next;
      for (let b = b0; b < b1; b++) {
        const o = this.base[b]!;
        const p = this.base[b + 1]!;
        for (let i = 0; i < n; i++) next[o + i] = p + i;
      }
      const tail = this.tail;
      const ol = this.base[b1]!;
      for (let i = 0; i < n; i++) tail[o0 + i] = ol + i;
    }
    return heads;
  }

  /** Merges two occurrence lists whose selections are x's before y's. */
  merge(x: Int32Array, y: Int32Array): Int32Array {
    const out = new Int32Array(x.length + y.length);
    const next = this.next;
    const tail = this.tail;
    let i = 0;
    let j = 0;
    let o = 0;
    while (i < x.length && j < y.length) {
      const a = x[i]!;
      const b = y[j]!;
      const c = this.compare(a, b);
      if (c < 0) {
        out[o++] = a;
        i++;
      } else if (c > 0) {
        out[o++] = b;
        j++;
      } else {
        next[tail[a]!] = b;
        tail[a] = tail[b]!;
        out[o++] = a;
        i++;
        j++;
      }
    }
    while (i < x.length) out[o++] = x[i++]!;
    while (j < y.length) out[o++] = y[j++]!;
    return o === out.length ? out : out.slice(0, o);
  }
}

/** Whether two selections have the same series in the same order (by symbol indexes of one table). */
function sameSeries(a: BlockSelection, b: BlockSelection): boolean {
  const n = a.numSeries;
  if (a.symbols !== b.symbols || b.numSeries !== n) return false;
  for (let i = 1; i <= n; i++) if (a.labelStart[i] !== b.labelStart[i]) return false;
  const ra = a.labelSyms;
  const rb = b.labelSyms;
  for (let p = 2 * a.labelStart[n]! - 1; p >= 0; p--) if (ra[p] !== rb[p]) return false;
  return true;
}

/**
 * mergeSeriesChunks for block selections (Block.selectColumns) of non-overlapping blocks in time
 * order: series with equal labels get their chunks concatenated (sorted by mint should they not be
 * in order), as ChunkSeries over [mint, maxt] would. The series share the selections and the
 * merge's arrays rather than copying chunk lists.
 */
export function mergeBlockSelections(selections: readonly BlockSelection[], mint: number, maxt: number): Series[] {
  const sels = selections.filter((s) => s.numSeries > 0);
  if (sels.length === 0) return [];
  const m = new SelectionMerger(sels);
  // Consecutive blocks with the same series (no churn) are merged by position, without comparing.
  let level: Int32Array[] = [];
  for (let b0 = 0; b0 < sels.length; ) {
    let b1 = b0;
    while (b1 + 1 < sels.length && sameSeries(sels[b0]!, sels[b1 + 1]!)) b1++;
    level.push(m.run(b0, b1));
    b0 = b1 + 1;
  }
  while (level.length > 1) {
    const next: Int32Array[] = [];
    for (let k = 0; k < level.length; k += 2) next.push(k + 1 < level.length ? m.merge(level[k]!, level[k + 1]!) : level[k]!);
    level = next;
  }
  const heads = level[0]!;
  // What the series keep (not the merge's other arrays).
  const chains: SelectionChains = { sels, base: m.base, occSel: m.occSel, next: m.next };
  const out = new Array<Series>(heads.length);
  for (let q = 0; q < heads.length; q++) {
    const h = heads[q]!;
    const b = m.occSel[h]!;
    out[q] = new ChainedChunkSeries(selectionLabels(sels[b]!, h - m.base[b]!), chains, h, mint, maxt);
  }
  return out;
}
