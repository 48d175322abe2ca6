/**
 * XOR chunks from samples and back, for tests that write or read blocks. Values are raw IEEE-754
 * bits so that NaN payloads (stale markers) compare exactly.
 */
import { XorAppender, XorIterator, floatToBits, type ChunkData } from '@strata/tsdb-core';

export interface BitsSample {
  t: number;
  hi: number;
  lo: number;
}

const F = new Uint32Array(2);

/** A sample of value `v` as its bits. */
export function bitsSample(t: number, v: number): BitsSample {
  floatToBits(v, F);
  return { t, hi: F[0]!, lo: F[1]! };
}

/** The samples cut into XOR chunks of `perChunk` samples. */
export function xorChunksOf(samples: readonly BitsSample[], perChunk = 120): ChunkData[] {
  const out: ChunkData[] = [];
  for (let i = 0; i < samples.length; i += perChunk) {
    const app = new XorAppender();
    for (const s of samples.slice(i, i + perChunk)) app.append(s.t, s.hi, s.lo);
    out.push({ mint: app.minTime(), maxt: app.maxTime(), encoding: 1, data: app.bytes().slice() });
  }
  return out;
}

/**
 * The samples of XOR chunks, in order. Throws when a chunk is not XOR or when its mint and maxt
 * are not the times of its first and last samples.
 */
export function samplesOfChunks(chunks: readonly ChunkData[]): BitsSample[] {
  const out: BitsSample[] = [];
  for (const c of chunks) {
    if (c.encoding !== 1) throw new Error(`chunk encoding ${c.encoding}, want 1 (XOR)`);
    const it = new XorIterator(c.data);
    const first = out.length;
    while (it.next()) out.push({ t: it.t, hi: it.hi, lo: it.lo });
    if (out.length > first && (out[first]!.t !== c.mint || out[out.length - 1]!.t !== c.maxt)) {
      throw new Error(`chunk [${c.mint}, ${c.maxt}] holds samples from ${out[first]!.t} to ${out[out.length - 1]!.t}`);
    }
  }
  return out;
}
