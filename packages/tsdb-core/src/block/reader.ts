/**
 * A readable block: meta.json + index + chunk segments (+ tombstones), from a local directory or
 * from any ByteSources (e.g. ranged reads of objects in a bucket).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { XorAppender, XorIterator } from '../chunkenc/xor';
import type { ChunkData, SeriesChunks } from '../ingest';
import { compareStrings, type Label } from '../labels';
import type { Matcher } from '../matchers';
import { FileByteSource, type ByteSource } from './byte-source';
import { ChunkReader, type ChunkColumns } from './chunk-reader';
import { CHUNKS_DIRNAME, ENCODING_XOR, INDEX_FILENAME, TOMBSTONES_FILENAME } from './format';
import { IndexReader, type IndexReaderOptions, type SymbolPool } from './index-reader';
import { BlockMetaError, META_FILENAME, readMeta, type BlockMeta } from './meta';
import { decodeTombstones, type Interval, type Tombstones } from './tombstones';

type Closable = ByteSource & { close?: () => Promise<void> };

/**
 * The series of one block that Block.selectColumns selected, in flat columns so that a query over
 * many blocks allocates per block rather than per series and chunk. Series i (in label order) has
 * the labels [labelStart[i], labelStart[i+1]) with the name symbols[labelSyms[2k]] and the value
 * symbols[labelSyms[2k+1]], and the chunks [chunkStart[i], chunkStart[i+1]) in time order. Chunk c
 * spans [chunkTimes[2c], chunkTimes[2c+1]]; its data is bytes [chunkLoc[4c+1], chunkLoc[4c+2]) of
 * bufs[chunkLoc[4c]] and its encoding chunkLoc[4c+3]. Arrays may be longer than used.
 */
export interface BlockSelection {
  readonly symbols: readonly string[];
  readonly numSeries: number;
  readonly labelStart: Uint32Array;
  readonly labelSyms: Uint32Array;
  readonly chunkStart: Uint32Array;
  readonly chunkTimes: Float64Array;
  readonly chunkLoc: Uint32Array;
  readonly bufs: readonly Uint8Array[];
}

/** Chunk c of a selection as ChunkData (its data a view into the selection's buffers). */
export function selectionChunk(sel: BlockSelection, c: number): ChunkData {
  const loc = sel.chunkLoc;
  return {
    mint: sel.chunkTimes[2 * c]!,
    maxt: sel.chunkTimes[2 * c + 1]!,
    encoding: loc[4 * c + 3]!,
    data: sel.bufs[loc[4 * c]!]!.subarray(loc[4 * c + 1]!, loc[4 * c + 2]!),
  };
}

export interface BlockOptions {
  /** See IndexReaderOptions.symbolPool. */
  symbolPool?: SymbolPool;
}

function emptySelection(symbols: readonly string[]): BlockSelection {
  const z32 = new Uint32Array(1);
  return { symbols, numSeries: 0, labelStart: z32, labelSyms: z32, chunkStart: z32, chunkTimes: new Float64Array(0), chunkLoc: z32, bufs: [] };
}

/** The labels of series i of a selection, as objects. */
export function selectionLabels(sel: BlockSelection, i: number): Label[] {
  const syms = sel.symbols;
  const ls = sel.labelSyms;
  const a = sel.labelStart[i]!;
  const n = sel.labelStart[i + 1]! - a;
  const out = new Array<Label>(n);
  for (let k = 0, p = 2 * a; k < n; k++, p += 2) out[k] = { name: syms[ls[p]!]!, value: syms[ls[p + 1]!]! };
  return out;
}

/** Removes the samples of `c` inside the deleted intervals; null when none remain. */
function deleteSamples(c: ChunkData, ivs: readonly Interval[]): ChunkData | null {
  let overlaps = false;
  for (const iv of ivs) {
    if (iv.mint <= c.mint && iv.maxt >= c.maxt) return null;
    if (iv.mint <= c.maxt && iv.maxt >= c.mint) overlaps = true;
  }
  if (!overlaps) return c;
  if (c.encoding !== ENCODING_XOR) {
    throw new Error(`tombstones on chunks of encoding ${c.encoding} are not supported`);
  }
  const it = new XorIterator(c.data);
  const app = new XorAppender();
  while (it.next()) {
    const t = it.t;
    if (ivs.some((iv) => t >= iv.mint && t <= iv.maxt)) continue;
    app.append(t, it.hi, it.lo);
  }
  if (app.numSamples() === 0) return null;
  return { mint: app.minTime(), maxt: app.maxTime(), encoding: ENCODING_XOR, data: app.bytes().slice() };
}

