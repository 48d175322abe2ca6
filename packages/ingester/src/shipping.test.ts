import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Overrides, createRegistry, defaultConfig, limitsFromConfig, nopLogger } from '@strata/common';
import { FilesystemBucket, type Bucket } from '@strata/objstore';
import { ChunkSeries, MatchType, Matcher, WriteBatch, floatToBits, isULID, labelsFromObject, seriesKeyFromLabels } from '@strata/tsdb-core';
import { Ingester, type IngesterConfig } from './ingester';
import { SHIPPER_FILE } from './shipper';

const R = 60_000; // 1m blocks
const bits = new Uint32Array(2);

function batch(n: number, t: number): WriteBatch {
  const b = new WriteBatch(n);
  for (let k = 0; k < n; k++) {
    floatToBits(t / 1000 + k, bits);
    b.addSample(t, bits[0]!, bits[1]!);
    b.endSeries(seriesKeyFromLabels(labelsFromObject({ __name__: 'm', k: String(k) })));
  }
  return b;
}

describe('ingester blocks and shipping', () => {
  let dir: string;
  let bucketDir: string;
  let bucket: Bucket;
  let now = 3 * R;
  const make = (cfg: Partial<IngesterConfig> = {}, b: Bucket | undefined = bucket) =>
    new Ingester(
      { tsdbDir: join(dir, 'tsdb'), blockRange: R, retentionPeriod: 3 * R, ...cfg },
      { overrides: new Overrides({ ...limitsFromConfig(defaultConfig()), maxGlobalSeriesPerUser: 0 }), registry: createRegistry(false), logger: nopLogger(), bucket: b, now: () => now },
    );
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ship-'));
    bucketDir = join(dir, 'bucket');
    bucket = new FilesystemBucket(bucketDir);
    now = 3 * R; // retention 3m: nothing is old enough to delete yet
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function fill(ing: Ingester, from: number, to: number) {
    for (let t = from; t < to; t += 5000) expect((await ing.push('t1', batch(4, t))).appended).toBe(4);
  }

  async function samplesOf(ing: Ingester): Promise<number[]> {
    const res = await ing.queryChunks('t1', 0, 1e12, [new Matcher(MatchType.EQ, 'k', '0')]);
    const it = new ChunkSeries(res[0]!.labels, res[0]!.chunks, 0, 1e12).iterator();
    const ts: number[] = [];
    while (it.next()) ts.push(it.t);
    return ts;
  }

  test('cuts blocks once the head spans 1.5 ranges, checkpoints the WAL, ships meta.json last', async () => {
    const ing = make();
    await ing.start();
    await fill(ing, 0, 3 * R);
    await ing.compactAll();
    const tenantDir = join(dir, 'tsdb', 't1');
    const blocks = readdirSync(tenantDir).filter(isULID);
    expect(blocks.length).toBe(2); // [0,1m) and [1m,2m); the head keeps [2m,3m)
    expect(readdirSync(join(tenantDir, 'wal')).some((n) => n.startsWith('checkpoint.'))).toBe(true);
    // All samples still answer exactly once (local blocks + head).
    const want = Array.from({ length: 36 }, (_, i) => i * 5000);
    expect(await samplesOf(ing)).toEqual(want);
    // Samples inside a cut block are now too old.
    const late = await ing.push('t1', batch(1, R + 1000));
    expect(late.firstError?.id).toBe('sample-timestamp-too-old');

    expect(await ing.shipAll()).toBe(2);
    for (const u of blocks) {
      expect(readdirSync(join(bucketDir, 't1', u)).sort()).toEqual(['chunks', 'index', 'meta.json', 'tombstones']);
    }
    expect(JSON.parse(readFileSync(join(tenantDir, SHIPPER_FILE), 'utf8')).uploaded.sort()).toEqual(blocks.sort());
    expect(await ing.shipAll()).toBe(0); // nothing new

    // Retention: shipped blocks older than 3m are deleted locally.
    now = 10 * R;
    await ing.shipAll();
    expect(readdirSync(tenantDir).filter(isULID)).toEqual([]);
    await ing.stop();
  });

  test('a restart replays checkpoint + WAL and ships what was not shipped before', async () => {
    const ing = make({}, undefined); // no bucket: blocks stay local
    await ing.start();
    await fill(ing, 0, 3 * R);
    await ing.compactAll();
    await ing.stop();
    const again = make({ shipInterval: 60_000 });
    await again.start(); // ships on start
    for (let i = 0; i < 50 && !existsSync(join(bucketDir, 't1')); i++) await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 50 && readdirSync(join(bucketDir, 't1')).length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(join(bucketDir, 't1')).filter(isULID)).toHaveLength(2);
    expect(await samplesOf(again)).toEqual(Array.from({ length: 36 }, (_, i) => i * 5000));
    // The head continues after the replay.
    expect((await again.push('t1', batch(4, 3 * R))).appended).toBe(4);
    await again.stop();
  });

  test('idle heads are cut whole and idle TSDBs closed, releasing their memory', async () => {
    const ing = make({ headCompactionIdleTimeout: R, closeIdleTsdbTimeout: 2 * R });
    await ing.start();
    await fill(ing, 0, R / 2);
    now += R; // idle for a minute
    await ing.compactAll();
    const tenantDir = join(dir, 'tsdb', 't1');
    expect(readdirSync(tenantDir).filter(isULID)).toHaveLength(1);
    const series = await ing.series('t1', 0, 1e12, []);
    expect(series).toHaveLength(4); // now served by the local block
    await ing.shipAll();
    now += 2 * R;
    await ing.compactAll();
    // Closed: nothing in memory for the tenant any more.
    expect(await ing.series('t1', 0, 1e12, [])).toEqual([]);
    const m = await (ing as unknown as { deps: { registry: { getSingleMetric(n: string): { get(): Promise<{ values: { value: number }[] }> } } } }).deps.registry
      .getSingleMetric('cortex_ingester_memory_users')
      .get();
    expect(m.values[0]!.value).toBe(0);
    await ing.stop();
  });
});
