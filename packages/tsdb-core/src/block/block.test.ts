import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { STALE_HI, STALE_LO } from '../chunkenc/xor';
import { crc32c } from '../crc32c';
import { ByteReader } from '../encoding';
import type { ChunkData } from '../ingest';
import { compareLabels, compareStrings, getLabel, labelsFromObject } from '../labels';
import { Matcher, MatchType } from '../matchers';
import { newULID } from '../ulid';
import { BufferByteSource, FileByteSource, type ByteSource } from './byte-source';
import { ChunkReader } from './chunk-reader';
import { BlockCorruptionError } from './errors';
import { buildIndexHeader, openIndexWithHeader } from './index-header';
import { IndexReader } from './index-reader';
import { readMeta } from './meta';
import { Block } from './reader';
import { encodeTombstones } from './tombstones';
import { BlockWriteError, writeBlock, type BlockSeries } from './writer';
import { xorshift32 as rng } from '../../../../tests/helpers/prng';
import { bitsSample as sample, samplesOfChunks as samplesOf, xorChunksOf as chunksOf, type BitsSample as Sample } from '../../../../tests/helpers/xor-chunks';

// ---------------------------------------------------------------- fixtures

const T0 = 1700000000000;
const NAMES = ['http_requests_total', 'up', 'métrique_é', 'node_cpu_seconds_total'];
const JOBS = ['api', 'db', 'Ａ', '😀', 'z'];

interface Fixture extends BlockSeries {
  samples: Sample[];
}

/** `n` series, sorted, with 1..4 chunks each and special values (NaN, ±Inf, stale, -0). */
function makeSeries(n: number, seed = 1): Fixture[] {
  const r = rng(seed);
  const out: Fixture[] = [];
  for (let i = 0; i < n; i++) {
    const o: Record<string, string> = {
      __name__: NAMES[i % NAMES.length]!,
      job: JOBS[Math.floor(i / NAMES.length) % JOBS.length]!,
      instance: `host-${i}:9100`,
    };
    if (i % 3 === 0) o.env = i % 2 === 0 ? 'prod' : 'dev';
    if (i % 7 === 0) for (let k = 0; k < 12; k++) o[`extra_${k}`] = `v${(i + k) % 5}`;
    const count = 1 + Math.floor(r() * 420);
    const samples: Sample[] = [];
    let t = T0 + Math.floor(r() * 30000);
    for (let k = 0; k < count; k++) {
      let v: Sample;
      const x = r();
      if (x < 0.02) v = sample(t, NaN);
      else if (x < 0.04) v = sample(t, Infinity);
      else if (x < 0.06) v = sample(t, -Infinity);
      else if (x < 0.08) v = { t, hi: STALE_HI, lo: STALE_LO };
      else if (x < 0.09) v = sample(t, -0);
      else v = sample(t, Math.round(r() * 1e6) / 100);
      samples.push(v);
      t += 15000 + Math.floor(r() * 3) - 1;
    }
    const labels = labelsFromObject(o);
    out.push({ labels, chunks: chunksOf(samples), samples });
  }
  return out.sort((a, b) => compareLabels(a.labels, b.labels));
}

function blockRange(series: readonly Fixture[]): { minTime: number; maxTime: number } {
  let minTime = Infinity;
  let maxTime = -Infinity;
  for (const s of series) {
    minTime = Math.min(minTime, s.samples[0]!.t);
    maxTime = Math.max(maxTime, s.samples[s.samples.length - 1]!.t + 1);
  }
  return { minTime, maxTime };
}

/** A ByteSource that counts reads. */
class CountingSource implements ByteSource {
  reads = 0;
  bytes = 0;
  constructor(private readonly inner: ByteSource) {}
  size(): Promise<number> {
    return this.inner.size();
  }
  read(offset: number, length: number): Promise<Uint8Array> {
    this.reads++;
    this.bytes += length;
    return this.inner.read(offset, length);
  }
}

function oracle(series: readonly Fixture[], matchers: readonly Matcher[]): Fixture[] {
  return series.filter((s) => matchers.every((m) => m.matches(getLabel(s.labels, m.name))));
}

const be32 = (b: Uint8Array, i: number): number => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'strata-block-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- tests

