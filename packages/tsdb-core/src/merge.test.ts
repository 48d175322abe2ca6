import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BufferByteSource } from './block/byte-source';
import { SymbolPool } from './block/index-reader';
import { Block } from './block/reader';
import { encodeTombstones } from './block/tombstones';
import { writeBlock, type BlockSeries } from './block/writer';
import { ChunkSeries } from './chunk-series';
import { STALE_HI, STALE_LO, XorAppender, floatToBits } from './chunkenc/xor';
import type { ChunkData } from './ingest';
import { compareLabels, labelsFromObject, type Labels } from './labels';
import { Matcher, MatchType } from './matchers';
import { mergeBlockSelections, mergeSeriesChunks, mergeSeriesLists } from './merge';
import type { Series } from './querier';
import { SampleBuffer } from './sample-buffer';
import { newULID } from './ulid';
import { xorshift32 as rng } from '../../../tests/helpers/prng';

const H = 2 * 3600_000;
const T0 = 1700000000000 - (1700000000000 % H);

const F = new Uint32Array(2);

/** Chunks of random samples within [from, to), `perChunk` samples each. */
function randomChunks(r: () => number, from: number, to: number, perChunk: number): ChunkData[] {
  const out: ChunkData[] = [];
  let app = new XorAppender();
  const flush = (): void => {
    if (app.numSamples() > 0) out.push({ mint: app.minTime(), maxt: app.maxTime(), encoding: 1, data: app.bytes().slice() });
    app = new XorAppender();
  };
  const step = 5000 + Math.floor(r() * 60000);
  let v = Math.floor(r() * 100);
  for (let t = from + Math.floor(r() * step); t < to; t += step + (r() < 0.1 ? Math.floor(r() * 600000) : 0)) {
    const x = r();
    if (x < 0.03) {
      app.append(t, STALE_HI, STALE_LO);
    } else {
      v = x < 0.05 ? NaN : x < 0.5 ? v + Math.floor(r() * 10) : r() * 1e6;
      floatToBits(v, F);
      app.append(t, F[0]!, F[1]!);
    }
    if (app.numSamples() >= perChunk) flush();
  }
  flush();
  return out;
}

/** A universe of label sets, some sharing prefixes, some non-ASCII. */
function universe(n: number, r: () => number): Labels[] {
  const out: Labels[] = [];
  for (let i = 0; i < n; i++) {
    const o: Record<string, string> = { __name__: ['up', 'reqs_total', 'métrique', 'z😀'][i % 4]!, instance: `h-${i % 13}` };
    if (i % 3 === 0) o.job = ['api', 'db', 'Ａ'][i % 3]!;
    if (r() < 0.3) o.pod = `pod-${Math.floor(r() * 5)}`;
    out.push(labelsFromObject(o));
  }
  const seen = new Set<string>();
  return out.filter((l) => !seen.has(JSON.stringify(l)) && !!seen.add(JSON.stringify(l))).sort(compareLabels);
}

interface Got {
  ts: number[];
  bits: number[];
  stale: number[];
}

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function viaDecodeInto(s: Series, mint: number, maxt: number, buf: SampleBuffer): Got {
  buf.reset();
  s.decodeInto!(mint, maxt, buf);
  const got: Got = { ts: Array.from(buf.ts.subarray(0, buf.n)), bits: [], stale: Array.from(buf.staleTs.subarray(0, buf.nStale)) };
  for (let i = 0; i < buf.n; i++) got.bits.push(buf.vbits[2 * i + (LE ? 1 : 0)]!, buf.vbits[2 * i + (LE ? 0 : 1)]!);
  return got;
}

function viaIterator(s: Series, mint: number, maxt: number): Got {
  const got: Got = { ts: [], bits: [], stale: [] };
  const it = s.iterator();
  while (it.next()) {
    if (it.t < mint) continue;
    if (it.t > maxt) break;
    if (it.stale) got.stale.push(it.t);
    else {
      got.ts.push(it.t);
      floatToBits(it.v, F);
      // NaN payloads other than the stale marker may not survive a float round trip: compare NaN-ness.
      if (Number.isNaN(it.v)) got.bits.push(-1, -1);
      else got.bits.push(F[0]!, F[1]!);
    }
  }
  return got;
}

function nanAsMinusOne(g: Got): Got {
  const bits = g.bits.slice();
  for (let i = 0; i < bits.length; i += 2) {
    const hi = bits[i]!;
    if ((hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) !== 0 || bits[i + 1] !== 0)) bits[i] = bits[i + 1] = -1;
  }
  return { ...g, bits };
}

