/**
 * Blocks end to end against a real S3 HTTP server (s3rver through the minio client): the
 * ingester cuts blocks, ships them and shrinks its WAL; a fresh Strata with nothing local but the
 * bucket answers for the whole range, every sample exactly once; outages and broken blocks.
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { S3Bucket } from '@strata/objstore';
import { pushSeries, type SeriesInput } from '../helpers/remote-write';
import { startS3Server, strataS3Flags, type S3Server } from '../helpers/s3-server';
import { startStrata, type StrataInstance } from '../helpers/strata';
import { api, type MatrixSeries } from './api';

jest.setTimeout(180_000);

const P = '/prometheus/api/v1';
const RANGE = 10 * 60_000; // 10m blocks
const STEP = 30_000;
const SERIES = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function dirSize(d: string): number {
  if (!existsSync(d)) return 0;
  let n = 0;
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    n += e.isDirectory() ? dirSize(p) : statSync(p).size;
  }
  return n;
}

async function listKeys(s3: S3Server, prefix: string): Promise<string[]> {
  const b = new S3Bucket({ endpoint: s3.endpoint, bucketName: s3.bucket, accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey, insecure: true, region: 'us-east-1' });
  return b.iter(prefix, { recursive: true });
}

function strataArgs(s3: S3Server, extra: string[] = []): string[] {
  return [
    ...strataS3Flags(s3),
    '-blocks-storage.s3.region=us-east-1',
    `-blocks-storage.tsdb.block-ranges-period=${RANGE / 60_000}m`,
    '-blocks-storage.tsdb.head-compaction-interval=500ms',
    '-blocks-storage.tsdb.ship-interval=500ms',
    '-blocks-storage.bucket-store.sync-interval=500ms',
    '-querier.query-store-after=0',
    '-querier.query-ingesters-within=0',
    ...extra,
  ];
}

/** Series k at time t has value k*1e6 + t/STEP (so every sample is recognisable). */
function round(series: number, t: number): SeriesInput[] {
  return Array.from({ length: series }, (_, k) => ({ labels: { __name__: 'stored', k: String(k) }, samples: [{ t, v: k * 1e6 + t / STEP }] }));
}

async function queryAll(s: StrataInstance, tenant: string, start: number, end: number): Promise<MatrixSeries[]> {
  // A raw range selector returns every stored sample exactly as stored.
  const r = await api(s.url, `${P}/query`, { query: `stored[${Math.ceil((end - start) / 1000) + 1}s]`, time: String(end / 1000) }, { tenant });
  expect(r.status).toBe(200);
  return (r.json.data as { result: MatrixSeries[] }).result;
}

function expectExactlyOnce(got: MatrixSeries[], series: number, times: number[]) {
  expect(got).toHaveLength(series);
  for (const s of got) {
    const k = Number(s.metric.k);
    expect(s.values.map(([t]) => Math.round(t * 1000))).toEqual(times);
    for (const [t, v] of s.values) expect(Number(v)).toBe(k * 1e6 + Math.round(t * 1000) / STEP);
  }
}

