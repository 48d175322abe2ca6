/**
 * A readable block: meta.json + index + chunk segments (+ tombstones), from a local directory or
 * from any ByteSources (e.g. ranged reads of objects in a bucket).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { XorAppender, XorIterator } from '../chunkenc/xor';
import type { ChunkData, SeriesChunks } from '../ingest';
import { compareStrings } from '../labels';
import type { Matcher } from '../matchers';
import { FileByteSource, type ByteSource } from './byte-source';
import { ChunkReader } from './chunk-reader';
import { CHUNKS_DIRNAME, ENCODING_XOR, INDEX_FILENAME, TOMBSTONES_FILENAME } from './format';
import { IndexReader, type ChunkMeta } from './index-reader';
import { BlockMetaError, META_FILENAME, readMeta, type BlockMeta } from './meta';
import { decodeTombstones, type Interval, type Tombstones } from './tombstones';

type Closable = ByteSource & { close?: () => Promise<void> };

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
   * with a `close()` method are closed by `close()`.
   */
  static async fromSources(
    meta: BlockMeta,
    index: ByteSource | IndexReader,
    segments: ByteSource[],
    tombstones?: ByteSource,
  ): Promise<Block> {
    const ir = index instanceof IndexReader ? index : await IndexReader.open(index, `block ${meta.ulid} index`);
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
    this.check();
    if (maxt < this.meta.minTime || mint >= this.meta.maxTime) return [];
    const refs = await this.index.postingsForMatchers(matchers);
    const entries = await this.index.seriesMany(refs);
    const picked: { ref: number; labels: SeriesChunks['labels']; metas: ChunkMeta[] }[] = [];
    const chunkRefs: number[] = [];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const metas = e.chunks.filter((c) => c.maxt >= mint && c.mint <= maxt);
      if (metas.length === 0) continue;
      picked.push({ ref: refs[i]!, labels: e.labels, metas });
      for (const c of metas) chunkRefs.push(c.ref);
    }
    const recs = await this.chunks.chunks(chunkRefs);
    const out: SeriesChunks[] = [];
    let k = 0;
    for (const p of picked) {
      let chunks: ChunkData[] = p.metas.map((m) => {
        const r = recs[k++]!;
        return { mint: m.mint, maxt: m.maxt, encoding: r.encoding, data: r.data };
      });
      const ivs = this.tombstones.get(p.ref);
      if (ivs !== undefined) {
        chunks = chunks.map((c) => deleteSamples(c, ivs)).filter((c): c is ChunkData => c !== null);
        if (chunks.length === 0) continue;
      }
      out.push({ labels: p.labels, chunks });
    }
    return out;
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

