/**
 * Microservices mode as separate processes: Redis (ring, HA tracker), an S3 server, 2
 * distributors, 3 ingesters (RF 3) and a querier. Ingesters are killed while writes go on.
 */
import { S3Bucket } from '@strata/objstore';
import { pushSeries, type SeriesInput } from '../helpers/remote-write';
import { startRedis, type RedisServer } from '../helpers/redis';
import { startS3Server, strataS3Flags, type S3Server } from '../helpers/s3-server';
import { startStrata, type StrataInstance } from '../helpers/strata';
import { api, type MatrixSeries } from './api';

jest.setTimeout(300_000);

const P = '/prometheus/api/v1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RingJSON {
  shards: { id: string; state: string; tokens: number[] }[];
}

async function ring(url: string): Promise<RingJSON> {
  const r = await fetch(`${url}/ingester/ring?format=json`, { headers: { Accept: 'application/json' } });
  return (await r.json()) as RingJSON;
}

async function waitFor(what: string, f: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('microservices: RF 3 over gRPC with a Redis ring', () => {
  let redis: RedisServer;
  let s3: S3Server;
  const ingesters = new Map<string, StrataInstance>();
  const dirs = new Map<string, string>();
  let d1: StrataInstance;
  let d2: StrataInstance;
  let q: StrataInstance;

  const common = () => [
    '-ingester.ring.store=redis',
    `-ingester.ring.redis.endpoint=${redis.endpoint}`,
    '-ingester.ring.heartbeat-period=500ms',
    '-ingester.ring.heartbeat-timeout=4s',
    '-ingester.ring.replication-factor=3',
    ...strataS3Flags(s3),
    '-blocks-storage.bucket-store.sync-interval=1s',
    '-querier.query-ingesters-within=0',
    '-querier.query-store-after=0',
    '-distributor.ingestion-rate-limit=1e9',
    '-distributor.ingestion-burst-size=1000000000',
  ];
  const startIngester = async (id: string) => {
    const inst = await startStrata({
      args: ['-target=ingester', `-ingester.ring.instance-id=${id}`, ...common()],
      ...(dirs.has(id) ? { dir: dirs.get(id)! } : { keepDir: true }),
    });
    dirs.set(id, inst.dir);
    ingesters.set(id, inst);
    return inst;
  };

  beforeAll(async () => {
    redis = await startRedis();
    s3 = await startS3Server();
    await Promise.all(['ingester-1', 'ingester-2', 'ingester-3'].map(startIngester));
    const ha = ['-distributor.ha-tracker.enable', '-distributor.ha-tracker.enable-for-all-users', '-distributor.ha-tracker.update-timeout=500ms', '-distributor.ha-tracker.update-timeout-jitter-max=0s', '-distributor.ha-tracker.failover-timeout=3s'];
    [d1, d2, q] = await Promise.all([
      startStrata({ args: ['-target=distributor', ...common(), ...ha] }),
      startStrata({ args: ['-target=distributor', ...common(), ...ha] }),
      startStrata({ args: ['-target=querier', ...common()] }),
    ]);
    await waitFor('3 ACTIVE ingesters', async () => (await ring(d1.url)).shards.filter((i) => i.state === 'ACTIVE').length === 3);
  });

  afterAll(async () => {
    await Promise.all([d1?.stop(), d2?.stop(), q?.stop()]);
    await Promise.all([...ingesters.values()].map((i) => i.stop()));
    await s3?.stop();
    await redis?.stop();
    const { rmSync } = await import('node:fs');
    for (const d of dirs.values()) rmSync(d, { recursive: true, force: true });
  });

  const SERIES = 20;
  const start = Math.floor(Date.now() / 1000) * 1000 - 600_000;
  let next = 0;
  const acked: number[] = [];
  const statuses: number[] = [];
  const write = async (n: number) => {
    for (let k = 0; k < n; k++) {
      const i = next++;
      const body: SeriesInput[] = Array.from({ length: SERIES }, (_, s) => ({ labels: { __name__: 'rf3', s: String(s) }, samples: [{ t: start + i * 1000, v: i }] }));
      const r = await pushSeries((i % 2 === 0 ? d1 : d2).pushUrl, body, { tenant: 'ms' });
      statuses.push(r.status);
      if (r.status === 200) acked.push(i);
    }
  };
  const checkExactlyOnce = async () => {
    const r = await api(q.url, `${P}/query`, { query: 'rf3[1h]', time: String((start + next * 1000) / 1000) }, { tenant: 'ms' });
    expect(r.status).toBe(200);
    const got = (r.json.data as { result: MatrixSeries[] }).result;
    expect(got).toHaveLength(SERIES);
    const want = acked.map((i) => start + i * 1000);
    for (const s of got) {
      const ts = s.values.map(([t]) => Math.round(t * 1000));
      expect(new Set(ts).size).toBe(ts.length); // exactly once
      const have = new Set(ts);
      expect(want.filter((t) => !have.has(t))).toEqual([]);
    }
  };

  test('metric metadata goes through a distributor to 3 ingesters and back through the querier', async () => {
    const metadata = [
      { type: 'counter' as const, metricFamilyName: 'rf3', help: 'Replicated counter — a test.' },
      { type: 'gauge' as const, metricFamilyName: 'temp', help: 'Temperature.', unit: 'celsius' },
    ];
    expect((await pushSeries(d1.pushUrl, [], { tenant: 'ms', metadata })).status).toBe(200);
    const r = await api(q.url, `${P}/metadata`, {}, { tenant: 'ms' });
    expect(r.json.data).toEqual({
      rf3: [{ type: 'counter', help: 'Replicated counter — a test.', unit: '' }],
      temp: [{ type: 'gauge', help: 'Temperature.', unit: 'celsius' }],
    });
    // Replication factor 3 over 3 ingesters: every entry is on each of them.
    for (const ing of ingesters.values()) {
      const m = (await fetch(`${ing.url}/metrics`).then((x) => x.text())).match(/^cortex_ingester_memory_metadata (\S+)/m);
      expect(Number(m?.[1])).toBe(2);
    }
    expect((await api(q.url, `${P}/metadata`, {}, { tenant: 'other' })).json.data).toEqual({});
  });

  test('one ingester killed: writes stay 2xx and every acknowledged sample is read exactly once', async () => {
    await write(50);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const before = (await ring(d1.url)).shards.find((i) => i.id === 'ingester-2')!;
    await ingesters.get('ingester-2')!.kill();
    statuses.length = 0;
    await write(50);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    await checkExactlyOnce();
    // Restart with the same ID and data: it replays its WAL and rejoins with the same tokens.
    await startIngester('ingester-2'); // ready = WAL replayed and ACTIVE in the ring
    const after = (await ring(d1.url)).shards.find((i) => i.id === 'ingester-2')!;
    expect(after.state).toBe('ACTIVE');
    expect(after.tokens).toEqual(before.tokens);
    await write(20);
    await checkExactlyOnce();
  });

  test('two ingesters killed: writes fail with 5xx and nothing acknowledged is lost', async () => {
    await ingesters.get('ingester-2')!.kill();
    await ingesters.get('ingester-3')!.kill();
    statuses.length = 0;
    await write(10);
    expect(statuses.every((s) => s >= 500)).toBe(true);
    await Promise.all([startIngester('ingester-2'), startIngester('ingester-3')]);
    await checkExactlyOnce();
  });

  test('the ring page lists the ingesters as HTML and JSON', async () => {
    const html = await (await fetch(`${q.url}/ingester/ring`)).text();
    for (const id of ['ingester-1', 'ingester-2', 'ingester-3']) expect(html).toContain(id);
    expect(html).toContain('ACTIVE');
    // A fourth ingester joins, then leaves on SIGTERM.
    const i4 = await startIngester('ingester-4');
    await waitFor('ingester-4 in the ring', async () => (await ring(d1.url)).shards.some((i) => i.id === 'ingester-4'));
    // With 4 ingesters and RF 3, ingester-4 receives about 3/4 of the series.
    statuses.length = 0;
    await write(10);
    expect(statuses.every((st) => st === 200)).toBe(true);
    const shipped = async () => {
      const b = new S3Bucket({ endpoint: s3.endpoint, bucketName: s3.bucket, accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey, insecure: true, region: 'us-east-1' });
      return (await b.iter('ms/', { recursive: true })).filter((k) => k.endsWith('/meta.json')).length;
    };
    const before = await shipped();
    // SIGTERM: LEAVING, head cut into blocks and shipped, then it leaves the ring.
    await i4.stop();
    expect(await shipped()).toBeGreaterThan(before);
    ingesters.delete('ingester-4');
    await waitFor('ingester-4 gone', async () => !(await ring(q.url)).shards.some((i) => i.id === 'ingester-4'));
  });

  test('HA pair: only the elected replica is stored; failover after the timeout', async () => {
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 300_000;
    let i = 0;
    const push = (replica: string, d: StrataInstance) =>
      pushSeries(d.pushUrl, [{ labels: { __name__: 'ha_metric', cluster: 'c1', __replica__: replica }, samples: [{ t: t0 + i * 1000, v: replica === 'r1' ? 1 : 2 }] }], { tenant: 'ha' });
    const codes: Record<string, number[]> = { r1: [], r2: [] };
    for (let k = 0; k < 10; k++, i++) {
      codes.r1!.push((await push('r1', d1)).status);
      codes.r2!.push((await push('r2', d2)).status);
    }
    expect(new Set(codes.r1)).toEqual(new Set([200]));
    expect(new Set(codes.r2)).toEqual(new Set([202]));
    // r1 stops; r2 keeps sending and takes over once r1 has been silent for the failover timeout.
    const deadline = Date.now() + 20_000;
    let took = false;
    while (Date.now() < deadline && !took) {
      took = (await push('r2', d2)).status === 200;
      i++;
      await sleep(250);
    }
    expect(took).toBe(true);
    const r = await api(q.url, `${P}/query`, { query: 'ha_metric[10m]', time: String((t0 + i * 1000) / 1000) }, { tenant: 'ha' });
    const got = (r.json.data as { result: MatrixSeries[] }).result;
    expect(got.map((x) => x.metric)).toEqual([{ __name__: 'ha_metric', cluster: 'c1' }]); // replica label removed
    const values = got[0]!.values.map(([, v]) => v);
    expect(values.slice(0, 10)).toEqual(Array(10).fill('1'));
    expect(values[values.length - 1]).toBe('2');
    const page = await (await fetch(`${d1.url}/distributor/ha_tracker`)).text();
    expect(page).toContain('r2');
  });
});
