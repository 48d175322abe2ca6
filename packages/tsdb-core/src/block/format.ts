/** Constants of the Prometheus TSDB block format (docs formats.md §4). */

export const INDEX_FILENAME = 'index';
export const CHUNKS_DIRNAME = 'chunks';
export const TOMBSTONES_FILENAME = 'tombstones';
export const TMP_FOR_CREATION_SUFFIX = '.tmp-for-creation';

export const INDEX_MAGIC = 0xbaaad700;
export const INDEX_VERSION = 2;
/** 6 × BE64 offsets + BE32 CRC. */
export const INDEX_TOC_LEN = 52;
export const INDEX_HEADER_LEN = 5;
/** Series entries start on multiples of this; a series ref is its offset divided by it. */
export const SERIES_ALIGNMENT = 16;

export const CHUNKS_MAGIC = 0x85bd40dd;
export const CHUNKS_FORMAT_VERSION = 1;
export const CHUNKS_HEADER_LEN = 8;
export const DEFAULT_SEGMENT_SIZE = 512 * 1024 * 1024;
/** Bytes a reader needs after a chunk's start to read its length (binary.MaxVarintLen32). */
export const MAX_CHUNK_LEN_FIELD = 5;

export const TOMBSTONES_MAGIC = 0x0130ba30;
export const TOMBSTONES_VERSION = 1;

export const ENCODING_XOR = 1;
export const ENCODING_HISTOGRAM = 2;
export const ENCODING_FLOAT_HISTOGRAM = 3;

const TWO_32 = 4294967296;

/** File name of the chunk segment with 0-based position `index` in the chunks/ listing: 0 → "000001". */
export function chunkSegmentName(index: number): string {
  return String(index + 1).padStart(6, '0');
}

/** Chunk reference: 0-based segment index in the high 32 bits, byte offset in the low 32 bits. */
export function chunkRef(segment: number, offset: number): number {
  return segment * TWO_32 + offset;
}

export function chunkRefSegment(ref: number): number {
  return Math.floor(ref / TWO_32);
}

export function chunkRefOffset(ref: number): number {
  return ref % TWO_32;
}
