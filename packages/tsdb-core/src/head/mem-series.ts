import { XorAppender } from '../chunkenc/xor';
import type { ChunkData } from '../ingest';
import type { SeriesKey } from '../series-key';

export const SAMPLES_PER_CHUNK = 120;
export const ENCODING_XOR = 1;

export enum AppendStatus {
  OK = 0,
  /** Same timestamp and same value as the last sample: dropped silently. */
  DUPLICATE = 1,
  OUT_OF_ORDER = 2,
  DUPLICATE_TIMESTAMP = 3,
}

/**
 * One in-memory series: its key, an open XOR chunk and the closed chunks. Chunks are cut at
 * 120 samples and at `chunkRange`-aligned boundaries so that no chunk straddles a block.
 */
export class MemSeries {
  head: XorAppender | null = null;
  closed: ChunkData[] | null = null;
  lastT = -Infinity;
  lastHi = 0;
  lastLo = 0;
  private chunkEnd = -Infinity;

  constructor(
    readonly ref: number,
    readonly key: SeriesKey,
  ) {}

  append(t: number, hi: number, lo: number, chunkRange: number): AppendStatus {
    if (t <= this.lastT) {
      if (t < this.lastT) return AppendStatus.OUT_OF_ORDER;
      return hi === this.lastHi && lo === this.lastLo ? AppendStatus.DUPLICATE : AppendStatus.DUPLICATE_TIMESTAMP;
    }
    let h = this.head;
    if (h === null || h.numSamples() >= SAMPLES_PER_CHUNK || t >= this.chunkEnd) {
      if (h !== null) this.closeHead();
      h = this.head = new XorAppender();
      this.chunkEnd = (Math.floor(t / chunkRange) + 1) * chunkRange;
    }
    h.append(t, hi, lo);
    this.lastT = t;
    this.lastHi = hi;
    this.lastLo = lo;
    return AppendStatus.OK;
  }

  private closeHead(): void {
    const h = this.head!;
    const data = h.bytes().slice();
    (this.closed ??= []).push({ mint: h.minTime(), maxt: h.maxTime(), encoding: ENCODING_XOR, data });
    this.head = null;
  }

  /** Chunks overlapping [mint, maxt]; the open chunk is copied so later appends don't show. */
  chunks(mint: number, maxt: number): ChunkData[] {
    const out: ChunkData[] = [];
    if (this.closed !== null) {
      for (const c of this.closed) if (c.maxt >= mint && c.mint <= maxt) out.push(c);
    }
    const h = this.head;
    if (h !== null && h.numSamples() > 0 && h.maxTime() >= mint && h.minTime() <= maxt) {
      out.push({ mint: h.minTime(), maxt: h.maxTime(), encoding: ENCODING_XOR, data: h.bytes().slice() });
    }
    return out;
  }

  /** Closed chunks plus a copy of the open one, all within [mint, maxt) (for cutting a block). */
  chunksInRange(mint: number, maxt: number): ChunkData[] {
    return this.chunks(mint, maxt - 1).filter((c) => c.mint >= mint && c.maxt < maxt);
  }

  /** Drops chunks that end before `mint`. Returns true if the series holds no data any more. */
  truncateBefore(mint: number): boolean {
    if (this.closed !== null) {
      this.closed = this.closed.filter((c) => c.maxt >= mint);
      if (this.closed.length === 0) this.closed = null;
    }
    if (this.head !== null && this.head.numSamples() > 0 && this.head.maxTime() < mint) this.head = null;
    return this.closed === null && this.head === null;
  }

  minTime(): number {
    if (this.closed !== null && this.closed.length > 0) return this.closed[0]!.mint;
    return this.head !== null && this.head.numSamples() > 0 ? this.head.minTime() : Infinity;
  }
}
