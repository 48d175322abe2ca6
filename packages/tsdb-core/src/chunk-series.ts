import { XorIterator } from './chunkenc/xor';
import type { ChunkData } from './ingest';
import type { Labels } from './labels';
import type { SampleIterator, Series } from './querier';
import type { SampleBuffer } from './sample-buffer';

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
    let dec: XorIterator | null = null;
    for (const c of this.chunks) {
      if (c.maxt < lo || c.mint > hi) continue;
      if (c.encoding !== 1) throw new Error(`unsupported chunk encoding ${c.encoding}`);
      if (dec === null) dec = new XorIterator(c.data);
      else dec.reset(c.data);
      buf.ensure(dec.numSamples());
      while (dec.next()) {
        const t = dec.t;
        if (t < lo) continue;
        if (t > hi) break;
        if (dec.stale) buf.pushStale(t);
        else buf.push(t, dec.v);
      }
    }
  }
}