describe('writeBlock + Block round trip', () => {
  const series = makeSeries(300, 7);
  const range = blockRange(series);

  it('returns every sample bit-exactly, across several chunk segments', async () => {
    const ulid = newULID(T0);
    const meta = await writeBlock(dir, series, { ...range, ulid, segmentSize: 16 * 1024 });
    const bdir = path.join(dir, ulid);
    expect((await fsp.readdir(dir)).sort()).toEqual([ulid]);
    expect((await fsp.readdir(bdir)).sort()).toEqual(['chunks', 'index', 'meta.json', 'tombstones']);
    const segs = (await fsp.readdir(path.join(bdir, 'chunks'))).sort();
    expect(segs.length).toBeGreaterThan(3);
    expect(segs[0]).toBe('000001');
    expect(segs[segs.length - 1]).toBe(String(segs.length).padStart(6, '0'));
    for (const s of segs) expect((await fsp.stat(path.join(bdir, 'chunks', s))).size).toBeLessThanOrEqual(16 * 1024);

    // meta.json
    const onDisk = readMeta(await fsp.readFile(path.join(bdir, 'meta.json')));
    expect(onDisk).toEqual(meta);
    const numChunks = series.reduce((a, s) => a + s.chunks.length, 0);
    const numSamples = series.reduce((a, s) => a + s.samples.length, 0);
    expect(meta.stats).toEqual({ numSamples, numFloatSamples: numSamples, numHistogramSamples: 0, numSeries: 300, numChunks, numTombstones: 0 });
    expect(meta.compaction).toEqual({ level: 1, sources: [ulid], parents: [] });
    expect(meta.minTime).toBe(range.minTime);
    expect(meta.maxTime).toBe(range.maxTime);
    expect(meta.thanos!.labels).toEqual({});
    expect(meta.thanos!.downsample.resolution).toBe(0);
    const files = meta.thanos!.files!;
    expect(files.map((f) => f.rel_path)).toEqual([...segs.map((s) => `chunks/${s}`), 'index', 'meta.json']);
    for (const f of files) {
      if (f.rel_path === 'meta.json') expect(f.size_bytes).toBeUndefined();
      else expect(f.size_bytes).toBe((await fsp.stat(path.join(bdir, f.rel_path))).size);
    }
    expect([...(await fsp.readFile(path.join(bdir, 'tombstones')))]).toEqual([0x01, 0x30, 0xba, 0x30, 0x01, 0, 0, 0, 0]);

    const block = await Block.open(bdir);
    try {
      const got = await block.select(-Infinity, Infinity, []);
      expect(got.map((s) => s.labels)).toEqual(series.map((s) => s.labels));
      for (let i = 0; i < got.length; i++) {
        expect(got[i]!.chunks.map((c) => [c.mint, c.maxt])).toEqual(series[i]!.chunks.map((c) => [c.mint, c.maxt]));
        expect(samplesOf(got[i]!.chunks)).toEqual(series[i]!.samples);
      }
      // Special values survived with their exact bits.
      const all = got.flatMap((s) => samplesOf(s.chunks));
      expect(all.some((s) => s.hi === STALE_HI && s.lo === STALE_LO)).toBe(true);
      expect(all.some((s) => s.hi === 0x7ff00000 && s.lo === 0)).toBe(true); // +Inf
      expect(all.some((s) => s.hi === 0xfff00000 && s.lo === 0)).toBe(true); // -Inf
      expect(all.some((s) => s.hi === 0x7ff80000 && s.lo === 0)).toBe(true); // NaN
      expect(all.some((s) => s.hi === 0x80000000 && s.lo === 0)).toBe(true); // -0

      // Chunk refs use 0-based segment indexes and point into the right file.
      const ir = block.index;
      const refs = await ir.postings('', '');
      expect(refs).toHaveLength(300);
      const last = await ir.series(refs[refs.length - 1]!);
      const lastRef = last.chunks[last.chunks.length - 1]!.ref;
      expect(Math.floor(lastRef / 2 ** 32)).toBe(segs.length - 1);
      const first = await ir.series(refs[0]!);
      expect(first.chunks[0]!.ref).toBe(8); // segment 0, right after the 8-byte header
    } finally {
      await block.close();
    }
  });

  it('selects by time: only overlapping chunks, only series with data', async () => {
    const ulid = newULID(T0);
    await writeBlock(dir, series, { ...range, ulid });
    const block = await Block.open(path.join(dir, ulid));
    const mint = T0 + 1800 * 1000;
    const maxt = T0 + 2400 * 1000;
    const got = await block.select(mint, maxt, []);
    const want = series.filter((s) => s.chunks.some((c) => c.maxt >= mint && c.mint <= maxt));
    expect(want.length).toBeGreaterThan(10);
    expect(want.length).toBeLessThan(series.length);
    expect(got.map((s) => s.labels)).toEqual(want.map((s) => s.labels));
    for (let i = 0; i < got.length; i++) {
      const wantChunks = want[i]!.chunks.filter((c) => c.maxt >= mint && c.mint <= maxt);
      expect(got[i]!.chunks.map((c) => Buffer.from(c.data).toString('hex'))).toEqual(wantChunks.map((c) => Buffer.from(c.data).toString('hex')));
    }
    expect(await block.select(range.maxTime, range.maxTime + 10, [])).toEqual([]);
    expect(await block.select(range.minTime - 10, range.minTime - 1, [])).toEqual([]);
    await block.close();
    await expect(block.select(0, 1, [])).rejects.toThrow(/closed/);
  });

  it('writes the same bytes from an array and from an async iterable', async () => {
    const ulidA = newULID(T0, rng(1));
    const ulidB = newULID(T0, rng(2));
    await writeBlock(dir, series, { ...range, ulid: ulidA, segmentSize: 64 * 1024 });
    async function* gen(): AsyncGenerator<BlockSeries> {
      for (const s of series) {
        await new Promise((r) => setImmediate(r));
        yield { labels: s.labels.map((l) => ({ ...l })), chunks: s.chunks };
      }
    }
    await writeBlock(dir, gen(), { ...range, ulid: ulidB, segmentSize: 64 * 1024 });
    for (const f of ['index', 'chunks/000001', 'chunks/000002', 'tombstones']) {
      const a = await fsp.readFile(path.join(dir, ulidA, f));
      const b = await fsp.readFile(path.join(dir, ulidB, f));
      expect(a.equals(b)).toBe(true);
    }
  });

  it('reads the same through Block.fromSources over buffers, with coalesced reads', async () => {
    const ulid = newULID(T0);
    const meta = await writeBlock(dir, series, { ...range, ulid, segmentSize: 64 * 1024 });
    const bdir = path.join(dir, ulid);
    const index = new CountingSource(new BufferByteSource(await fsp.readFile(path.join(bdir, 'index'))));
    const names = (await fsp.readdir(path.join(bdir, 'chunks'))).sort();
    const segs = await Promise.all(names.map(async (n) => new CountingSource(new BufferByteSource(await fsp.readFile(path.join(bdir, 'chunks', n))))));
    const block = await Block.fromSources(meta, index, segs, new BufferByteSource(await fsp.readFile(path.join(bdir, 'tombstones'))));
    const openReads = index.reads;
    expect(openReads).toBeLessThanOrEqual(6); // header, TOC, 2 × (length, section)
    const got = await block.select(-Infinity, Infinity, []);
    expect(got).toHaveLength(300);
    for (let i = 0; i < got.length; i++) expect(samplesOf(got[i]!.chunks)).toEqual(series[i]!.samples);
    // One all-postings read plus a few coalesced series reads; a few reads per segment.
    expect(index.reads - openReads).toBeLessThan(6);
    const segReads = segs.reduce((a, s) => a + s.reads, 0);
    expect(segReads).toBeLessThan(segs.length * 4);
    await block.close();
  });

  it('opens an index from a cached index header without reading the index', async () => {
    const ulid = newULID(T0);
    const meta = await writeBlock(dir, series, { ...range, ulid });
    const bdir = path.join(dir, ulid);
    const indexBytes = new Uint8Array(await fsp.readFile(path.join(bdir, 'index')));
    const header = await buildIndexHeader(new BufferByteSource(indexBytes));
    expect(header.length).toBeLessThan(indexBytes.length / 2);
    const counting = new CountingSource(new BufferByteSource(indexBytes));
    const ir = await openIndexWithHeader(header, counting);
    expect(counting.reads).toBe(0);
    expect(ir.labelNames()).toContain('job');
    expect(ir.labelValues('job')).toEqual(['api', 'db', 'z', 'Ａ', '😀']);
    expect(counting.reads).toBe(0);
    const seg = await FileByteSource.open(path.join(bdir, 'chunks', '000001'));
    const block = await Block.fromSources(meta, ir, [seg]);
    const got = await block.select(-Infinity, Infinity, [new Matcher(MatchType.RE, 'job', 'db|😀')]);
    const want = oracle(series, [new Matcher(MatchType.RE, 'job', 'db|😀')]);
    expect(got.map((s) => s.labels)).toEqual(want.map((s) => s.labels));
    for (let i = 0; i < got.length; i++) expect(samplesOf(got[i]!.chunks)).toEqual(want[i]!.samples);
    expect(counting.reads).toBeGreaterThan(0);
    await block.close();
    // A damaged header is rejected.
    const bad = header.slice();
    bad[20]! ^= 1;
    await expect(openIndexWithHeader(bad, counting)).rejects.toThrow(/header: checksum mismatch/);
    await expect(openIndexWithHeader(header.subarray(0, 10), counting)).rejects.toThrow(BlockCorruptionError);
  });

  it('returns label names and values, with and without matchers', async () => {
    const ulid = newULID(T0);
    await writeBlock(dir, series, { ...range, ulid });
    const block = await Block.open(path.join(dir, ulid));
    const allNames = [...new Set(series.flatMap((s) => s.labels.map((l) => l.name)))].sort(compareStrings);
    expect(await block.labelNames()).toEqual(allNames);
    expect(await block.labelValues('job')).toEqual(['api', 'db', 'z', 'Ａ', '😀']);
    expect(await block.labelValues('nope')).toEqual([]);
    const m = [new Matcher(MatchType.EQ, 'job', '😀')];
    const sel = oracle(series, m);
    expect(await block.labelNames(m)).toEqual([...new Set(sel.flatMap((s) => s.labels.map((l) => l.name)))].sort(compareStrings));
    expect(await block.labelValues('__name__', m)).toEqual([...new Set(sel.map((s) => getLabel(s.labels, '__name__')))].sort(compareStrings));
    expect(block.index.symbols()).toContain('😀');
    await block.close();
  });

  it('finds every value through the sampled postings offset table', async () => {
    // One label with 200 values: exercises the every-32nd sampling and the boundaries between names.
    const many: BlockSeries[] = [];
    for (let i = 0; i < 200; i++) {
      many.push({ labels: labelsFromObject({ a: 'x', id: String(i).padStart(3, '0') }), chunks: chunksOf([sample(T0 + i, i)]) });
    }
    const ulid = newULID(T0);
    await writeBlock(dir, many, { minTime: T0, maxTime: T0 + 200, ulid });
    const block = await Block.open(path.join(dir, ulid));
    const ids = await block.index.postings('', '');
    for (let i = 0; i < 200; i++) expect(await block.index.postings('id', String(i).padStart(3, '0'))).toEqual([ids[i]]);
    expect(await block.index.postings('id', '0005')).toEqual([]);
    expect(await block.index.postings('id', '')).toEqual([]);
    expect(await block.index.postings('id', '999')).toEqual([]);
    expect(await block.index.postings('a', 'x')).toEqual(ids);
    expect(await block.index.postings('b', 'x')).toEqual([]);
    const m = [new Matcher(MatchType.RE, 'id', '0[0-4]7|1.9')];
    const got = await block.select(-Infinity, Infinity, m);
    expect(got.map((s) => getLabel(s.labels, 'id'))).toEqual(['007', '017', '027', '037', '047', '109', '119', '129', '139', '149', '159', '169', '179', '189', '199']);
    await block.close();
  });
});

