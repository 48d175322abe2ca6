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

/**
 * Where chunks are, for ChunkReader.chunksInto: chunk i's data is bytes [loc[4i+1], loc[4i+2]) of
 * bufs[loc[4i]], its encoding loc[4i+3] (one array, so that a chunk's location is one cache line).
 */
export interface ChunkColumns {
  loc: Uint32Array;
  bufs: Uint8Array[];
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
    return [seg, this.offsetIn(ref, seg, size), size];
  }

  /** The offset of a reference into segment `seg` of size `size`, validated. */
  private offsetIn(ref: number, seg: number, size: number): number {
    const off = chunkRefOffset(ref);
    if (off < CHUNKS_HEADER_LEN || off + MAX_CHUNK_LEN_FIELD > size) {
      throw this.corrupt(seg, off, `chunk ref 0x${ref.toString(16)} points outside the segment (size ${size})`);
    }
    return off;
  }

  /** Start of the data of the record last checked by recordAt. */
  private dataStart = 0;

  /**
   * Checks the record at b[pos] (file offset `off`): returns the end of its data in b, its start
   * going to `dataStart` and its encoding byte being b[dataStart - 1]; -1 when b ends before the
   * record does.
   */
  private recordAt(b: Uint8Array, pos: number, seg: number, off: number, size: number): number {
    let len = 0;
    let shift = 0;
    let i = pos;
    for (;;) {
      if (i >= b.length) {
        if (off + (i - pos) >= size) throw this.corrupt(seg, off, 'truncated chunk length');
        return -1;
      }
      const c = b[i++]!;
      if (i - pos > MAX_CHUNK_LEN_FIELD) throw this.corrupt(seg, off, 'chunk length varint is too long');
      len += (c & 0x7f) * 2 ** shift;
      shift += 7;
      if (c < 0x80) break;
    }
    const hdr = i - pos;
    if (off + hdr + 1 + len + 4 > size) throw this.corrupt(seg, off, `chunk length ${len} runs past the end of the segment (size ${size})`);
    if (i + 1 + len + 4 > b.length) return -1;
    const encStart = i;
    const dataEnd = i + 1 + len;
    const want = ((b[dataEnd]! << 24) | (b[dataEnd + 1]! << 16) | (b[dataEnd + 2]! << 8) | b[dataEnd + 3]!) >>> 0;
    const got = crc32c(b, encStart, dataEnd);
    if (want !== got) {
      throw this.corrupt(seg, off, `chunk checksum mismatch (stored 0x${want.toString(16)}, computed 0x${got.toString(16)})`);
    }
    this.dataStart = encStart + 1;
    return dataEnd;
  }

  /**
   * Decodes the record at b[pos] (file offset `off`); null when b ends before the record does.
   * `copy` detaches the data from b.
   */
  private decode(b: Uint8Array, pos: number, seg: number, off: number, size: number, copy: boolean): ChunkRecord | null {
    const dataEnd = this.recordAt(b, pos, seg, off, size);
    if (dataEnd < 0) return null;
    const start = this.dataStart;
    const data = copy ? b.slice(start, dataEnd) : b.subarray(start, dataEnd);
    return { encoding: b[start - 1]!, data };
  }

  /** Reads one chunk. */
  async chunk(ref: number): Promise<ChunkRecord> {
    const [seg, off, size] = await this.locate(ref);
    const src = this.segments[seg]!;
    const b = await src.read(off, Math.min(CHUNK_WINDOW, size - off));
    return this.decode(b, 0, seg, off, size, true) ?? this.exact(seg, off, size, b);
  }

  private async exact(seg: number, off: number, size: number, head: Uint8Array): Promise<ChunkRecord> {
    const b = await this.exactBytes(seg, off, size, head);
    const r = this.decode(b, 0, seg, off, size, false);
    if (r === null) throw this.corrupt(seg, off, 'truncated chunk');
    return r;
  }

  /** Reads the whole record at `off`, whose start is `head`. */
  private async exactBytes(seg: number, off: number, size: number, head: Uint8Array): Promise<Uint8Array> {
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
    return this.segments[seg]!.read(off, total);
  }

  /**
   * Reads many chunks (results in the order of `refs`), one ranged read per group of nearby chunks.
   * The returned data may be views into a shared read buffer.
   */
  async chunks(refs: readonly number[]): Promise<ChunkRecord[]> {
    const n = refs.length;
    const cols: ChunkColumns = { loc: new Uint32Array(4 * n), bufs: [] };
    await this.chunksInto(refs, n, cols);
    const loc = cols.loc;
    const out = new Array<ChunkRecord>(n);
    for (let i = 0; i < n; i++) out[i] = { encoding: loc[4 * i + 3]!, data: cols.bufs[loc[4 * i]!]!.subarray(loc[4 * i + 1]!, loc[4 * i + 2]!) };
    return out;
  }

  /**
   * Reads chunks refs[0, n) like chunks(), into `out` (whose loc must have room for n), without an
   * object per chunk: the read buffers are appended to out.bufs.
   */
  async chunksInto(refs: ArrayLike<number>, n: number, out: ChunkColumns): Promise<void> {
    // Validate every reference (and segment header) before reading any chunk.
    const sizeOf = new Map<number, number>();
    let prevSeg = -1;
    for (let i = 0; i < n; i++) {
      const seg = this.refSegment(refs[i]!);
      if (seg !== prevSeg && !sizeOf.has(seg)) sizeOf.set(seg, -1);
      prevSeg = seg;
    }
    for (const seg of sizeOf.keys()) sizeOf.set(seg, await this.segmentSize(seg));
    prevSeg = -1;
    let size = 0;
    for (let i = 0; i < n; i++) {
      const seg = chunkRefSegment(refs[i]!);
      if (seg !== prevSeg) {
        size = sizeOf.get(seg)!;
        prevSeg = seg;
      }
      this.offsetIn(refs[i]!, seg, size);
    }
    let order: Uint32Array | null = null;
    for (let i = 1; i < n; i++) {
      if (refs[i]! < refs[i - 1]!) {
        order = new Uint32Array(n);
        for (let k = 0; k < n; k++) order[k] = k;
        order.sort((a, b) => refs[a]! - refs[b]!);
        break;
      }
    }
    const bufs = out.bufs;
    const loc = out.loc;
    let i = 0;
    while (i < n) {
      const first = refs[order === null ? i : order[i]!]!;
      const seg = chunkRefSegment(first);
      const size = sizeOf.get(seg)!;
      const start = chunkRefOffset(first);
      let last = start;
      let j = i + 1;
      while (j < n) {
        const ref = refs[order === null ? j : order[j]!]!;
        const o2 = chunkRefOffset(ref);
        if (chunkRefSegment(ref) !== seg || o2 - last > MAX_GAP || o2 - start > MAX_SPAN) break;
        last = o2;
        j++;
      }
      const end = Math.min(last + CHUNK_WINDOW, size);
      const b = await this.segments[seg]!.read(start, end - start);
      const bi = bufs.length;
      bufs.push(b);
      for (let k = i; k < j; k++) {
        const idx = order === null ? k : order[k]!;
        const off = chunkRefOffset(refs[idx]!);
        let rb = b;
        let dataEnd = this.recordAt(b, off - start, seg, off, size);
        if (dataEnd >= 0) {
          loc[4 * idx] = bi;
        } else {
          rb = await this.exactBytes(seg, off, size, b.subarray(off - start));
          dataEnd = this.recordAt(rb, 0, seg, off, size);
          if (dataEnd < 0) throw this.corrupt(seg, off, 'truncated chunk');
          loc[4 * idx] = bufs.length;
          bufs.push(rb);
        }
        const ds = this.dataStart;
        loc[4 * idx + 1] = ds;
        loc[4 * idx + 2] = dataEnd;
        loc[4 * idx + 3] = rb[ds - 1]!;
      }
      i = j;
    }
  }
}
