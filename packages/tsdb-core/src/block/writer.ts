/**
 * Writes a Prometheus TSDB block (docs formats.md §4): chunks/NNNNNN segments, index v2, an empty
 * tombstones file and meta.json with a Thanos section, into `<parent>/<ULID>.tmp-for-creation/`,
 * then renames the directory to `<parent>/<ULID>`.
 *
 * The input is consumed once, as a stream: chunk data goes to the segment files right away and only
 * label sets and chunk (mint, maxt, ref) triples are kept until the index is written, because the
 * symbol table must come first in the index and needs every label string.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ByteWriter, uvarintSize } from '../encoding';
import { crc32c } from '../crc32c';
import type { ChunkData } from '../ingest';
import { compareLabels, compareStrings, labelsToString, type Labels } from '../labels';
import { isULID, newULID } from '../ulid';
import { BufferedFileWriter, FLUSH_AT, syncDir } from './file-writer';
import {
  CHUNKS_DIRNAME,
  CHUNKS_FORMAT_VERSION,
  CHUNKS_HEADER_LEN,
  CHUNKS_MAGIC,
  DEFAULT_SEGMENT_SIZE,
  ENCODING_FLOAT_HISTOGRAM,
  ENCODING_HISTOGRAM,
  ENCODING_XOR,
  INDEX_FILENAME,
  INDEX_MAGIC,
  INDEX_VERSION,
  SERIES_ALIGNMENT,
  TMP_FOR_CREATION_SUFFIX,
  TOMBSTONES_FILENAME,
  TOMBSTONES_MAGIC,
  TOMBSTONES_VERSION,
  chunkRef,
  chunkSegmentName,
} from './format';
import { META_FILENAME, encodeMeta, type BlockDesc, type BlockMeta, type ThanosFile } from './meta';

/** One series to write: labels sorted by name, chunks in time order and not overlapping. */
export interface BlockSeries {
  labels: Labels;
  chunks: readonly ChunkData[];
}

export interface WriteBlockOptions {
  /** Inclusive lower bound of every sample (ms). */
  minTime: number;
  /** Exclusive upper bound of every sample (ms). */
  maxTime: number;
  /** Defaults to a new ULID for the current time. */
  ulid?: string;
  /** Compaction level; default 1. */
  level?: number;
  /** Default [ulid]. */
  sources?: string[];
  parents?: BlockDesc[];
  /** The Thanos section; always written (labels {}, resolution 0, source "receive" by default). */
  thanos?: { labels?: Record<string, string>; resolution?: number; source?: string };
  /** Cut a new chunk segment file before it would grow past this many bytes; default 512 MiB. */
  segmentSize?: number;
}

export class BlockWriteError extends Error {
  override readonly name = 'BlockWriteError';
}

const MAX_U32 = 0xffffffff;

/** A growable Float64Array. */
class F64List {
  a = new Float64Array(1024);
  length = 0;

  push(v: number): void {
    if (this.length === this.a.length) {
      const n = new Float64Array(this.a.length * 2);
      n.set(this.a);
      this.a = n;
    }
    this.a[this.length++] = v;
  }
}

/** Writes chunk records into numbered segment files. */
class ChunkSegmentsWriter {
  private seg: BufferedFileWriter | null = null;
  private segIndex = -1;
  /** Sizes of the finished segment files. */
  readonly sizes: number[] = [];

  constructor(
    private readonly dir: string,
    private readonly segmentSize: number,
  ) {}

  /** Appends one chunk record and returns its reference. */
  async write(c: ChunkData): Promise<number> {
    const ref = this.tryAppend(c);
    if (ref >= 0) return ref;
    const len = c.data.length;
    const recLen = uvarintSize(len) + 1 + len + 4;
    let s = this.seg;
    if (s === null || (s.pos > CHUNKS_HEADER_LEN && s.pos + recLen > this.segmentSize)) s = await this.cut();
    const off = s.pos;
    if (off > MAX_U32) throw new BlockWriteError(`chunk segment ${chunkSegmentName(this.segIndex)}: offset ${off} does not fit 32 bits`);
    s.w.putUvarint(len);
    s.startCrc();
    s.w.putByte(c.encoding);
    await s.write(c.data);
    s.w.putBE32(s.endCrc());
    await s.maybeFlush();
    return chunkRef(this.segIndex, off);
  }