describe('matchers', () => {
  const series = makeSeries(120, 3);
  const range = blockRange(series);
  let block: Block;
  beforeEach(async () => {
    const ulid = newULID(T0);
    await writeBlock(dir, series, { ...range, ulid });
    block = await Block.open(path.join(dir, ulid));
  });
  afterEach(async () => {
    await block.close();
  });

  const cases: [string, Matcher[]][] = [
    ['= ', [new Matcher(MatchType.EQ, '__name__', 'up')]],
    ['= unicode', [new Matcher(MatchType.EQ, 'job', 'Ａ')]],
    ['= no such value', [new Matcher(MatchType.EQ, 'job', 'nope')]],
    ['= no such name', [new Matcher(MatchType.EQ, 'nope', 'x')]],
    ['= "" (label absent)', [new Matcher(MatchType.EQ, 'env', '')]],
    ['= "" on unknown name (all)', [new Matcher(MatchType.EQ, 'nope', '')]],
    ['!=', [new Matcher(MatchType.NEQ, 'env', 'prod')]],
    ['!= "" (label present)', [new Matcher(MatchType.NEQ, 'env', '')]],
    ['!= on unknown name', [new Matcher(MatchType.NEQ, 'nope', 'x')]],
    ['=~', [new Matcher(MatchType.RE, 'job', 'a.*|d.')]],
    ['=~ matching empty', [new Matcher(MatchType.RE, 'env', 'dev|')]],
    ['=~ .*', [new Matcher(MatchType.RE, 'env', '.*')]],
    ['=~ .+', [new Matcher(MatchType.RE, 'env', '.+')]],
    ['!~', [new Matcher(MatchType.NRE, 'job', 'api|db')]],
    ['!~ .+ (label absent)', [new Matcher(MatchType.NRE, 'env', '.+')]],
    ['!~ not matching empty', [new Matcher(MatchType.NRE, 'env', 'prod|')]],
    [
      'combination',
      [new Matcher(MatchType.RE, '__name__', '.*total'), new Matcher(MatchType.NEQ, 'env', 'prod'), new Matcher(MatchType.NRE, 'job', '😀')],
    ],
    ['only empty-matching', [new Matcher(MatchType.EQ, 'extra_0', ''), new Matcher(MatchType.NRE, 'env', 'dev')]],
    ['empty intersection', [new Matcher(MatchType.EQ, 'job', 'api'), new Matcher(MatchType.EQ, 'job', 'db')]],
  ];

  it.each(cases)('%s', async (_name, ms) => {
    const want = oracle(series, ms);
    const got = await block.select(-Infinity, Infinity, ms);
    expect(got.map((s) => s.labels)).toEqual(want.map((s) => s.labels));
  });

  it('covers non-trivial cases', () => {
    // Guard against a fixture where these cases are vacuous.
    expect(oracle(series, [new Matcher(MatchType.EQ, 'env', '')]).length).toBeGreaterThan(0);
    expect(oracle(series, [new Matcher(MatchType.NEQ, 'env', '')]).length).toBeGreaterThan(0);
    expect(oracle(series, cases[16]![1]).length).toBeGreaterThan(0);
  });
});

