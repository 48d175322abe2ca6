/**
 * Reader of chunk segment files (docs formats.md §4.3). Each record is verified against its CRC32C.
 * Reads of chunks that lie close together in one segment are coalesced.
 */
import { crc32c } from '../crc32c';
import type { ByteSource } from './byte-source';
import { BlockCorruptionError } from './errors';
import {
  CHUNKS_FORMAT_VERSION,
  CHUNKS_HEADER_LEN,
  CHUNKS_MAGIC,
  MAX_CHUNK_LEN_FIELD,
  chunkRefOffset,
  chunkRefSegment,
  chunkSegmentName,
} from './format';

/** A chunk as stored: encoding byte and data (without length and CRC). */
export interface ChunkRecord {
  encoding: number;
  data: Uint8Array;
}

/** Bytes read for a chunk whose length is not known yet (covers a 120-sample XOR chunk). */
const CHUNK_WINDOW = 2048;
const MAX_GAP = 16 * 1024;
const MAX_SPAN = 8 * 1024 * 1024;

export class ChunkReader {
  private readonly sizes: (Promise<number> | undefined)[] = [];
  private readonly names: readonly string[];

  /**
   * `segments` in chunk-reference order (the sorted chunks/ listing); `names` name them in error
   * messages (default "chunks/000001", ...).
   */
  constructor(
    private readonly segments: readonly ByteSource[],
    names?: readonly string[],
  ) {
    this.names = names ?? segments.map((_, i) => `chunks/${chunkSegmentName(i)}`);
  }

  get numSegments(): number {
    return this.segments.length;
  }

  private corrupt(seg: number, offset: number, msg: string): BlockCorruptionError {
    return new BlockCorruptionError(`chunk segment ${this.names[seg] ?? seg} offset ${offset}: ${msg}`);
  }

  /** Size of a segment, after checking its header once. */
  private segmentSize(seg: number): Promise<number> {
    let p = this.sizes[seg];
    if (p === undefined) {
      p = this.checkHeader(seg);
      this.sizes[seg] = p;
      // A failed check is retried on the next call (it may have been an I/O error).
      p.catch(() => {
        if (this.sizes[seg] === p) this.sizes[seg] = undefined;
      });
    }
    return p;
  }

  private async checkHeader(seg: number): Promise<number> {
    const src = this.segments[seg]!;
    const size = await src.size();
    if (size < CHUNKS_HEADER_LEN) throw this.corrupt(seg, 0, `file of ${size} bytes is too short for a segment header`);
    const h = await src.read(0, CHUNKS_HEADER_LEN);
    const magic = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
    if (magic !== CHUNKS_MAGIC) throw this.corrupt(seg, 0, `bad magic 0x${magic.toString(16)} (want 0x${CHUNKS_MAGIC.toString(16)})`);
    if (h[4] !== CHUNKS_FORMAT_VERSION) throw this.corrupt(seg, 4, `unsupported chunks format version ${h[4]}`);
    return size;
  }

  /** Validates a reference and returns [segment, offset, segment size]. */
  private async locate(ref: number): Promise<[number, number, number]> {
    const seg = this.refSegment(ref);
    return this.locateIn(ref, seg, await this.segmentSize(seg));
  }

  private refSegment(ref: number): number {
    if (!Number.isSafeInteger(ref) || ref < 0) throw new BlockCorruptionError(`invalid chunk ref ${ref}`);
    const seg = chunkRefSegment(ref);
    if (seg >= this.segments.length) {
      throw new BlockCorruptionError(`chunk ref 0x${ref.toString(16)}: segment index ${seg} does not exist (${this.segments.length} segments)`);
    }
    return seg;
  }

  private locateIn(ref: number, seg: number, size: number): [number, number, number] {
    const off = chunkRefOffset(ref);
    if (off < CHUNKS_HEADER_LEN || off + MAX_CHUNK_LEN_FIELD > size) {
      throw this.corrupt(seg, off, `chunk ref 0x${ref.toString(16)} points outside the segment (size ${size})`);
    }
    return [seg, off, size];
  }