  /**
   * The common case without I/O: appends the record to the open segment's buffer when it fits in
   * the segment and the buffer has room. Returns the reference, or -1 (then call `write`).
   */
  tryAppend(c: ChunkData): number {
    const s = this.seg;
    if (s === null) return -1;
    const len = c.data.length;
    const recLen = uvarintSize(len) + 1 + len + 4;
    const off = s.pos;
    if ((off > CHUNKS_HEADER_LEN && off + recLen > this.segmentSize) || s.w.length + recLen > FLUSH_AT) return -1;
    const w = s.w;
    w.putUvarint(len);
    const encAt = w.length;
    w.putByte(c.encoding);
    w.putBytes(c.data);
    w.putBE32(crc32c(w.bytes(), encAt, w.length));
    return chunkRef(this.segIndex, off);
  }

  private async cut(): Promise<BufferedFileWriter> {
    await this.finish();
    this.segIndex++;
    const s = await BufferedFileWriter.create(path.join(this.dir, chunkSegmentName(this.segIndex)));
    this.seg = s;
    s.w.putBE32(CHUNKS_MAGIC);
    s.w.putByte(CHUNKS_FORMAT_VERSION);
    s.w.putZeros(3);
    return s;
  }

  /** Closes (and fsyncs) the open segment. */
  async finish(): Promise<void> {
    const s = this.seg;
    if (s === null) return;
    this.seg = null;
    this.sizes.push(s.pos);
    await s.close();
  }

  async abort(): Promise<void> {
    await this.seg?.abort();
    this.seg = null;
  }
}

function checkSeries(s: BlockSeries, prev: Labels | undefined, minTime: number, maxTime: number): void {
  const ls = s.labels;
  if (ls.length === 0) throw new BlockWriteError('series with an empty label set');
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i]!;
    if (l.name === '' || l.value === '') {
      throw new BlockWriteError(`series ${labelsToString(ls)}: empty label name or value`);
    }
    if (i > 0 && compareStrings(ls[i - 1]!.name, l.name) >= 0) {
      throw new BlockWriteError(`series ${labelsToString(ls)}: labels are not sorted by name or have duplicate names`);
    }
  }
  if (prev !== undefined && compareLabels(prev, ls) >= 0) {
    throw new BlockWriteError(
      `series are not sorted by labels: ${labelsToString(ls)} comes after ${labelsToString(prev)}` +
        (compareLabels(prev, ls) === 0 ? ' (duplicate)' : ''),
    );
  }
  let prevMaxt = -Infinity;
  for (const c of s.chunks) {
    if (!Number.isSafeInteger(c.mint) || !Number.isSafeInteger(c.maxt) || c.mint > c.maxt) {
      throw new BlockWriteError(`series ${labelsToString(ls)}: invalid chunk time range [${c.mint}, ${c.maxt}]`);
    }
    if (c.mint <= prevMaxt) {
      throw new BlockWriteError(`series ${labelsToString(ls)}: chunk [${c.mint}, ${c.maxt}] overlaps or precedes the previous chunk (maxt ${prevMaxt})`);
    }
    if (c.mint < minTime || c.maxt >= maxTime) {
      throw new BlockWriteError(`series ${labelsToString(ls)}: chunk [${c.mint}, ${c.maxt}] is outside the block range [${minTime}, ${maxTime})`);
    }
    if (c.encoding !== ENCODING_XOR && c.encoding !== ENCODING_HISTOGRAM && c.encoding !== ENCODING_FLOAT_HISTOGRAM) {
      throw new BlockWriteError(`series ${labelsToString(ls)}: unsupported chunk encoding ${c.encoding}`);
    }
    if (c.data.length < 2) throw new BlockWriteError(`series ${labelsToString(ls)}: chunk of ${c.data.length} bytes has no header`);
    prevMaxt = c.maxt;
  }
}

interface Collected {
  labels: Labels[];
  /** Chunks of series i are [chunkStart[i], chunkStart[i+1]) in mints/maxts/refs. */
  chunkStart: number[];
  mints: F64List;
  maxts: F64List;
  refs: F64List;
  symbols: Set<string>;
  numFloatSamples: number;
  numHistogramSamples: number;
}

