import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Overrides, createRegistry, defaultConfig, limitsFromConfig, nopLogger } from '@strata/common';
import {
  ChunkSeries,
  MatchType,
  Matcher,
  WriteBatch,
  floatToBits,
  seriesKeyFromLabels,
  labelsFromObject,
  type SeriesChunks,
} from '@strata/tsdb-core';
import { Ingester } from './ingester';

const H = 3600_000;
const bits = new Uint32Array(2);

function batch(series: { labels: Record<string, string>; samples: [number, number][] }[]): WriteBatch {
  const b = new WriteBatch(4);
  for (const s of series) {
    for (const [t, v] of s.samples) {
      floatToBits(v, bits);
      b.addSample(t, bits[0]!, bits[1]!);
    }
    b.endSeries(seriesKeyFromLabels(labelsFromObject(s.labels)));
  }
  return b;
}

function samples(res: SeriesChunks[], mint = -Infinity, maxt = Infinity): [string, [number, number][]][] {
  return res.map((s) => {
    const it = new ChunkSeries(s.labels, s.chunks, mint, maxt).iterator();
    const out: [number, number][] = [];
    while (it.next()) out.push([it.t, it.v]);
    return [s.labels.map((l) => `${l.name}=${l.value}`).join(','), out];
  });
}

describe('ingester', () => {
  let dir: string;
  const make = (maxGlobalSeriesPerUser = 0) => {
    const limits = { ...limitsFromConfig(defaultConfig()), maxGlobalSeriesPerUser };
    const reg = createRegistry(false);
    return { ing: new Ingester({ tsdbDir: dir, blockRange: 2 * H }, { overrides: new Overrides(limits), registry: reg, logger: nopLogger() }), reg };
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ingester-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('push, query by matchers, tenant isolation', async () => {
    const { ing } = make();
    await ing.start();
    const r = await ing.push('a', batch([
      { labels: { __name__: 'up', job: 'x' }, samples: [[1000, 1], [2000, 0]] },
      { labels: { __name__: 'up', job: 'y' }, samples: [[1000, 1]] },
    ]));
    expect(r).toEqual({ appended: 3, rejected: 0 });
    await ing.push('b', batch([{ labels: { __name__: 'up', job: 'z' }, samples: [[1000, 5]] }]));
    const eq = [new Matcher(MatchType.EQ, '__name__', 'up')];
    expect(samples(await ing.queryChunks('a', 0, 10_000, eq))).toEqual([
      ['__name__=up,job=x', [[1000, 1], [2000, 0]]],
      ['__name__=up,job=y', [[1000, 1]]],
    ]);
    expect(samples(await ing.queryChunks('a', 0, 10_000, [...eq, new Matcher(MatchType.NRE, 'job', 'x|z')]))).toEqual([
      ['__name__=up,job=y', [[1000, 1]]],
    ]);
    expect(samples(await ing.queryChunks('a', 0, 10_000, [new Matcher(MatchType.EQ, 'missing', '')]))).toHaveLength(2);
    expect(samples(await ing.queryChunks('b', 0, 10_000, eq))).toEqual([['__name__=up,job=z', [[1000, 5]]]]);
    expect((await ing.labelValues('a', 'job', 0, 10_000, [])).sort()).toEqual(['x', 'y']);
    expect((await ing.labelNames('b', 0, 10_000, [])).sort()).toEqual(['__name__', 'job']);
    expect(await ing.queryChunks('nobody', 0, 10_000, eq)).toEqual([]);
    await ing.stop();
  });

  test('out-of-order, duplicate timestamp, too old and series limits are rejected per sample', async () => {
    const { ing, reg } = make(3);
    await ing.start();
    await ing.push('a', batch([{ labels: { __name__: 'm' }, samples: [[5 * H, 1]] }]));
    const r = await ing.push('a', batch([
      { labels: { __name__: 'm' }, samples: [[5 * H - 1, 1], [5 * H, 1], [5 * H, 2], [5 * H + 1, 3]] },
      { labels: { __name__: 'n' }, samples: [[3 * H, 1]] },
    ]));
    expect(r.appended).toBe(1);
    expect(r.rejected).toBe(3);
    expect(r.firstError!.status).toBe(400);
    expect(r.firstError!.message).toContain('(err-strata-sample-out-of-order)');
    const m = await reg.getSingleMetric('cortex_discarded_samples_total')!.get();
    const by = Object.fromEntries(m.values.map((v) => [v.labels.reason, v.value]));
    expect(by).toEqual({ 'sample-out-of-order': 1, 'new-value-for-timestamp': 1, 'sample-out-of-bounds': 1 });

    const lim = await ing.push('a', batch([
      { labels: { __name__: 'o' }, samples: [[5 * H + 2, 1]] },
      { labels: { __name__: 'p' }, samples: [[5 * H + 2, 1]] },
    ]));
    expect(lim.firstError!.message).toContain('per-user series limit of 3 exceeded');
    expect(lim.firstError!.message).toContain('-ingester.max-global-series-per-user');
    await ing.stop();
  });

  test('WAL replay restores every acknowledged sample, including stale-marker bits', async () => {
    const first = make();
    await first.ing.start();
    const b = batch([{ labels: { __name__: 'up', job: 'x' }, samples: [[1000, 1], [2000, 2]] }]);
    b.addSample(3000, 0x7ff00000, 2);
    b.endSeries(seriesKeyFromLabels(labelsFromObject({ __name__: 'up', job: 'x' })));
    await first.ing.push('a', b);
    for (let i = 0; i < 300; i++) {
      await first.ing.push('a', batch([{ labels: { __name__: 'c', i: String(i % 3) }, samples: [[10_000 + i * 1000, i]] }]));
    }
    // No stop(): as after SIGKILL, only what sync() made durable is there.
    const second = make();
    await second.ing.start();
    const got = await second.ing.queryChunks('a', 0, 1e9, [new Matcher(MatchType.EQ, '__name__', 'up')]);
    const it = new ChunkSeries(got[0]!.labels, got[0]!.chunks, 0, 1e9).iterator();
    const seen: [number, number, boolean][] = [];
    while (it.next()) seen.push([it.t, it.v, it.stale]);
    expect(seen.slice(0, 2)).toEqual([[1000, 1, false], [2000, 2, false]]);
    expect(seen[2]![0]).toBe(3000);
    expect(seen[2]![2]).toBe(true);
    const c = samples(await second.ing.queryChunks('a', 0, 1e9, [new Matcher(MatchType.EQ, '__name__', 'c')]));
    expect(c.map(([, s]) => s.length)).toEqual([100, 100, 100]);
    // Appending after replay continues the same series.
    const r = await second.ing.push('a', batch([{ labels: { __name__: 'up', job: 'x' }, samples: [[4000, 4]] }]));
    expect(r.appended).toBe(1);
    await second.ing.stop();
    await first.ing.stop();
  });
});

describe('ingester metric metadata', () => {
  let dir: string;
  let clock: number;
  const make = (limits: { maxGlobalMetadataPerUser?: number; maxGlobalMetadataPerMetric?: number; maxGlobalSeriesPerUser?: number } = {}) => {
    const reg = createRegistry(false);
    const ing = new Ingester(
      { tsdbDir: dir, blockRange: 2 * H, metadataRetainPeriod: 10 * 60_000 },
      { overrides: new Overrides({ ...limitsFromConfig(defaultConfig()), ...limits }), registry: reg, logger: nopLogger(), now: () => clock },
    );
    return { ing, reg };
  };
  const md = (metricFamilyName: string, help = `help of ${metricFamilyName}`, type = 1, unit = '') => ({ type, metricFamilyName, help, unit });
  const withMetadata = (b: WriteBatch, ...entries: ReturnType<typeof md>[]) => {
    b.metadata = entries;
    return b;
  };
  const metric = async (reg: ReturnType<typeof createRegistry>, name: string) =>
    (await reg.getSingleMetric(name)!.get()).values.map((v) => [v.labels, v.value]);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ingester-md-test-'));
    clock = 1_700_000_000_000;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a metadata-only push stores the metadata without opening a TSDB', async () => {
    const { ing, reg } = make();
    await ing.start();
    const r = await ing.push('a', withMetadata(new WriteBatch(1), md('up', 'The target is up.', 2), md('http_requests_total', 'Requests.', 1, 'requests')));
    expect(r).toEqual({ appended: 0, rejected: 0 });
    expect(readdirSync(dir)).toEqual([]); // no tenant directory, no WAL
    expect(await ing.userStats('a')).toEqual({ numSeries: 0 });
    expect(await ing.metricsMetadata('a')).toEqual([md('up', 'The target is up.', 2), md('http_requests_total', 'Requests.', 1, 'requests')]);
    expect(await ing.metricsMetadata('b')).toEqual([]);
    expect(await ing.metricsMetadata('nobody')).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
    // Sent again (as every minute): no duplicates.
    await ing.push('a', withMetadata(new WriteBatch(1), md('up', 'The target is up.', 2)));
    expect(await ing.metricsMetadata('a')).toHaveLength(2);
    expect(await metric(reg, 'cortex_ingester_memory_metadata')).toEqual([[{}, 2]]);
    expect(await metric(reg, 'cortex_ingester_memory_metadata_created_total')).toEqual([[{ user: 'a' }, 2]]);
    expect(await metric(reg, 'cortex_ingester_ingested_metadata_total')).toEqual([[{}, 3]]);
    await ing.stop();
  });

  test('a mixed push appends the samples and stores the metadata', async () => {
    const { ing } = make();
    await ing.start();
    const b = withMetadata(batch([{ labels: { __name__: 'up', job: 'x' }, samples: [[1000, 1]] }]), md('up', 'Up.', 2), md('up', 'Up, says another target.', 2));
    expect(await ing.push('a', b)).toEqual({ appended: 1, rejected: 0 });
    expect(samples(await ing.queryChunks('a', 0, 10_000, [new Matcher(MatchType.EQ, '__name__', 'up')]))).toEqual([['__name__=up,job=x', [[1000, 1]]]]);
    expect(await ing.metricsMetadata('a')).toEqual([md('up', 'Up.', 2), md('up', 'Up, says another target.', 2)]);
    await ing.stop();
  });

  test('metadata over a limit is dropped, counted and logged; the push still succeeds (best effort, as Mimir)', async () => {
    const { ing, reg } = make({ maxGlobalMetadataPerUser: 2, maxGlobalMetadataPerMetric: 2 });
    await ing.start();
    const r = await ing.push('a', withMetadata(new WriteBatch(1), md('a', 'one'), md('a', 'two'), md('a', 'three'), md('b'), md('c')));
    expect(r).toEqual({ appended: 0, rejected: 0 });
    expect(await ing.metricsMetadata('a')).toEqual([md('a', 'one'), md('a', 'two'), md('b')]);
    // Samples of the same request are appended as usual.
    const mixed = await ing.push('a', withMetadata(batch([{ labels: { __name__: 'm' }, samples: [[1000, 1]] }]), md('d')));
    expect(mixed).toEqual({ appended: 1, rejected: 0 });
    const discarded = Object.fromEntries((await reg.getSingleMetric('cortex_discarded_metadata_total')!.get()).values.map((v) => [`${v.labels.reason}/${v.labels.user}`, v.value]));
    expect(discarded).toEqual({ 'per_metric_metadata_limit/a': 1, 'per_user_metadata_limit/a': 2 });
    expect(await metric(reg, 'cortex_ingester_ingested_metadata_failures_total')).toEqual([[{}, 3]]);
    // Another tenant has limits of its own.
    await ing.push('b', withMetadata(new WriteBatch(1), md('a', 'one'), md('a', 'two')));
    expect(await ing.metricsMetadata('b')).toHaveLength(2);
    await ing.stop();
  });

  test('metadata not received again within the retain period is purged (injected clock)', async () => {
    const { ing, reg } = make();
    await ing.start();
    await ing.push('a', withMetadata(new WriteBatch(1), md('old'), md('kept')));
    await ing.push('b', withMetadata(new WriteBatch(1), md('other')));
    clock += 6 * 60_000;
    await ing.push('a', withMetadata(new WriteBatch(1), md('kept')));
    ing.purgeMetadata();
    expect(await ing.metricsMetadata('a')).toHaveLength(2); // 6 minutes < 10
    clock += 4 * 60_000 + 1;
    ing.purgeMetadata();
    expect(await ing.metricsMetadata('a')).toEqual([md('kept')]);
    expect(await ing.metricsMetadata('b')).toEqual([]);
    expect(await metric(reg, 'cortex_ingester_memory_metadata_removed_total')).toEqual([
      [{ user: 'a' }, 1],
      [{ user: 'b' }, 1],
    ]);
    expect(await metric(reg, 'cortex_ingester_memory_metadata')).toEqual([[{}, 1]]);
    clock += 10 * 60_000;
    ing.purgeMetadata();
    expect(await ing.metricsMetadata('a')).toEqual([]);
    expect(await metric(reg, 'cortex_ingester_memory_metadata')).toEqual([[{}, 0]]);
    await ing.stop();
  });

  test('the periodic purge runs on metadataPurgeInterval', async () => {
    const ing = new Ingester(
      { tsdbDir: dir, blockRange: 2 * H, metadataRetainPeriod: 1000, metadataPurgeInterval: 20 },
      { overrides: new Overrides(limitsFromConfig(defaultConfig())), registry: createRegistry(false), logger: nopLogger(), now: () => clock },
    );
    await ing.start();
    await ing.push('a', withMetadata(new WriteBatch(1), md('m')));
    await new Promise((r) => setTimeout(r, 60));
    expect(await ing.metricsMetadata('a')).toHaveLength(1);
    clock += 1001;
    await new Promise((r) => setTimeout(r, 60));
    expect(await ing.metricsMetadata('a')).toEqual([]);
    await ing.stop();
  });
});