describe('unicode ordering', () => {
  it('sorts symbols, series and postings by UTF-8 bytes ("Ａ" < "😀")', async () => {
    // UTF-16 order would put "😀" (0xD83D…) before "Ａ" (0xFF21); UTF-8 order is EF BC A1 < F0 9F 98 80.
    expect('😀' < 'Ａ').toBe(true);
    const mk = (v: string): BlockSeries => ({ labels: labelsFromObject({ __name__: 'm', v }), chunks: chunksOf([sample(T0, 1)]) });
    const ulid = newULID(T0);
    await writeBlock(dir, [mk('a'), mk('Ａ'), mk('😀')], { minTime: T0, maxTime: T0 + 1, ulid });
    const b = await Block.open(path.join(dir, ulid));
    expect(b.index.symbols()).toEqual(['__name__', 'a', 'm', 'v', 'Ａ', '😀']);
    expect(await b.labelValues('v')).toEqual(['a', 'Ａ', '😀']);
    expect((await b.select(T0, T0, [])).map((s) => getLabel(s.labels, 'v'))).toEqual(['a', 'Ａ', '😀']);
    expect((await b.select(T0, T0, [new Matcher(MatchType.EQ, 'v', '😀')])).length).toBe(1);
    await b.close();
    // UTF-16 order is rejected as unsorted input.
    await expect(writeBlock(dir, [mk('a'), mk('😀'), mk('Ａ')], { minTime: T0, maxTime: T0 + 1 })).rejects.toThrow(/not sorted/);
  });
});

