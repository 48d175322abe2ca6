/**
 * A compact, serialisable "index header": the parts of an index file that IndexReader.open reads
 * (format header, TOC, symbol table, postings offset table), copied byte for byte, so that a
 * querier can cache it (on local disk, in memory) and open a block in object storage without any
 * read, fetching only series and postings lazily afterwards.
 *
 * Layout (all big-endian): BE32 magic 0x5354_4948 ("STIH") | u8 version 1 | BE64 index file size |
 * 4 × (BE64 file offset | BE32 length | bytes) for [header, symbol table, postings offset table, TOC] |
 * BE32 CRC32C of everything before it.
 */
import { ByteReader, ByteWriter } from '../encoding';
import { crc32c } from '../crc32c';
import type { ByteSource } from './byte-source';
import { BlockCorruptionError } from './errors';
import { INDEX_HEADER_LEN, INDEX_TOC_LEN } from './format';
import { IndexReader } from './index-reader';

const HEADER_MAGIC = 0x53544948;
const HEADER_VERSION = 1;

interface Piece {
  off: number;
  bytes: Uint8Array;
}

/** Serves the cached pieces from memory and everything else from `inner`. */
class OverlaySource implements ByteSource {
  constructor(
    private readonly pieces: readonly Piece[],
    private readonly total: number,
    private readonly inner: ByteSource,
  ) {}

  async size(): Promise<number> {
    return this.total;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    for (const p of this.pieces) {
      if (offset >= p.off && offset + length <= p.off + p.bytes.length) {
        return Promise.resolve(p.bytes.subarray(offset - p.off, offset - p.off + length));
      }
    }
    return this.inner.read(offset, length);
  }
}

/** A section's full extent (length field, body, CRC) at `off`, read from `src`. */
async function sectionBytes(src: ByteSource, off: number, size: number, what: string): Promise<Uint8Array> {
  if (off + 8 > size) throw new BlockCorruptionError(`index: ${what} offset ${off} is outside the file`);
  const h = await src.read(off, 4);
  const len = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
  if (off + 8 + len > size) throw new BlockCorruptionError(`index: ${what} at ${off}: length ${len} runs past the end of the file`);
  return src.read(off, len + 8);
}

/** Reads the index header of the index in `src` (validating it by opening it). */
export async function buildIndexHeader(src: ByteSource): Promise<Uint8Array> {
  const ir = await IndexReader.open(src);
  const size = ir.size;
  const pieces: Piece[] = [
    { off: 0, bytes: await src.read(0, INDEX_HEADER_LEN) },
    { off: ir.toc.symbols, bytes: await sectionBytes(src, ir.toc.symbols, size, 'symbol table') },
    { off: ir.toc.postingsTable, bytes: await sectionBytes(src, ir.toc.postingsTable, size, 'postings offset table') },
    { off: size - INDEX_TOC_LEN, bytes: await src.read(size - INDEX_TOC_LEN, INDEX_TOC_LEN) },
  ];
  const w = new ByteWriter(pieces.reduce((a, p) => a + p.bytes.length + 12, 32));
  w.putBE32(HEADER_MAGIC);
  w.putByte(HEADER_VERSION);
  w.putBE64(size);
  for (const p of pieces) {
    w.putBE64(p.off);
    w.putBE32(p.bytes.length);
    w.putBytes(p.bytes);
  }
  w.putBE32(crc32c(w.bytes()));
  return w.bytes().slice();
}

/**
 * Opens an index from a header made by `buildIndexHeader` without reading `src`; series and
 * postings are then read from `src` as usual.
 */
export async function openIndexWithHeader(header: Uint8Array, src: ByteSource, file = 'index'): Promise<IndexReader> {
  const bad = (msg: string): BlockCorruptionError => new BlockCorruptionError(`${file} header: ${msg}`);
  if (header.length < 4 + 1 + 8 + 4) throw bad('too short');
  const end = header.length - 4;
  const want = ((header[end]! << 24) | (header[end + 1]! << 16) | (header[end + 2]! << 8) | header[end + 3]!) >>> 0;
  if (crc32c(header, 0, end) !== want) throw bad('checksum mismatch');
  const pieces: Piece[] = [];
  let size: number;
  try {
    const r = new ByteReader(header, 0, end);
    if (r.readBE32() !== HEADER_MAGIC) throw new Error('bad magic');
    const v = r.readByte();
    if (v !== HEADER_VERSION) throw new Error(`unsupported version ${v}`);
    size = r.readBE64();
    for (let i = 0; i < 4; i++) {
      const off = r.readBE64();
      const len = r.readBE32();
      pieces.push({ off, bytes: r.readBytes(len) });
    }
  } catch (e) {
    throw bad((e as Error).message);
  }
  return IndexReader.open(new OverlaySource(pieces, size, src), file);
}
