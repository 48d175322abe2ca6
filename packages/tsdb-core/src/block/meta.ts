/**
 * A block's meta.json (docs formats.md §4.2): Prometheus' BlockMeta plus the Thanos/Mimir `thanos`
 * section. Counters that Prometheus omits when zero are always present here (0 when absent).
 */
import { isULID } from '../ulid';

export const META_FILENAME = 'meta.json';
export const META_VERSION = 1;

export interface BlockDesc {
  ulid: string;
  minTime: number;
  maxTime: number;
}

export interface BlockStats {
  numSamples: number;
  numFloatSamples: number;
  numHistogramSamples: number;
  numSeries: number;
  numChunks: number;
  numTombstones: number;
}

export interface BlockCompaction {
  level: number;
  sources: string[];
  parents: BlockDesc[];
  deletable?: boolean;
  failed?: boolean;
  hints?: string[];
}

export interface ThanosFile {
  rel_path: string;
  /** Absent for meta.json, as Thanos writes it. */
  size_bytes?: number;
}

export interface ThanosMeta {
  version: number;
  /** External labels; always serialized (may be empty). */
  labels: Record<string, string>;
  downsample: { resolution: number };
  source: string;
  files?: ThanosFile[];
}

export interface BlockMeta {
  ulid: string;
  /** Inclusive, ms. */
  minTime: number;
  /** Exclusive, ms. */
  maxTime: number;
  stats: BlockStats;
  compaction: BlockCompaction;
  version: 1;
  thanos?: ThanosMeta;
}