describe('index bytes', () => {
  it('follows the v2 layout: header, symbols, 16-aligned series, postings, sorted offset table, TOC', async () => {
    const series = makeSeries(40, 11);
    const ulid = newULID(T0);
    await writeBlock(dir, series, { ...blockRange(series), ulid });
    const b = new Uint8Array(await fsp.readFile(path.join(dir, ulid, 'index')));
    expect([...b.subarray(0, 5)]).toEqual([0xba, 0xaa, 0xd7, 0x00, 0x02]);
    const tocAt = b.length - 52;
    expect(be32(b, tocAt + 48)).toBe(crc32c(b, tocAt, tocAt + 48));
    const r = new ByteReader(b, tocAt);
    const toc = [0, 0, 0, 0, 0, 0].map(() => r.readBE64());
    const [symbols, seriesOff, labelIndices, labelIndicesTable, postings, postingsTable] = toc as [number, number, number, number, number, number];
    expect(symbols).toBe(5);
    // Symbol table: len, count, sorted strictly increasing, CRC over count+entries.
    const slen = be32(b, 5);
    expect(be32(b, 9 + slen)).toBe(crc32c(b, 9, 9 + slen));
    const sr = new ByteReader(b, 9, 9 + slen);
    const n = sr.readBE32();
    const syms: string[] = [];
    for (let i = 0; i < n; i++) syms.push(sr.readUvarintString());
    for (let i = 1; i < n; i++) expect(compareStrings(syms[i - 1]!, syms[i]!)).toBeLessThan(0);
    expect(seriesOff).toBe(9 + slen + 4);
    expect(labelIndices).toBe(postings);
    expect(labelIndicesTable).toBe(postingsTable);
    // Postings offset table: first ("", ""), sorted, offsets 4-aligned, each list valid.
    const plen = be32(b, postingsTable);
    expect(be32(b, postingsTable + 4 + plen)).toBe(crc32c(b, postingsTable + 4, postingsTable + 4 + plen));
    const pr = new ByteReader(b, postingsTable + 4, postingsTable + 4 + plen);
    const cnt = pr.readBE32();
    const keys: [string, string][] = [];
    let allIds: number[] = [];
    for (let i = 0; i < cnt; i++) {
      expect(pr.readUvarint()).toBe(2);
      const k: [string, string] = [pr.readUvarintString(), pr.readUvarintString()];
      const off = pr.readUvarint();
      expect(off % 4).toBe(0);
      expect(off).toBeGreaterThanOrEqual(postings);
      const len = be32(b, off);
      const m = be32(b, off + 4);
      expect(len).toBe(4 + 4 * m);
      expect(be32(b, off + 4 + len)).toBe(crc32c(b, off + 4, off + 4 + len));
      const ids = Array.from({ length: m }, (_, j) => be32(b, off + 8 + 4 * j));
      if (i === 0) allIds = ids;
      keys.push(k);
    }
    expect(keys[0]).toEqual(['', '']);
    for (let i = 1; i < keys.length; i++) {
      const c = compareStrings(keys[i - 1]![0], keys[i]![0]) || compareStrings(keys[i - 1]![1], keys[i]![1]);
      expect(c).toBeLessThan(0);
    }
    // Every series id is offset/16 of a valid entry, ascending.
    expect(allIds).toHaveLength(40);
    for (const id of allIds) {
      const er = new ByteReader(b, id * 16);
      const len = er.readUvarint();
      expect(be32(b, er.pos + len)).toBe(crc32c(b, er.pos, er.pos + len));
    }
    expect(allIds[0]! * 16).toBe(Math.ceil(seriesOff / 16) * 16);
  });

  it('encodes chunk metas as deltas (first: varint mint, uvarint span, uvarint ref)', async () => {
    const chunks = chunksOf([sample(T0, 1), sample(T0 + 10, 2), sample(T0 + 25, 3), sample(T0 + 40, 4)], 2);
    const ulid = newULID(T0);
    await writeBlock(dir, [{ labels: labelsFromObject({ a: 'b' }), chunks }], { minTime: T0, maxTime: T0 + 41, ulid });
    const b = new Uint8Array(await fsp.readFile(path.join(dir, ulid, 'index')));
    const ir = await IndexReader.open(new BufferByteSource(b));
    const [id] = await ir.postings('a', 'b');
    const r = new ByteReader(b, id! * 16);
    r.readUvarint();
    expect([r.readUvarint(), r.readUvarint(), r.readUvarint(), r.readUvarint()]).toEqual([1, 0, 1, 2]);
    const ref0 = 8;
    const ref1 = 8 + 1 + 1 + chunks[0]!.data.length + 4;
    expect(r.readVarint()).toBe(T0);
    expect(r.readUvarint()).toBe(10);
    expect(r.readUvarint()).toBe(ref0);
    expect(r.readUvarint()).toBe(15); // mint1 - maxt0
    expect(r.readUvarint()).toBe(15); // maxt1 - mint1
    expect(r.readVarint()).toBe(ref1 - ref0);
    const s = await ir.series(id!);
    expect(s.chunks).toEqual([
      { mint: T0, maxt: T0 + 10, ref: ref0 },
      { mint: T0 + 25, maxt: T0 + 40, ref: ref1 },
    ]);
    // Chunk record: uvarint len | encoding | data | CRC32C(encoding ‖ data).
    const seg = new Uint8Array(await fsp.readFile(path.join(dir, ulid, 'chunks', '000001')));
    expect([...seg.subarray(0, 8)]).toEqual([0x85, 0xbd, 0x40, 0xdd, 1, 0, 0, 0]);
    const d0 = chunks[0]!.data;
    expect(seg[8]).toBe(d0.length);
    expect(seg[9]).toBe(1);
    expect(Buffer.from(seg.subarray(10, 10 + d0.length)).equals(Buffer.from(d0))).toBe(true);
    expect(be32(seg, 10 + d0.length)).toBe(crc32c(seg, 9, 10 + d0.length));
    expect(seg.length).toBe(ref1 + 1 + 1 + chunks[1]!.data.length + 4);
  });
});