async function writeChunks(
  input: Iterable<BlockSeries> | AsyncIterable<BlockSeries>,
  cw: ChunkSegmentsWriter,
  minTime: number,
  maxTime: number,
): Promise<Collected> {
  const col: Collected = {
    labels: [],
    chunkStart: [0],
    mints: new F64List(),
    maxts: new F64List(),
    refs: new F64List(),
    symbols: new Set(),
    numFloatSamples: 0,
    numHistogramSamples: 0,
  };
  let prev: Labels | undefined;
  const record = (c: ChunkData, ref: number): void => {
    col.mints.push(c.mint);
    col.maxts.push(c.maxt);
    col.refs.push(ref);
    const n = (c.data[0]! << 8) | c.data[1]!;
    if (c.encoding === ENCODING_XOR) col.numFloatSamples += n;
    else col.numHistogramSamples += n;
  };
  const finish = async (s: BlockSeries, from: number): Promise<void> => {
    for (let i = from; i < s.chunks.length; i++) {
      const c = s.chunks[i]!;
      let ref = cw.tryAppend(c);
      if (ref < 0) ref = await cw.write(c);
      record(c, ref);
    }
    col.chunkStart.push(col.mints.length);
  };
  // Synchronous unless a chunk needs I/O (a flush or a new segment), so that array input does not
  // cost a promise per series.
  const add = (s: BlockSeries): Promise<void> | undefined => {
    checkSeries(s, prev, minTime, maxTime);
    prev = s.labels;
    col.labels.push(s.labels);
    for (const l of s.labels) {
      col.symbols.add(l.name);
      col.symbols.add(l.value);
    }
    for (let i = 0; i < s.chunks.length; i++) {
      const c = s.chunks[i]!;
      const ref = cw.tryAppend(c);
      if (ref < 0) return finish(s, i);
      record(c, ref);
    }
    col.chunkStart.push(col.mints.length);
    return undefined;
  };
  if (Symbol.asyncIterator in input) {
    for await (const s of input) await add(s);
  } else {
    for (const s of input) {
      const p = add(s);
      if (p !== undefined) await p;
    }
  }
  return col;
}

/** Writes a len-prefixed, CRC-suffixed index section whose body `body` appends. */
async function section(f: BufferedFileWriter, what: string, body: () => Promise<void>): Promise<void> {
  const lenPos = f.pos;
  f.w.putBE32(0);
  f.startCrc();
  await body();
  const crc = f.endCrc();
  const len = f.pos - lenPos - 4;
  if (len > MAX_U32) throw new BlockWriteError(`index ${what} section is ${len} bytes, more than 4 GiB`);
  await f.patchBE32(lenPos, len);
  f.w.putBE32(crc);
}