/**
 * Applies tombstones to a selection: chunks with deleted samples are re-encoded (their data appended
 * to bufs), emptied chunks and series dropped.
 */
function applyTombstones(sel: BlockSelection, refs: Float64Array, tombstones: Tombstones): BlockSelection {
  const bufs = sel.bufs.slice();
  const labelStart: number[] = [0];
  const labelSyms: number[] = [];
  const chunkStart: number[] = [0];
  const times: number[] = [];
  const loc: number[] = [];
  let numSeries = 0;
  for (let i = 0; i < sel.numSeries; i++) {
    const ivs = tombstones.get(refs[i]!);
    const n0 = times.length;
    for (let c = sel.chunkStart[i]!; c < sel.chunkStart[i + 1]!; c++) {
      const chunk = selectionChunk(sel, c);
      const d = ivs === undefined ? chunk : deleteSamples(chunk, ivs);
      if (d === null) continue;
      times.push(d.mint, d.maxt);
      if (d === chunk) {
        for (let k = 4 * c; k < 4 * c + 4; k++) loc.push(sel.chunkLoc[k]!);
      } else {
        loc.push(bufs.length, 0, d.data.length, d.encoding);
        bufs.push(d.data);
      }
    }
    if (times.length === n0) continue;
    for (let p = 2 * sel.labelStart[i]!; p < 2 * sel.labelStart[i + 1]!; p++) labelSyms.push(sel.labelSyms[p]!);
    labelStart.push(labelSyms.length / 2);
    chunkStart.push(times.length / 2);
    numSeries++;
  }
  return {
    symbols: sel.symbols,
    numSeries,
    labelStart: Uint32Array.from(labelStart),
    labelSyms: Uint32Array.from(labelSyms),
    chunkStart: Uint32Array.from(chunkStart),
    chunkTimes: Float64Array.from(times),
    chunkLoc: Uint32Array.from(loc),
    bufs,
  };
}

export class Block {
  private closed = false;

  private constructor(
    readonly meta: BlockMeta,
    readonly index: IndexReader,
    readonly chunks: ChunkReader,
    readonly tombstones: Tombstones,
    private readonly sources: readonly Closable[],
  ) {}