export class BlockMetaError extends Error {
  override readonly name = 'BlockMetaError';
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function int(o: Obj, key: string, where: string, optional: boolean): number {
  const v = o[key];
  if (v === undefined && optional) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw new BlockMetaError(`meta.json: ${where}${key} must be an integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function ulidField(v: unknown, where: string): string {
  if (typeof v !== 'string' || !isULID(v)) throw new BlockMetaError(`meta.json: ${where} is not a ULID: ${JSON.stringify(v)}`);
  return v;
}

function blockDesc(v: unknown, where: string): BlockDesc {
  if (!isObj(v)) throw new BlockMetaError(`meta.json: ${where} must be an object`);
  return { ulid: ulidField(v.ulid, `${where}.ulid`), minTime: int(v, 'minTime', `${where}.`, false), maxTime: int(v, 'maxTime', `${where}.`, false) };
}

/** Parses and validates meta.json contents (a string, bytes, or an already parsed object). */
export function readMeta(json: string | Uint8Array | object): BlockMeta {
  let o: unknown = json;
  if (typeof json === 'string' || json instanceof Uint8Array) {
    const text = typeof json === 'string' ? json : new TextDecoder().decode(json);
    try {
      o = JSON.parse(text);
    } catch (e) {
      throw new BlockMetaError(`meta.json: invalid JSON: ${(e as Error).message}`);
    }
  }
  if (!isObj(o)) throw new BlockMetaError('meta.json: not a JSON object');
  if (o.version !== META_VERSION) {
    throw new BlockMetaError(`meta.json: unsupported version ${JSON.stringify(o.version)} (want ${META_VERSION})`);
  }
  const ulid = ulidField(o.ulid, 'ulid');
  const minTime = int(o, 'minTime', '', false);
  const maxTime = int(o, 'maxTime', '', false);
  if (minTime > maxTime) throw new BlockMetaError(`meta.json: minTime ${minTime} is after maxTime ${maxTime}`);

  const st = o.stats ?? {};
  if (!isObj(st)) throw new BlockMetaError('meta.json: stats must be an object');
  const stats: BlockStats = {
    numSamples: int(st, 'numSamples', 'stats.', true),
    numFloatSamples: int(st, 'numFloatSamples', 'stats.', true),
    numHistogramSamples: int(st, 'numHistogramSamples', 'stats.', true),
    numSeries: int(st, 'numSeries', 'stats.', true),
    numChunks: int(st, 'numChunks', 'stats.', true),
    numTombstones: int(st, 'numTombstones', 'stats.', true),
  };

  const c = o.compaction ?? {};
  if (!isObj(c)) throw new BlockMetaError('meta.json: compaction must be an object');
  const level = int(c, 'level', 'compaction.', true);
  const sources = c.sources ?? [];
  if (!Array.isArray(sources)) throw new BlockMetaError('meta.json: compaction.sources must be an array');
  const parents = c.parents ?? [];
  if (!Array.isArray(parents)) throw new BlockMetaError('meta.json: compaction.parents must be an array');
  const compaction: BlockCompaction = {
    level,
    sources: sources.map((s, i) => ulidField(s, `compaction.sources[${i}]`)),
    parents: parents.map((p, i) => blockDesc(p, `compaction.parents[${i}]`)),
  };
  if (c.deletable !== undefined) compaction.deletable = c.deletable === true;
  if (c.failed !== undefined) compaction.failed = c.failed === true;
  if (c.hints !== undefined) {
    if (!Array.isArray(c.hints) || c.hints.some((h) => typeof h !== 'string')) {
      throw new BlockMetaError('meta.json: compaction.hints must be an array of strings');
    }
    compaction.hints = c.hints as string[];
  }

  const meta: BlockMeta = { ulid, minTime, maxTime, stats, compaction, version: 1 };
  if (o.thanos !== undefined) meta.thanos = readThanos(o.thanos);
  return meta;
}

function readThanos(t: unknown): ThanosMeta {
  if (!isObj(t)) throw new BlockMetaError('meta.json: thanos must be an object');
  const labels: Record<string, string> = {};
  const ls = t.labels ?? {};
  if (!isObj(ls)) throw new BlockMetaError('meta.json: thanos.labels must be an object');
  for (const [k, v] of Object.entries(ls)) {
    if (typeof v !== 'string') throw new BlockMetaError(`meta.json: thanos.labels.${k} must be a string`);
    labels[k] = v;
  }
  const ds = t.downsample ?? {};
  if (!isObj(ds)) throw new BlockMetaError('meta.json: thanos.downsample must be an object');
  const out: ThanosMeta = {
    version: int(t, 'version', 'thanos.', true) || 1,
    labels,
    downsample: { resolution: int(ds, 'resolution', 'thanos.downsample.', true) },
    source: typeof t.source === 'string' ? t.source : '',
  };
  if (t.files !== undefined) {
    if (!Array.isArray(t.files)) throw new BlockMetaError('meta.json: thanos.files must be an array');
    out.files = t.files.map((f, i) => {
      if (!isObj(f) || typeof f.rel_path !== 'string') {
        throw new BlockMetaError(`meta.json: thanos.files[${i}] must have a rel_path`);
      }
      const e: ThanosFile = { rel_path: f.rel_path };
      if (f.size_bytes !== undefined) e.size_bytes = int(f, 'size_bytes', `thanos.files[${i}].`, false);
      return e;
    });
  }
  return out;
}

/** meta.json text as Prometheus writes it: tab-indented, zero counters and empty lists omitted. */
export function encodeMeta(meta: BlockMeta): string {
  const stats: Record<string, number> = {};
  for (const k of ['numSamples', 'numFloatSamples', 'numHistogramSamples', 'numSeries', 'numChunks', 'numTombstones'] as const) {
    if (meta.stats[k] !== 0) stats[k] = meta.stats[k];
  }
  const c = meta.compaction;
  const compaction: Record<string, unknown> = { level: c.level };
  if (c.sources.length > 0) compaction.sources = c.sources;
  if (c.parents.length > 0) compaction.parents = c.parents.map((p) => ({ ulid: p.ulid, minTime: p.minTime, maxTime: p.maxTime }));
  if (c.deletable) compaction.deletable = true;
  if (c.failed) compaction.failed = true;
  if (c.hints !== undefined && c.hints.length > 0) compaction.hints = c.hints;
  const o: Record<string, unknown> = {
    ulid: meta.ulid,
    minTime: meta.minTime,
    maxTime: meta.maxTime,
    stats,
    compaction,
    version: meta.version,
  };
  if (meta.thanos !== undefined) {
    const t = meta.thanos;
    const th: Record<string, unknown> = {
      version: t.version,
      labels: t.labels,
      downsample: { resolution: t.downsample.resolution },
      source: t.source,
    };
    if (t.files !== undefined) th.files = t.files;
    o.thanos = th;
  }
  return JSON.stringify(o, null, '\t') + '\n';
}