describe('large entries and segments', () => {
  it('reads chunks bigger than the read window and series entries with many chunks', async () => {
    const r = rng(5);
    const big: Sample[] = [];
    for (let i = 0; i < 3000; i++) big.push(sample(T0 + i * 1000 + Math.floor(r() * 500), r() * 1e9));
    const bigChunk = chunksOf(big, 3000);
    expect(bigChunk[0]!.data.length).toBeGreaterThan(8192);
    const many: Sample[] = [];
    for (let i = 0; i < 800; i++) many.push(sample(T0 + i * 10, i));
    const manyChunks = chunksOf(many, 2); // 400 chunks: the series entry is > 1 KiB
    const series: BlockSeries[] = [
      { labels: labelsFromObject({ n: 'a' }), chunks: bigChunk },
      { labels: labelsFromObject({ n: 'b' }), chunks: manyChunks },
      { labels: labelsFromObject({ n: 'c' }), chunks: chunksOf([sample(T0, 1)]) },
    ];
    const ulid = newULID(T0);
    // Segment size smaller than the big chunk: it still goes into one segment of its own.
    const meta = await writeBlock(dir, series, { minTime: T0, maxTime: T0 + 4_000_000, ulid, segmentSize: 4096 });
    const segs = meta.thanos!.files!.filter((f) => f.rel_path.startsWith('chunks/'));
    expect(segs[0]!.size_bytes).toBeGreaterThan(4096);
    const block = await Block.open(path.join(dir, ulid));
    const got = await block.select(-Infinity, Infinity, []);
    expect(samplesOf(got[0]!.chunks)).toEqual(big);
    expect(got[1]!.chunks).toHaveLength(400);
    expect(samplesOf(got[1]!.chunks)).toEqual(many);
    // Single reads too.
    const ids = await block.index.postings('', '');
    expect((await block.index.series(ids[1]!)).chunks).toHaveLength(400);
    const c = await block.chunks.chunk((await block.index.series(ids[0]!)).chunks[0]!.ref);
    expect(Buffer.from(c.data).equals(Buffer.from(bigChunk[0]!.data))).toBe(true);
    await block.close();
  });

  it('writes and reads an empty block', async () => {
    const ulid = newULID(T0);
    const meta = await writeBlock(dir, [], { minTime: T0, maxTime: T0 + 1, ulid });
    expect(meta.stats.numSeries).toBe(0);
    expect(await fsp.readdir(path.join(dir, ulid, 'chunks'))).toEqual([]);
    const block = await Block.open(path.join(dir, ulid));
    expect(await block.select(-Infinity, Infinity, [])).toEqual([]);
    expect(await block.labelNames()).toEqual([]);
    await block.close();
  });
});

describe('writer validation', () => {
  const ok = (v: string, t = T0): BlockSeries => ({ labels: labelsFromObject({ a: v }), chunks: chunksOf([sample(t, 1)]) });
  const opts = { minTime: T0, maxTime: T0 + 1000 };

  it.each<[string, BlockSeries[], RegExp]>([
    ['unsorted series', [ok('b'), ok('a')], /not sorted by labels/],
    ['duplicate series', [ok('a'), ok('a')], /duplicate/],
    ['unsorted label names', [{ labels: [{ name: 'b', value: '1' }, { name: 'a', value: '1' }], chunks: [] }], /not sorted by name/],
    ['empty label value', [{ labels: [{ name: 'a', value: '' }], chunks: [] }], /empty label/],
    ['sample before minTime', [ok('a', T0 - 1)], /outside the block range/],
    ['sample at maxTime', [ok('a', T0 + 1000)], /outside the block range/],
    [
      'overlapping chunks',
      [{ labels: labelsFromObject({ a: 'x' }), chunks: [...chunksOf([sample(T0, 1), sample(T0 + 5, 1)]), ...chunksOf([sample(T0 + 5, 1)])] }],
      /overlaps/,
    ],
    ['unknown encoding', [{ labels: labelsFromObject({ a: 'x' }), chunks: [{ mint: T0, maxt: T0, encoding: 9, data: new Uint8Array(3) }] }], /encoding 9/],
  ])('rejects %s and leaves nothing behind', async (_n, input, re) => {
    const ulid = newULID(T0);
    const err = await writeBlock(dir, input, { ...opts, ulid }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlockWriteError);
    expect((err as Error).message).toMatch(re);
    expect(await fsp.readdir(dir)).toEqual([]);
  });

  it('rejects bad options', async () => {
    await expect(writeBlock(dir, [], { minTime: 2, maxTime: 1 })).rejects.toThrow(/invalid block range/);
    await expect(writeBlock(dir, [], { ...opts, ulid: 'x' })).rejects.toThrow(/ULID/);
    await expect(writeBlock(dir, [], { ...opts, segmentSize: 8 })).rejects.toThrow(/segmentSize/);
    await expect(writeBlock(dir, [], { ...opts, sources: ['nope'] })).rejects.toThrow(/source or parent ULID/);
  });

  it('writes compaction and thanos options', async () => {
    const ulid = newULID(T0);
    const p1 = newULID(T0 - 10);
    const p2 = newULID(T0 - 5);
    const meta = await writeBlock(dir, [ok('a')], {
      ...opts,
      ulid,
      level: 3,
      sources: [p1, p2],
      parents: [{ ulid: p1, minTime: T0, maxTime: T0 + 500 }, { ulid: p2, minTime: T0 + 500, maxTime: T0 + 1000 }],
      thanos: { labels: { __compactor_shard_id__: '1_of_4' }, resolution: 300000, source: 'compactor' },
    });
    const json = JSON.parse(await fsp.readFile(path.join(dir, ulid, 'meta.json'), 'utf8'));
    expect(json.compaction).toEqual({ level: 3, sources: [p1, p2], parents: meta.compaction.parents });
    expect(json.thanos).toMatchObject({ version: 1, labels: { __compactor_shard_id__: '1_of_4' }, downsample: { resolution: 300000 }, source: 'compactor' });
    expect(json.version).toBe(1);
    expect(json.stats).toEqual({ numSamples: 1, numFloatSamples: 1, numSeries: 1, numChunks: 1 });
  });
});