async function writeIndex(file: string, col: Collected): Promise<number> {
  const symbols = [...col.symbols].sort(compareStrings);
  col.symbols.clear();
  const symbolIds = new Map<string, number>();
  for (let i = 0; i < symbols.length; i++) symbolIds.set(symbols[i]!, i);

  const f = await BufferedFileWriter.create(file);
  try {
    const toc = { symbols: 0, series: 0, labelIndices: 0, labelIndicesTable: 0, postings: 0, postingsTable: 0 };
    f.w.putBE32(INDEX_MAGIC);
    f.w.putByte(INDEX_VERSION);

    // Symbol table.
    toc.symbols = f.pos;
    await section(f, 'symbol table', async () => {
      f.w.putBE32(symbols.length);
      for (const s of symbols) {
        f.w.putUvarintString(s);
        if (f.w.length >= FLUSH_AT) await f.flush();
      }
    });

    // Series, padded to 16 bytes; ref = offset / 16. Postings are collected by symbol ids, whose
    // numeric order is the strings' byte order.
    toc.series = f.pos;
    const postings = new Map<number, Map<number, number[]>>();
    const all: number[] = [];
    const body = new ByteWriter(256);
    const { mints, maxts, refs } = col;
    for (let i = 0; i < col.labels.length; i++) {
      f.pad(SERIES_ALIGNMENT);
      const id = f.pos / SERIES_ALIGNMENT;
      if (id > MAX_U32) throw new BlockWriteError('index: series section exceeds 64 GiB');
      all.push(id);
      const ls = col.labels[i]!;
      body.reset();
      body.putUvarint(ls.length);
      for (const l of ls) {
        const n = symbolIds.get(l.name)!;
        const v = symbolIds.get(l.value)!;
        body.putUvarint(n);
        body.putUvarint(v);
        let byValue = postings.get(n);
        if (byValue === undefined) postings.set(n, (byValue = new Map()));
        const list = byValue.get(v);
        if (list === undefined) byValue.set(v, [id]);
        else list.push(id);
      }
      const c0 = col.chunkStart[i]!;
      const c1 = col.chunkStart[i + 1]!;
      body.putUvarint(c1 - c0);
      for (let c = c0; c < c1; c++) {
        const mint = mints.a[c]!;
        const maxt = maxts.a[c]!;
        const ref = refs.a[c]!;
        if (c === c0) {
          body.putVarint(mint);
          body.putUvarint(maxt - mint);
          body.putUvarint(ref);
        } else {
          body.putUvarint(mint - maxts.a[c - 1]!);
          body.putUvarint(maxt - mint);
          body.putVarint(ref - refs.a[c - 1]!);
        }
      }
      const b = body.bytes();
      f.w.putUvarint(b.length);
      f.w.putBytes(b);
      f.w.putBE32(crc32c(b));
      if (f.w.length >= FLUSH_AT) await f.flush();
    }
    col.labels.length = 0; // no longer needed; let the caller's label sets go

    // No legacy label indices (as Prometheus >= 3.7): both TOC entries point at where they would be.
    toc.labelIndices = f.pos;
    toc.postings = f.pos;

    // Postings lists, each 4-byte aligned: the all-postings list first, then by name and value.
    const offsets: number[] = [];
    const writeList = async (ids: number[]): Promise<void> => {
      f.pad(4);
      offsets.push(f.pos);
      f.w.putBE32(4 + 4 * ids.length);
      f.startCrc();
      f.w.putBE32(ids.length);
      for (let k = 0; k < ids.length; k++) {
        f.w.putBE32(ids[k]!);
        if ((k & 0xfff) === 0xfff) if (f.w.length >= FLUSH_AT) await f.flush();
      }
      f.w.putBE32(f.endCrc());
      if (f.w.length >= FLUSH_AT) await f.flush();
    };
    await writeList(all);
    const names = [...postings.keys()].sort((a, b) => a - b);
    const valuesByName = names.map((n) => [...postings.get(n)!.keys()].sort((a, b) => a - b));
    for (let i = 0; i < names.length; i++) {
      const byValue = postings.get(names[i]!)!;
      for (const v of valuesByName[i]!) await writeList(byValue.get(v)!);
      postings.delete(names[i]!);
    }

    // Postings offset table, sorted like the lists.
    toc.labelIndicesTable = f.pos;
    toc.postingsTable = f.pos;
    await section(f, 'postings offset table', async () => {
      f.w.putBE32(offsets.length);
      let k = 0;
      f.w.putUvarint(2);
      f.w.putUvarintString('');
      f.w.putUvarintString('');
      f.w.putUvarint(offsets[k++]!);
      for (let i = 0; i < names.length; i++) {
        const name = symbols[names[i]!]!;
        for (const v of valuesByName[i]!) {
          f.w.putUvarint(2);
          f.w.putUvarintString(name);
          f.w.putUvarintString(symbols[v]!);
          f.w.putUvarint(offsets[k++]!);
          if (f.w.length >= FLUSH_AT) await f.flush();
        }
      }
    });

    // TOC.
    f.startCrc();
    f.w.putBE64(toc.symbols);
    f.w.putBE64(toc.series);
    f.w.putBE64(toc.labelIndices);
    f.w.putBE64(toc.labelIndicesTable);
    f.w.putBE64(toc.postings);
    f.w.putBE64(toc.postingsTable);
    f.w.putBE32(f.endCrc());
    const size = f.pos;
    await f.close();
    return size;
  } catch (e) {
    await f.abort();
    throw e;
  }
}