  /** Opens a block directory `<dir>/{meta.json,index,chunks/*,tombstones}`. */
  static async open(dir: string): Promise<Block> {
    const metaPath = path.join(dir, META_FILENAME);
    let meta: BlockMeta;
    try {
      meta = readMeta(await fsp.readFile(metaPath));
    } catch (e) {
      if (e instanceof BlockMetaError) throw new BlockMetaError(`${metaPath}: ${e.message}`);
      throw e;
    }
    const opened: FileByteSource[] = [];
    try {
      const indexPath = path.join(dir, INDEX_FILENAME);
      const index = await FileByteSource.open(indexPath);
      opened.push(index);
      const chunksDir = path.join(dir, CHUNKS_DIRNAME);
      // As Prometheus: every file whose name is a decimal number, in name order.
      const names = (await fsp.readdir(chunksDir)).filter((n) => /^[0-9]+$/.test(n)).sort();
      for (const n of names) opened.push(await FileByteSource.open(path.join(chunksDir, n)));
      let tomb: Tombstones = new Map();
      const tombPath = path.join(dir, TOMBSTONES_FILENAME);
      try {
        tomb = decodeTombstones(await fsp.readFile(tombPath), tombPath);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      const ir = await IndexReader.open(index, indexPath);
      const cr = new ChunkReader(opened.slice(1), names.map((n) => path.join(chunksDir, n)));
      return new Block(meta, ir, cr, tomb, opened);
    } catch (e) {
      await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
      throw e;
    }
  }

  /**
   * A block over arbitrary sources. `segments` are the chunk files in name order; `index` is the
   * index file, or an IndexReader already opened on it (e.g. from a cached index header). Sources
   * with a `close()` method are closed by `close()`. `opts.symbolPool` applies when the index is
   * opened here.
   */
  static async fromSources(
    meta: BlockMeta,
    index: ByteSource | IndexReader,
    segments: ByteSource[],
    tombstones?: ByteSource,
    opts: BlockOptions = {},
  ): Promise<Block> {
    const iopts: IndexReaderOptions = { symbolPool: opts.symbolPool };
    const ir = index instanceof IndexReader ? index : await IndexReader.open(index, `block ${meta.ulid} index`, iopts);
    let tomb: Tombstones = new Map();
    if (tombstones !== undefined) {
      tomb = decodeTombstones(await tombstones.read(0, await tombstones.size()), `block ${meta.ulid} tombstones`);
    }
    const cr = new ChunkReader(segments, segments.map((_, i) => `block ${meta.ulid} chunks/${String(i + 1).padStart(6, '0')}`));
    const all: Closable[] = [...segments];
    if (!(index instanceof IndexReader)) all.push(index);
    if (tombstones !== undefined) all.push(tombstones);
    return new Block(meta, ir, cr, tomb, all);
  }

  get ulid(): string {
    return this.meta.ulid;
  }

  get minTime(): number {
    return this.meta.minTime;
  }

  /** Exclusive. */
  get maxTime(): number {
    return this.meta.maxTime;
  }

  private check(): void {
    if (this.closed) throw new Error(`block ${this.meta.ulid} is closed`);
  }

  /**
   * Series matching all matchers with their chunks overlapping [mint, maxt] (inclusive), chunk data
   * loaded, sorted by labels. Series without such chunks are left out. Tombstones are applied.
   */
  async select(mint: number, maxt: number, matchers: readonly Matcher[]): Promise<SeriesChunks[]> {
    const sel = await this.selectColumns(mint, maxt, matchers);
    const out = new Array<SeriesChunks>(sel.numSeries);
    for (let i = 0; i < sel.numSeries; i++) {
      const c0 = sel.chunkStart[i]!;
      const chunks = new Array<ChunkData>(sel.chunkStart[i + 1]! - c0);
      for (let k = 0; k < chunks.length; k++) chunks[k] = selectionChunk(sel, c0 + k);
      out[i] = { labels: selectionLabels(sel, i), chunks };
    }
    return out;
  }

  /**
   * What select() returns, in columns (see BlockSelection): chunk data stays in the read buffers
   * and labels stay symbol indexes, for readers that merge many blocks (mergeBlockSelections).
   */
  async selectColumns(mint: number, maxt: number, matchers: readonly Matcher[]): Promise<BlockSelection> {
    this.check();
    if (maxt < this.meta.minTime || mint >= this.meta.maxTime) return emptySelection(this.index.symbolTable);
    const refs = await this.index.postingsForMatchers(matchers);
    const cols = await this.index.seriesColumns(refs, mint, maxt);
    const n = cols.chunkStart[cols.numSeries]!;
    const cc: ChunkColumns = { loc: new Uint32Array(4 * n), bufs: [] };
    await this.chunks.chunksInto(cols.chunkRef, n, cc);
    const sel: BlockSelection = {
      symbols: this.index.symbolTable,
      numSeries: cols.numSeries,
      labelStart: cols.labelStart,
      labelSyms: cols.labelSyms,
      chunkStart: cols.chunkStart,
      chunkTimes: cols.chunkTimes,
      chunkLoc: cc.loc,
      bufs: cc.bufs,
    };
    return this.tombstones.size > 0 ? applyTombstones(sel, cols.refs, this.tombstones) : sel;
  }

  /** Label names, of all series or of the series matching `matchers`, sorted. */
  async labelNames(matchers: readonly Matcher[] = []): Promise<string[]> {
    this.check();
    if (matchers.length === 0) return this.index.labelNames();
    const entries = await this.index.seriesMany(await this.index.postingsForMatchers(matchers));
    const names = new Set<string>();
    for (const e of entries) for (const l of e.labels) names.add(l.name);
    return [...names].sort(compareStrings);
  }

  /** Values of label `name`, of all series or of the series matching `matchers`, sorted. */
  async labelValues(name: string, matchers: readonly Matcher[] = []): Promise<string[]> {
    this.check();
    if (matchers.length === 0) return this.index.labelValues(name);
    const entries = await this.index.seriesMany(await this.index.postingsForMatchers(matchers));
    const vals = new Set<string>();
    for (const e of entries) for (const l of e.labels) if (l.name === name) vals.add(l.value);
    return [...vals].sort(compareStrings);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.sources.map((s) => (s.close ? s.close() : undefined)));
  }
}