describe('tombstones', () => {
  it('applies deleted intervals from the tombstones file', async () => {
    const s = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => sample(T0 + i * 10, i));
    const series: BlockSeries[] = [
      { labels: labelsFromObject({ a: '1' }), chunks: chunksOf(s, 5) },
      { labels: labelsFromObject({ a: '2' }), chunks: chunksOf(s, 5) },
    ];
    const ulid = newULID(T0);
    await writeBlock(dir, series, { minTime: T0, maxTime: T0 + 100, ulid });
    const bdir = path.join(dir, ulid);
    let block = await Block.open(bdir);
    const [id1, id2] = await block.index.postings('', '');
    await block.close();
    await fsp.writeFile(
      path.join(bdir, 'tombstones'),
      encodeTombstones(new Map([[id1!, [{ mint: T0 + 15, maxt: T0 + 35 }]], [id2!, [{ mint: T0, maxt: T0 + 1000 }]]])),
    );
    block = await Block.open(bdir);
    const got = await block.select(-Infinity, Infinity, []);
    expect(got).toHaveLength(1);
    expect(samplesOf(got[0]!.chunks).map((x) => x.t - T0)).toEqual([0, 10, 40, 50, 60, 70, 80, 90]);
    await block.close();
  });
});

describe('corruption', () => {
  const series = makeSeries(30, 9);
  let bdir: string;
  beforeEach(async () => {
    const ulid = newULID(T0);
    await writeBlock(dir, series, { ...blockRange(series), ulid });
    bdir = path.join(dir, ulid);
  });

  async function flip(file: string, at: (b: Uint8Array) => number): Promise<number> {
    const p = path.join(bdir, file);
    const b = new Uint8Array(await fsp.readFile(p));
    const i = at(b);
    b[i]! ^= 0x10;
    await fsp.writeFile(p, b);
    return i;
  }

  async function indexInfo(): Promise<{ ir: IndexReader; buf: Uint8Array }> {
    const buf = new Uint8Array(await fsp.readFile(path.join(bdir, 'index')));
    return { ir: await IndexReader.open(new BufferByteSource(buf)), buf };
  }

  it('names the segment and offset of a chunk with a bad CRC', async () => {
    const { ir } = await indexInfo();
    const ids = await ir.postings('', '');
    const ref = (await ir.series(ids[5]!)).chunks[0]!.ref;
    await flip('chunks/000001', () => ref + 4);
    const block = await Block.open(bdir);
    const err = await block.select(-Infinity, Infinity, []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlockCorruptionError);
    expect((err as Error).message).toMatch(new RegExp(`chunks/000001 offset ${ref}: chunk checksum mismatch`));
    await expect(block.chunks.chunk(ref)).rejects.toThrow(/checksum mismatch/);
    // Other series still read fine.
    expect(await block.select(-Infinity, Infinity, [new Matcher(MatchType.EQ, 'instance', getLabel(series[0]!.labels, 'instance'))])).toHaveLength(1);
    await block.close();
  });

  it('rejects a chunk segment with a bad magic, and refs outside the segments', async () => {
    await flip('chunks/000001', () => 1);
    const block = await Block.open(bdir);
    await expect(block.select(-Infinity, Infinity, [])).rejects.toThrow(/chunks\/000001 offset 0: bad magic/);
    await expect(block.chunks.chunk(2 ** 32 + 8)).rejects.toThrow(/segment index 1 does not exist/);
    await block.close();
    const cr = new ChunkReader([new BufferByteSource(new Uint8Array([0x85, 0xbd, 0x40, 0xdd, 1, 0, 0, 0, 0x7f]))]);
    await expect(cr.chunk(8)).rejects.toThrow(/outside the segment/);
    const cr2 = new ChunkReader([new BufferByteSource(new Uint8Array([0x85, 0xbd, 0x40, 0xdd, 1, 0, 0, 0, 0x7f, 1, 0, 0, 0, 0]))]);
    await expect(cr2.chunk(8)).rejects.toThrow(/chunk length 127 runs past the end/);
  });

  it.each<[string, (b: Uint8Array) => number, RegExp]>([
    ['magic', () => 0, /bad magic/],
    ['version', () => 4, /unsupported index format version/],
    ['TOC', (b) => b.length - 20, /TOC checksum mismatch/],
    ['symbol table', () => 12, /symbol table checksum mismatch/],
    ['postings offset table', (b) => Number(new DataView(b.buffer, b.byteOffset).getBigUint64(b.length - 52 + 40)) + 12, /postings offset table checksum mismatch/],
  ])('detects a corrupt index %s at open', async (_n, at, re) => {
    await flip('index', at);
    const err = await Block.open(bdir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlockCorruptionError);
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).toContain(path.join(bdir, 'index'));
  });

  it('detects a corrupt series entry and a corrupt postings list', async () => {
    const { ir } = await indexInfo();
    const ids = await ir.postings('', '');
    await flip('index', () => ids[3]! * 16 + 3);
    let block = await Block.open(bdir);
    await expect(block.select(-Infinity, Infinity, [])).rejects.toThrow(new RegExp(`series ${ids[3]} at offset ${ids[3]! * 16}: checksum mismatch`));
    await block.close();

    // Restore by rewriting, then break the all-postings list.
    await fsp.rm(dir, { recursive: true, force: true });
    await fsp.mkdir(dir);
    const ulid = newULID(T0);
    await writeBlock(dir, series, { ...blockRange(series), ulid });
    bdir = path.join(dir, ulid);
    const { buf } = await indexInfo();
    const postingsOff = Number(new DataView(buf.buffer, buf.byteOffset).getBigUint64(buf.length - 52 + 32));
    const listOff = Math.ceil(postingsOff / 4) * 4;
    await flip('index', () => listOff + 9);
    block = await Block.open(bdir);
    await expect(block.select(-Infinity, Infinity, [])).rejects.toThrow(new RegExp(`postings list at offset ${listOff}: checksum mismatch`));
    await block.close();
  });

  it('rejects truncated files and a bad meta.json', async () => {
    const p = path.join(bdir, 'index');
    const b = await fsp.readFile(p);
    await fsp.writeFile(p, b.subarray(0, b.length - 10));
    await expect(Block.open(bdir)).rejects.toThrow(BlockCorruptionError);
    await fsp.writeFile(p, b.subarray(0, 20));
    await expect(Block.open(bdir)).rejects.toThrow(/too short/);
    await fsp.writeFile(p, b);
    const mp = path.join(bdir, 'meta.json');
    const meta = JSON.parse(await fsp.readFile(mp, 'utf8'));
    await fsp.writeFile(mp, JSON.stringify({ ...meta, version: 2 }));
    await expect(Block.open(bdir)).rejects.toThrow(/meta.json: meta.json: unsupported version 2/);
    await fsp.writeFile(mp, JSON.stringify(meta));
    await fsp.writeFile(path.join(bdir, 'tombstones'), Buffer.from([0x01, 0x30, 0xba, 0x30, 0x01, 0, 0, 0, 1]));
    await expect(Block.open(bdir)).rejects.toThrow(/tombstones: checksum mismatch/);
  });

  it('never returns different data for a randomly corrupted index or segment: errors or identical results', async () => {
    const meta = readMeta(await fsp.readFile(path.join(bdir, 'meta.json')));
    const index = new Uint8Array(await fsp.readFile(path.join(bdir, 'index')));
    const seg = new Uint8Array(await fsp.readFile(path.join(bdir, 'chunks', '000001')));
    const summary = (ss: { labels: unknown; chunks: ChunkData[] }[]): string =>
      JSON.stringify(ss.map((s) => [s.labels, s.chunks.map((c) => [c.mint, c.maxt, c.encoding, Buffer.from(c.data).toString('hex')])]));
    const clean = await Block.fromSources(meta, new BufferByteSource(index), [new BufferByteSource(seg)]);
    const want = summary(await clean.select(-Infinity, Infinity, []));
    const r = rng(42);
    let errors = 0;
    for (let k = 0; k < 300; k++) {
      const target = k % 3 === 0 ? seg : index;
      const b = target.slice();
      const i = Math.floor(r() * b.length);
      b[i]! ^= 1 << Math.floor(r() * 8);
      try {
        const blk = await Block.fromSources(meta, new BufferByteSource(target === index ? b : index), [new BufferByteSource(target === seg ? b : seg)]);
        const got = summary(await blk.select(-Infinity, Infinity, []));
        expect(got).toBe(want); // only padding was hit
      } catch (e) {
        if (!(e instanceof BlockCorruptionError)) throw new Error(`flip at ${i}: ${(e as Error).stack}`);
        errors++;
      }
    }
    // Flips in alignment padding between series entries and postings lists are harmless.
    expect(errors).toBeGreaterThan(150);
  });

  it('does not treat a ref outside the series section as a series', async () => {
    const { ir } = await indexInfo();
    await expect(ir.series(0)).rejects.toThrow(/outside the series section/);
    await expect(ir.series(10 ** 9)).rejects.toThrow(/outside the series section/);
  });
});

describe('byte sources', () => {
  it('FileByteSource and BufferByteSource read exact ranges and reject out-of-range reads', async () => {
    const p = path.join(dir, 'f');
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff));
    await fsp.writeFile(p, data);
    const f = await FileByteSource.open(p);
    const m = new BufferByteSource(new Uint8Array(data));
    for (const s of [f, m]) {
      expect(await s.size()).toBe(1000);
      expect([...(await s.read(998, 2))]).toEqual([998 & 0xff, 999 & 0xff]);
      expect(await s.read(10, 0)).toHaveLength(0);
      await expect(s.read(999, 2)).rejects.toThrow(RangeError);
      await expect(s.read(-1, 1)).rejects.toThrow(RangeError);
    }
    await f.close();
    await expect(f.read(0, 1)).rejects.toThrow(/after close/);
  });
});