describe('mergeBlockSelections', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'strata-merge-'));
  });
  afterAll(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  async function openPooled(bdir: string, pool: SymbolPool): Promise<Block> {
    const plain = await Block.open(bdir);
    const meta = plain.meta;
    await plain.close();
    const chunks = (await fsp.readdir(path.join(bdir, 'chunks'))).sort();
    let tomb: BufferByteSource | undefined;
    try {
      tomb = new BufferByteSource(await fsp.readFile(path.join(bdir, 'tombstones')));
    } catch {
      tomb = undefined;
    }
    return Block.fromSources(
      meta,
      new BufferByteSource(await fsp.readFile(path.join(bdir, 'index'))),
      await Promise.all(chunks.map(async (c) => new BufferByteSource(await fsp.readFile(path.join(bdir, 'chunks', c))))),
      tomb,
      { symbolPool: pool },
    );
  }

  /** Writes `k` consecutive 2h blocks; `mode` says how the series sets of consecutive blocks relate. */
  async function writeBlocks(seed: number, k: number, mode: 'same' | 'churn' | 'runs'): Promise<string[]> {
    const r = rng(seed);
    const all = universe(40, r);
    const dirs: string[] = [];
    let set = all.filter(() => r() < 0.6);
    for (let b = 0; b < k; b++) {
      if (mode === 'churn' || (mode === 'runs' && r() < 0.3)) set = all.filter(() => r() < 0.6);
      const from = T0 + b * H;
      const perChunk = 5 + Math.floor(r() * 120);
      const series: BlockSeries[] = set.map((labels) => ({ labels, chunks: randomChunks(r, from, from + H, perChunk) }));
      const ulid = newULID(from);
      await writeBlock(dir, series, { minTime: from, maxTime: from + H, ulid });
      const bdir = path.join(dir, ulid);
      if (r() < 0.3) {
        // Tombstones on a few series.
        const blk = await Block.open(bdir);
        const ids = await blk.index.postings('', '');
        await blk.close();
        const ts = new Map<number, { mint: number; maxt: number }[]>();
        for (const id of ids) {
          if (r() < 0.2) ts.set(id, [{ mint: from + Math.floor(r() * H), maxt: from + Math.floor(r() * H) + (r() < 0.2 ? H : 600000) }]);
        }
        await fsp.writeFile(path.join(bdir, 'tombstones'), encodeTombstones(ts));
      }
      dirs.push(bdir);
    }
    return dirs;
  }

  const cases: [number, number, 'same' | 'churn' | 'runs'][] = [
    [1, 1, 'same'],
    [2, 6, 'same'],
    [3, 7, 'churn'],
    [4, 9, 'runs'],
    [5, 12, 'runs'],
    [6, 3, 'churn'],
  ];

  it.each(cases)('merges like mergeSeriesChunks + ChunkSeries (seed %d, %d blocks, %s)', async (seed, k, mode) => {
    const dirs = await writeBlocks(seed, k, mode);
    const r = rng(seed * 77);
    const pool = new SymbolPool();
    const plain = await Promise.all(dirs.map((d) => Block.open(d)));
    const pooled = await Promise.all(dirs.map((d) => openPooled(d, pool)));
    if (mode === 'same') {
      // Identical symbol tables are shared.
      expect(new Set(pooled.map((b) => b.index.symbolTable)).size).toBe(1);
    }
    const matcherSets = [[], [new Matcher(MatchType.EQ, 'job', 'api')], [new Matcher(MatchType.RE, '__name__', 'up|m.*')], [new Matcher(MatchType.NEQ, 'pod', '')]];
    const buf = new SampleBuffer(8);
    let compared = 0;
    for (let q = 0; q < 6; q++) {
      const matchers = matcherSets[q % matcherSets.length]!;
      const span = k * H;
      const mint = q === 0 ? -Infinity : T0 + Math.floor(r() * span) - H / 2;
      const maxt = q === 0 ? Infinity : mint + Math.floor(r() * span);
      const lists = await Promise.all(plain.map((b) => b.select(mint, maxt, matchers)));
      const want = mergeSeriesChunks(lists).map((s) => new ChunkSeries(s.labels, s.chunks, mint, maxt));
      for (const blocks of [plain, pooled]) {
        for (const reverse of [false, true]) {
          const sels = await Promise.all(blocks.map((b) => b.selectColumns(mint, maxt, matchers)));
          if (reverse) sels.reverse();
          const got = mergeBlockSelections(sels, mint, maxt);
          const ref = reverse ? mergeSeriesChunks(lists.slice().reverse()).map((s) => new ChunkSeries(s.labels, s.chunks, mint, maxt)) : want;
          expect(got.map((s) => s.labels)).toEqual(ref.map((s) => s.labels));
          for (let i = 0; i < got.length; i++) {
            const g = got[i]!;
            const w = ref[i]!;
            for (const [lo, hi] of [
              [mint, maxt],
              [T0 + Math.floor(r() * span), T0 + Math.floor(r() * span) + H],
            ] as const) {
              expect(nanAsMinusOne(viaDecodeInto(g, lo, hi, buf))).toEqual(viaIterator(w, lo, hi));
              compared++;
            }
            expect(viaIterator(g, -Infinity, Infinity)).toEqual(viaIterator(w, -Infinity, Infinity));
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(50);
    await Promise.all([...plain, ...pooled].map((b) => b.close()));
  });

  it('returns nothing for no or empty selections', async () => {
    expect(mergeBlockSelections([], 0, 1)).toEqual([]);
    const dirs = await writeBlocks(99, 2, 'same');
    const blocks = await Promise.all(dirs.map((d) => Block.open(d)));
    const sels = await Promise.all(blocks.map((b) => b.selectColumns(0, 1, [])));
    expect(sels.map((s) => s.numSeries)).toEqual([0, 0]);
    expect(mergeBlockSelections(sels, 0, 1)).toEqual([]);
    await Promise.all(blocks.map((b) => b.close()));
  });
});

describe('SymbolPool', () => {
  it('shares strings and identical tables', () => {
    const pool = new SymbolPool();
    const mk = (xs: string[]): string[] => xs.map((x) => (x + ' ').trimEnd()); // fresh string objects
    const a = mk(['a', 'b', 'c']);
    const b = mk(['a', 'b', 'c']);
    const c = mk(['a', 'b', 'd']);
    expect(pool.intern(a)).toBe(a);
    expect(pool.intern(b)).toBe(a);
    const tc = pool.intern(c);
    expect(tc).toBe(c);
    expect(tc[0]).toBe(a[0]);
    expect(pool.size).toBe(4);
  });
});

describe('merged series decodeInto', () => {
  /** What iterating a series gives within [mint, maxt]: [t, v or 'stale'] pairs. */
  function viaIterator(s: Series, mint: number, maxt: number): [number, number | string][] {
    const out: [number, number | string][] = [];
    const it = s.iterator();
    while (it.next()) if (it.t >= mint && it.t <= maxt) out.push([it.t, it.stale ? 'stale' : it.v]);
    return out;
  }
  function viaDecode(s: Series, mint: number, maxt: number): [number, number | string][] {
    const b = new SampleBuffer(4);
    s.decodeInto!(mint, maxt, b);
    const out: [number, number | string][] = [];
    for (let i = 0; i < b.n; i++) out.push([b.ts[i]!, b.vs[i]!]);
    for (let i = 0; i < b.nStale; i++) out.push([b.staleTs[i]!, 'stale']);
    return out.sort((x, y) => x[0] - y[0]);
  }

  test('gives what iterating gives: overlapping replicas, ties, stale markers, cuts, nested merges', () => {
    const r = rng(99);
    const ls = labelsFromObject({ __name__: 'm' });
    for (let iter = 0; iter < 300; iter++) {
      // Replicas of one series: the same timestamps with (sometimes) other values, plus gaps.
      const base = randomChunks(r, T0, T0 + 4 * H, 1 + Math.floor(r() * 130));
      const lists: Series[][] = [];
      const k = 2 + Math.floor(r() * 3);
      for (let p = 0; p < k; p++) {
        const chunks = r() < 0.5 ? base : randomChunks(r, T0 + Math.floor(r() * H), T0 + 3 * H, 120);
        lists.push([new ChunkSeries(ls, chunks, T0 - H, T0 + 5 * H)]);
      }
      let merged = mergeSeriesLists(lists)[0]!;
      if (r() < 0.3) {
        // A merge of merges (scratch buffers per nesting depth).
        merged = mergeSeriesLists([[merged], [new ChunkSeries(ls, randomChunks(r, T0, T0 + 2 * H, 60), T0, T0 + 2 * H)]])[0]!;
      }
      const mint = r() < 0.5 ? -Infinity : T0 + Math.floor(r() * 2 * H);
      const maxt = r() < 0.5 ? Infinity : mint === -Infinity ? T0 + 2 * H : mint + Math.floor(r() * 2 * H);
      expect(viaDecode(merged, mint, maxt)).toEqual(viaIterator(merged, mint, maxt));
    }
  });
});