describe('blocks in S3', () => {
  let s3: S3Server;
  beforeAll(async () => {
    s3 = await startS3Server();
  });
  afterAll(async () => {
    await s3?.stop();
  });

  test('cut, ship, WAL truncation, and a fresh Strata reading only the bucket', async () => {
    const tenant = 'store-a';
    const start = Math.floor((Date.now() - 6 * RANGE) / RANGE) * RANGE;
    const end = start + 5 * RANGE - STEP; // five block ranges
    const times: number[] = [];
    for (let t = start; t <= end; t += STEP) times.push(t);
    let s = await startStrata({ args: strataArgs(s3) });
    try {
      const walDir = join(s.dir, 'tsdb', tenant, 'wal');
      let maxWal = 0;
      for (const t of times) {
        expect((await pushSeries(s.pushUrl, round(SERIES, t), { tenant })).status).toBe(200);
        maxWal = Math.max(maxWal, dirSize(walDir));
      }
      // The head keeps at most ~1.5 ranges: at least 3 blocks get cut and shipped.
      let metas: string[] = [];
      for (let i = 0; i < 100 && metas.length < 3; i++) {
        await sleep(200);
        metas = (await listKeys(s3, `${tenant}/`)).filter((k) => k.endsWith('/meta.json'));
      }
      expect(metas.length).toBeGreaterThanOrEqual(3);
      const keys = await listKeys(s3, `${tenant}/`);
      for (const m of metas) {
        const ulid = m.split('/')[1]!;
        expect(keys).toEqual(expect.arrayContaining([`${tenant}/${ulid}/index`, `${tenant}/${ulid}/chunks/000001`]));
      }
      // Segments covered by a checkpoint are deleted: the WAL holds about the head only.
      expect(readdirSync(walDir)).not.toContain('00000000');
      expect(readdirSync(walDir).some((n) => n.startsWith('checkpoint.'))).toBe(true);
      expect(dirSize(walDir)).toBeLessThan(maxWal * 0.8);
      expect(existsSync(join(s.dir, 'tsdb', tenant, 'thanos.shipper.json'))).toBe(true);
      // Everything is readable (head + local/bucket blocks), each sample once.
      expectExactlyOnce(await queryAll(s, tenant, start, end), SERIES, times);
    } finally {
      await s.stop();
    }
    // A fresh Strata with an empty local directory: the shipped blocks are all there is.
    s = await startStrata({ args: strataArgs(s3) });
    try {
      const shipped = times.filter((t) => t < start + 3 * RANGE);
      const got = await queryAll(s, tenant, start, end);
      expect(got.length).toBe(SERIES);
      for (const ser of got) {
        const have = ser.values.map(([t]) => Math.round(t * 1000));
        // Every sample of the shipped ranges, once, in order.
        expect(have.slice(0, shipped.length)).toEqual(shipped);
        expect(new Set(have).size).toBe(have.length);
      }
    } finally {
      await s.stop();
    }
  });

  test('S3 down while shipping: writes are still accepted and blocks are shipped once it is back', async () => {
    const tenant = 'store-outage';
    const start = Math.floor((Date.now() - 6 * RANGE) / RANGE) * RANGE;
    const s = await startStrata({ args: strataArgs(s3) });
    try {
      await s3.kill();
      for (let t = start; t < start + 3 * RANGE; t += STEP) {
        expect((await pushSeries(s.pushUrl, round(5, t), { tenant })).status).toBe(200);
      }
      await sleep(2000);
      // Blocks were cut locally but could not be shipped.
      const local = readdirSync(join(s.dir, 'tsdb', tenant)).filter((n) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(n));
      expect(local.length).toBeGreaterThanOrEqual(1);
      await s3.start();
      let metas: string[] = [];
      for (let i = 0; i < 150 && metas.length < local.length; i++) {
        await sleep(200);
        metas = (await listKeys(s3, `${tenant}/`)).filter((k) => k.endsWith('/meta.json'));
      }
      expect(metas.length).toBeGreaterThanOrEqual(local.length);
    } finally {
      await s.stop();
    }
  });
});

describe('broken blocks in the bucket (filesystem backend)', () => {
  test('a block without meta.json is ignored; a corrupt index gives an error naming the block', async () => {
    const tenant = 'broken';
    const RANGE_ARGS = [`-blocks-storage.tsdb.block-ranges-period=${RANGE / 60_000}m`, '-blocks-storage.tsdb.head-compaction-interval=300ms', '-blocks-storage.tsdb.ship-interval=300ms', '-blocks-storage.bucket-store.sync-interval=300ms', '-querier.query-store-after=0', '-querier.query-ingesters-within=0'];
    const start = Math.floor((Date.now() - 6 * RANGE) / RANGE) * RANGE;
    let s = await startStrata({ args: RANGE_ARGS, keepDir: true });
    const dir = s.dir;
    const bucketDir = join(dir, 'bucket', tenant);
    try {
      for (let t = start; t < start + 3 * RANGE; t += STEP) {
        expect((await pushSeries(s.pushUrl, round(3, t), { tenant })).status).toBe(200);
      }
      for (let i = 0; i < 100 && !(existsSync(bucketDir) && readdirSync(bucketDir).length > 0); i++) await sleep(100);
      await sleep(1000);
    } finally {
      await s.stop();
    }
    const ulids = readdirSync(bucketDir).sort();
    expect(ulids.length).toBeGreaterThanOrEqual(1);
    // A partial upload: no meta.json.
    const partial = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
    mkdirSync(join(bucketDir, partial, 'chunks'), { recursive: true });
    writeFileSync(join(bucketDir, partial, 'index'), 'garbage');
    // Start from the bucket only.
    rmSync(join(dir, 'tsdb'), { recursive: true, force: true });
    s = await startStrata({ args: RANGE_ARGS, dir });
    try {
      const ok = await api(s.url, `${P}/query`, { query: 'count_over_time(stored[1h])', time: String((start + 3 * RANGE) / 1000) }, { tenant });
      expect(ok.status).toBe(200);
      expect((ok.json.data as { result: unknown[] }).result).toHaveLength(3);
    } finally {
      await s.stop();
    }
    // Corrupt the first block's index.
    const idx = join(bucketDir, ulids[0]!, 'index');
    const buf = readFileSync(idx);
    for (let i = 100; i < Math.min(buf.length - 60, 400); i++) buf[i] = buf[i]! ^ 0xff;
    writeFileSync(idx, buf);
    s = await startStrata({ args: RANGE_ARGS, dir });
    try {
      const bad = await api(s.url, `${P}/query`, { query: 'count_over_time(stored[1h])', time: String((start + 3 * RANGE) / 1000) }, { tenant });
      expect(bad.status).toBeGreaterThanOrEqual(400);
      expect(bad.json.error).toContain(ulids[0]!);
      expect((await fetch(`${s.url}/ready`)).status).toBe(200); // no crash
    } finally {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
