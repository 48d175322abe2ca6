import { XorIterator, decodeXorInto } from './chunkenc/xor';
import type { ChunkData } from './ingest';
import type { Labels } from './labels';
import type { SampleIterator, Series } from './querier';
import type { SampleBuffer } from './sample-buffer';
import { selectionChunk, type BlockSelection } from './block/reader';

/** Iterates the samples of consecutive, non-overlapping chunks within [mint, maxt]. */
export class ChunksIterator implements SampleIterator {
  t = 0;
  v = 0;
  stale = false;
  private i = 0;
  private it: XorIterator | null = null;
  private dec: XorIterator | null = null;

  constructor(
    private readonly chunks: readonly ChunkData[],
    private readonly mint: number,
    private readonly maxt: number,
  ) {}

  next(): boolean {
    for (;;) {
      if (this.it === null) {
        const c = this.chunks[this.i++];
        if (c === undefined) return false;
        if (c.encoding !== 1) throw new Error(`unsupported chunk encoding ${c.encoding}`);
        if (c.maxt < this.mint || c.mint > this.maxt) continue;
        // One decoder per series, reset for each chunk.
        if (this.dec === null) this.dec = new XorIterator(c.data);
        else this.dec.reset(c.data);
        this.it = this.dec;
      }
      const it = this.it;
      while (it.next()) {
        if (it.t < this.mint) continue;
        if (it.t > this.maxt) break;
        this.t = it.t;
        this.v = it.v;
        this.stale = it.stale;
        return true;
      }
      this.it = null;
    }
  }
}

export class ChunkSeries implements Series {
  constructor(
    readonly labels: Labels,
    private readonly chunks: readonly ChunkData[],
    private readonly mint: number,
    private readonly maxt: number,
  ) {}

  iterator(): SampleIterator {
    return new ChunksIterator(this.chunks, this.mint, this.maxt);
  }

  decodeInto(mint: number, maxt: number, buf: SampleBuffer): void {
    const lo = Math.max(mint, this.mint);
    const hi = Math.min(maxt, this.maxt);
    const chunks = this.chunks;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      if (c.maxt < lo || c.mint > hi) continue;
      if (c.encoding !== 1) throw new Error(`unsupported chunk encoding ${c.encoding}`);
      decodeXorInto(c.data, 0, c.data.length, lo, hi, buf);
    }
  }
}

/**
 * Series of several block selections (Block.selectColumns), as mergeBlockSelections links them:
 * occurrence o is series o - base[b] of sels[b] with b = occSel[o]; the occurrences of one series
 * are chained through `next` (-1 ends a chain) in block order.
 */
export interface SelectionChains {
  readonly sels: readonly BlockSelection[];
  readonly base: Int32Array;
  readonly occSel: Int32Array;
  readonly next: Int32Array;
}

/**
 * A ChunkSeries whose chunks are those of a chain of occurrences in block selections, in that order
 * (sorted by mint should they not be in order), so that a series merged from many blocks costs one
 * object and no copy of its chunk list.
 */
export class ChainedChunkSeries implements Series {
  constructor(
    readonly labels: Labels,
    private readonly chains: SelectionChains,
    private readonly head: number,
    private readonly mint: number,
    private readonly maxt: number,
  ) {}

  /** The chunks as ChunkData (views into the selections' buffers), in time order. */
  chunks(): ChunkData[] {
    const { sels, base, occSel, next } = this.chains;
    const out: ChunkData[] = [];
    let sorted = true;
    for (let o = this.head; o !== -1; o = next[o]!) {
      const b = occSel[o]!;
      const s = sels[b]!;
      const i = o - base[b]!;
      for (let c = s.chunkStart[i]!; c < s.chunkStart[i + 1]!; c++) {
        const d = selectionChunk(s, c);
        if (out.length > 0 && d.mint < out[out.length - 1]!.mint) sorted = false;
        out.push(d);
      }
    }
    if (!sorted) out.sort((p, q) => p.mint - q.mint);
    return out;
  }

  iterator(): SampleIterator {
    return new ChunksIterator(this.chunks(), this.mint, this.maxt);
  }

  decodeInto(mint: number, maxt: number, buf: SampleBuffer): void {
    const lo = Math.max(mint, this.mint);
    const hi = Math.min(maxt, this.maxt);
    const { sels, base, occSel, next } = this.chains;
    const n0 = buf.n;
    const stale0 = buf.nStale;
    let prev = -Infinity;
    for (let o = this.head; o !== -1; o = next[o]!) {
      const b = occSel[o]!;
      const s = sels[b]!;
      const i = o - base[b]!;
      const times = s.chunkTimes;
      const loc = s.chunkLoc;
      for (let c = s.chunkStart[i]!, ce = s.chunkStart[i + 1]!; c < ce; c++) {
        const m = times[2 * c]!;
        if (m < prev) {
          // Chunks out of time order: start over from the sorted list.
          buf.n = n0;
          buf.nStale = stale0;
          new ChunkSeries(this.labels, this.chunks(), this.mint, this.maxt).decodeInto(mint, maxt, buf);
          return;
        }
        prev = m;
        if (times[2 * c + 1]! < lo || m > hi) continue;
        const l = 4 * c;
        if (loc[l + 3] !== 1) throw new Error(`unsupported chunk encoding ${loc[l + 3]}`);
        decodeXorInto(s.bufs[loc[l]!]!, loc[l + 1]!, loc[l + 2]!, lo, hi, buf);
      }
    }
  }
}