  /**
   * Decodes the record at b[pos] (file offset `off`); null when b ends before the record does.
   * `copy` detaches the data from b.
   */
  private decode(b: Uint8Array, pos: number, seg: number, off: number, size: number, copy: boolean): ChunkRecord | null {
    let len = 0;
    let shift = 0;
    let i = pos;
    for (;;) {
      if (i >= b.length) {
        if (off + (i - pos) >= size) throw this.corrupt(seg, off, 'truncated chunk length');
        return null;
      }
      const c = b[i++]!;
      if (i - pos > MAX_CHUNK_LEN_FIELD) throw this.corrupt(seg, off, 'chunk length varint is too long');
      len += (c & 0x7f) * 2 ** shift;
      shift += 7;
      if (c < 0x80) break;
    }
    const hdr = i - pos;
    if (off + hdr + 1 + len + 4 > size) throw this.corrupt(seg, off, `chunk length ${len} runs past the end of the segment (size ${size})`);
    if (i + 1 + len + 4 > b.length) return null;
    const encStart = i;
    const dataEnd = i + 1 + len;
    const want = ((b[dataEnd]! << 24) | (b[dataEnd + 1]! << 16) | (b[dataEnd + 2]! << 8) | b[dataEnd + 3]!) >>> 0;
    const got = crc32c(b, encStart, dataEnd);
    if (want !== got) {
      throw this.corrupt(seg, off, `chunk checksum mismatch (stored 0x${want.toString(16)}, computed 0x${got.toString(16)})`);
    }
    const data = copy ? b.slice(encStart + 1, dataEnd) : b.subarray(encStart + 1, dataEnd);
    return { encoding: b[encStart]!, data };
  }

  /** Reads one chunk. */
  async chunk(ref: number): Promise<ChunkRecord> {
    const [seg, off, size] = await this.locate(ref);
    const src = this.segments[seg]!;
    const b = await src.read(off, Math.min(CHUNK_WINDOW, size - off));
    return this.decode(b, 0, seg, off, size, true) ?? this.exact(seg, off, size, b);
  }

  private async exact(seg: number, off: number, size: number, head: Uint8Array): Promise<ChunkRecord> {
    let len = 0;
    let shift = 0;
    let i = 0;
    for (;;) {
      const c = head[i++];
      if (c === undefined || i > MAX_CHUNK_LEN_FIELD) throw this.corrupt(seg, off, 'invalid chunk length');
      len += (c & 0x7f) * 2 ** shift;
      shift += 7;
      if (c < 0x80) break;
    }
    const total = i + 1 + len + 4;
    if (off + total > size) throw this.corrupt(seg, off, `chunk length ${len} runs past the end of the segment (size ${size})`);
    const b = await this.segments[seg]!.read(off, total);
    const r = this.decode(b, 0, seg, off, size, false);
    if (r === null) throw this.corrupt(seg, off, 'truncated chunk');
    return r;
  }

  /**
   * Reads many chunks (results in the order of `refs`), one ranged read per group of nearby chunks.
   * The returned data may be views into a shared read buffer.
   */
  async chunks(refs: readonly number[]): Promise<ChunkRecord[]> {
    const n = refs.length;
    const segOf = new Int32Array(n);
    const sizeOf = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const seg = this.refSegment(refs[i]!);
      segOf[i] = seg;
      if (!sizeOf.has(seg)) sizeOf.set(seg, -1);
    }
    for (const seg of sizeOf.keys()) sizeOf.set(seg, await this.segmentSize(seg));
    const offs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const seg = segOf[i]!;
      offs[i] = this.locateIn(refs[i]!, seg, sizeOf.get(seg)!)[1];
    }
    const order = new Uint32Array(n);
    let sorted = true;
    for (let i = 0; i < n; i++) {
      order[i] = i;
      if (i > 0 && refs[i]! < refs[i - 1]!) sorted = false;
    }
    if (!sorted) order.sort((a, b) => refs[a]! - refs[b]!);
    const out = new Array<ChunkRecord>(n);
    let i = 0;
    while (i < n) {
      const seg = segOf[order[i]!]!;
      const size = sizeOf.get(seg)!;
      const start = offs[order[i]!]!;
      let last = start;
      let j = i + 1;
      while (j < n) {
        const o2 = offs[order[j]!]!;
        if (segOf[order[j]!] !== seg || o2 - last > MAX_GAP || o2 - start > MAX_SPAN) break;
        last = o2;
        j++;
      }
      const end = Math.min(last + CHUNK_WINDOW, size);
      const b = await this.segments[seg]!.read(start, end - start);
      for (let k = i; k < j; k++) {
        const idx = order[k]!;
        const off = offs[idx]!;
        out[idx] = this.decode(b, off - start, seg, off, size, false) ?? (await this.exact(seg, off, size, b.subarray(off - start)));
      }
      i = j;
    }
    return out;
  }
}