async function writeSmallFile(file: string, data: Uint8Array | string): Promise<void> {
  const fh = await fsp.open(file, 'wx');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** An empty tombstones file: magic, version, CRC32C of no entries (0). */
function emptyTombstones(): Uint8Array {
  const w = new ByteWriter(9);
  w.putBE32(TOMBSTONES_MAGIC);
  w.putByte(TOMBSTONES_VERSION);
  w.putBE32(0);
  return w.bytes().slice();
}

/**
 * Writes a block from series sorted by labels (throws on unsorted or duplicate series, overlapping
 * chunks, or samples outside [minTime, maxTime)). Returns its meta.json contents.
 */
export async function writeBlock(
  parentDir: string,
  series: Iterable<BlockSeries> | AsyncIterable<BlockSeries>,
  opts: WriteBlockOptions,
): Promise<BlockMeta> {
  const { minTime, maxTime } = opts;
  if (!Number.isSafeInteger(minTime) || !Number.isSafeInteger(maxTime) || minTime > maxTime) {
    throw new BlockWriteError(`invalid block range [${minTime}, ${maxTime})`);
  }
  const ulid = opts.ulid ?? newULID();
  if (!isULID(ulid)) throw new BlockWriteError(`invalid block ULID ${JSON.stringify(ulid)}`);
  const segmentSize = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  if (!Number.isSafeInteger(segmentSize) || segmentSize <= CHUNKS_HEADER_LEN || segmentSize > MAX_U32) {
    throw new BlockWriteError(`invalid segmentSize ${segmentSize}`);
  }
  const level = opts.level ?? 1;
  if (!Number.isSafeInteger(level) || level < 1) throw new BlockWriteError(`invalid compaction level ${level}`);
  for (const id of [...(opts.sources ?? []), ...(opts.parents ?? []).map((p) => p.ulid)]) {
    if (!isULID(id)) throw new BlockWriteError(`invalid source or parent ULID ${JSON.stringify(id)}`);
  }

  const finalDir = path.join(parentDir, ulid);
  const tmpDir = finalDir + TMP_FOR_CREATION_SUFFIX;
  await fsp.rm(tmpDir, { recursive: true, force: true });
  const chunksDir = path.join(tmpDir, CHUNKS_DIRNAME);
  await fsp.mkdir(chunksDir, { recursive: true });

  const cw = new ChunkSegmentsWriter(chunksDir, segmentSize);
  try {
    let col: Collected;
    try {
      col = await writeChunks(series, cw, minTime, maxTime);
      await cw.finish();
    } catch (e) {
      await cw.abort();
      throw e;
    }
    const numSeries = col.labels.length;
    const numChunks = col.mints.length;
    const indexSize = await writeIndex(path.join(tmpDir, INDEX_FILENAME), col);
    await writeSmallFile(path.join(tmpDir, TOMBSTONES_FILENAME), emptyTombstones());

    const files: ThanosFile[] = cw.sizes.map((size, i) => ({ rel_path: `${CHUNKS_DIRNAME}/${chunkSegmentName(i)}`, size_bytes: size }));
    files.push({ rel_path: INDEX_FILENAME, size_bytes: indexSize });
    files.push({ rel_path: META_FILENAME });
    files.sort((a, b) => compareStrings(a.rel_path, b.rel_path));
    const meta: BlockMeta = {
      ulid,
      minTime,
      maxTime,
      stats: {
        numSamples: col.numFloatSamples + col.numHistogramSamples,
        numFloatSamples: col.numFloatSamples,
        numHistogramSamples: col.numHistogramSamples,
        numSeries,
        numChunks,
        numTombstones: 0,
      },
      compaction: { level, sources: opts.sources ?? [ulid], parents: opts.parents ?? [] },
      version: 1,
      thanos: {
        version: 1,
        labels: { ...(opts.thanos?.labels ?? {}) },
        downsample: { resolution: opts.thanos?.resolution ?? 0 },
        source: opts.thanos?.source ?? 'receive',
        files,
      },
    };
    await writeSmallFile(path.join(tmpDir, META_FILENAME), encodeMeta(meta));
    await syncDir(chunksDir);
    await syncDir(tmpDir);
    await fsp.rename(tmpDir, finalDir);
    await syncDir(parentDir);
    return meta;
  } catch (e) {
    await fsp.rm(tmpDir, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
}
