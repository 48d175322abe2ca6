import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRegistry, nopLogger } from '@strata/common';
import { FilesystemBucket } from '@strata/objstore';
import {
  Block,
  ChunkSeries,
  MatchType,
  Matcher,
  SampleBuffer,
  XorAppender,
  compareLabels,
  floatToBits,
  labelsFromObject,
  mergeSeriesChunks,
  mergeSeriesLists,
  newULID,
  readSeriesInto,
  writeBlock,
  type BlockSeries,
  type ChunkData,
  type Labels,
  type Series,
} from '@strata/tsdb-core';
import { BucketStore } from './bucket-store';
import { xorshift32 as rng } from '../../../tests/helpers/prng';

const H = 2 * 3600_000;
const T0 = 1700000000000 - (1700000000000 % H);
const TENANT = 'team-a';

const F = new Uint32Array(2);

function chunks(r: () => number, from: number, to: number): ChunkData[] {
  const out: ChunkData[] = [];
  let app = new XorAppender();
  let v = 0;
  for (let t = from + Math.floor(r() * 15000); t < to; t += 15000 + Math.floor(r() * 3)) {
    v += Math.floor(r() * 5);
    floatToBits(v, F);
    app.append(t, F[0]!, F[1]!);
    if (app.numSamples() === 120) {
      out.push({ mint: app.minTime(), maxt: app.maxTime(), encoding: 1, data: app.bytes().slice() });
      app = new XorAppender();
    }
  }
  if (app.numSamples() > 0) out.push({ mint: app.minTime(), maxt: app.maxTime(), encoding: 1, data: app.bytes().slice() });
  return out;
}

function samples(s: Series, mint: number, maxt: number, buf: SampleBuffer): number[] {
  buf.reset();
  readSeriesInto(s, mint, maxt, buf);
  return [...buf.ts.subarray(0, buf.n), ...buf.vs.subarray(0, buf.n)];
}

describe('BucketStore.querier().select', () => {
  let root: string;
  let tdir: string;
  beforeEach(async () => {
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'strata-bucket-store-'));
    tdir = path.join(root, TENANT);
    await fsp.mkdir(tdir);
  });
  afterEach(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });

  /** A block of `sets` over [from, from + H). */
  async function block(r: () => number, from: number, sets: Labels[]): Promise<string> {
    const series: BlockSeries[] = sets.map((labels) => ({ labels, chunks: chunks(r, from, from + H) }));
    const ulid = newULID(from + Math.floor(r() * 1000));
    await writeBlock(tdir, series, { minTime: from, maxTime: from + H, ulid });
    return ulid;
  }

  /** What BucketStore.select did before block selections: chains of Block.select, mergeSeriesChunks, then mergeSeriesLists. */
  async function reference(mint: number, maxt: number, matchers: Matcher[]): Promise<Series[]> {
    const blocks: Block[] = [];
    for (const u of await fsp.readdir(tdir)) blocks.push(await Block.open(path.join(tdir, u)));
    const chains: Block[][] = [];
    for (const b of blocks.filter((x) => x.maxTime > mint && x.minTime <= maxt).sort((x, y) => x.minTime - y.minTime)) {
      const chain = chains.find((c) => c[c.length - 1]!.maxTime <= b.minTime);
      if (chain !== undefined) chain.push(b);
      else chains.push([b]);
    }
    const perChain = await Promise.all(
      chains.map(async (chain) => {
        const lists = await Promise.all(chain.map((b) => b.select(mint, maxt, matchers)));
        return mergeSeriesChunks(lists).map((s) => new ChunkSeries(s.labels, s.chunks, mint, maxt));
      }),
    );
    const out = mergeSeriesLists(perChain);
    // The series hold views of read buffers, not open files.
    await Promise.all(blocks.map((b) => b.close()));
    return out;
  }

  async function check(store: BucketStore, r: () => number): Promise<number> {
    const q = store.querier(TENANT);
    const buf = new SampleBuffer(4);
    let n = 0;
    for (const matchers of [[new Matcher(MatchType.EQ, 'job', 'x')], [new Matcher(MatchType.RE, 'i', '1.*')], []]) {
      for (const [mint, maxt] of [
        [T0 - H, T0 + 20 * H],
        [T0 + Math.floor(r() * 6 * H), T0 + 6 * H + Math.floor(r() * 4 * H)],
      ] as const) {
        const got = await q.select(mint, maxt, matchers);
        const want = await reference(mint, maxt, matchers);
        expect(got.map((s) => s.labels)).toEqual(want.map((s) => s.labels));
        for (let i = 0; i < got.length; i++) expect(samples(got[i]!, mint, maxt, buf)).toEqual(samples(want[i]!, mint, maxt, buf));
        n += got.length;
      }
    }
    return n;
  }

  it('merges consecutive blocks (with and without churn) and overlapping replicas, before and after blocks go', async () => {
    const r = rng(5);
    const all = Array.from({ length: 30 }, (_, i) => labelsFromObject({ __name__: `m${i % 4}`, i: String(i), job: i % 2 ? 'x' : 'y' })).sort(compareLabels);
    const stable = all.filter((_, i) => i % 3 !== 0);
    const ulids: string[] = [];
    for (let b = 0; b < 8; b++) ulids.push(await block(r, T0 + b * H, b < 5 ? stable : all.filter(() => r() < 0.7)));
    // Replicas of blocks 2 and 3 (another chain), with some other series.
    ulids.push(await block(r, T0 + 2 * H, all.filter(() => r() < 0.5)));
    ulids.push(await block(r, T0 + 3 * H, stable));

    const store = new BucketStore(new FilesystemBucket(root), { syncInterval: 0 }, nopLogger(), createRegistry(false));
    await store.start();
    expect(store.blocks(TENANT)).toHaveLength(10);
    expect(await check(store, r)).toBeGreaterThan(50);

    // Blocks deleted (the symbol pool is rebuilt) and one added.
    await fsp.rm(path.join(tdir, ulids[1]!), { recursive: true });
    await fsp.rm(path.join(tdir, ulids[8]!), { recursive: true });
    await block(r, T0 + 8 * H, stable);
    await store.sync();
    expect(store.blocks(TENANT)).toHaveLength(9);
    expect(await check(store, r)).toBeGreaterThan(50);
    await store.stop();
  });
});
