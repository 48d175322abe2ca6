import {
  MemoryKV,
  Overrides,
  createRegistry,
  defaultConfig,
  limitsFromConfig,
  loadConfig,
  nopLogger,
  parseRuntimeConfig,
  type KVClient,
  type Limits,
  type Registry,
} from '@strata/common';
import { labelsFromSeriesKey, WriteBatch } from '@strata/tsdb-core';
import { HADedupe } from './ha-dedupe';
import {
  HATracker,
  ReplicasNotMatchError,
  TooManyHAClustersError,
  createHATrackerHandler,
  haTrackerConfigFromConfig,
  haTrackerJSON,
  renderHATrackerPage,
  validateHATrackerConfig,
  type HATrackerConfig,
  type ReplicaDesc,
} from './ha-tracker';
import { WriteRequestDecoder, type DiscardSink } from './write-request-decoder';
import { label, lenField, sample } from '../../../tests/helpers/proto-bytes';

// ---- A tiny in-memory KVClient: CAS on a Map, watchers notified in a microtask, counts writes.
class FakeKV implements KVClient {
  readonly data = new Map<string, string>();
  private readonly watchers = new Map<string, Set<(v: string | undefined) => void>>();
  writes = 0;

  async get(key: string) {
    return this.data.get(key);
  }
  async cas(key: string, f: (cur: string | undefined) => string | null) {
    const cur = this.data.get(key);
    const next = f(cur);
    if (next === null) return cur;
    this.data.set(key, next);
    this.writes++;
    this.notify(key);
    return next;
  }
  async delete(key: string) {
    this.data.delete(key);
    this.notify(key);
  }
  watch(key: string, cb: (v: string | undefined) => void, signal: AbortSignal) {
    let set = this.watchers.get(key);
    if (!set) this.watchers.set(key, (set = new Set()));
    const s = set;
    const entry = (v: string | undefined) => cb(v);
    s.add(entry);
    signal.addEventListener('abort', () => s.delete(entry), { once: true });
    const v = this.data.get(key);
    queueMicrotask(() => s.has(entry) && entry(v));
  }
  async list(prefix: string) {
    return [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async close() {}
  watcherCount() {
    let n = 0;
    for (const s of this.watchers.values()) n += s.size;
    return n;
  }
  private notify(key: string) {
    const v = this.data.get(key);
    for (const cb of [...(this.watchers.get(key) ?? [])]) queueMicrotask(() => cb(v));
  }
}

const flush = () => new Promise<void>((r) => setImmediate(r));
const T0 = 1_700_000_000_000;
const S = 1000;
const CFG: HATrackerConfig = { updateTimeout: 15 * S, updateTimeoutJitterMax: 5 * S, failoverTimeout: 30 * S };

function limits(over: Partial<Limits> = {}): Overrides {
  return new Overrides({ ...limitsFromConfig(defaultConfig()), acceptHASamples: true, ...over });
}

async function metric(reg: Registry, name: string): Promise<{ labels: Record<string, unknown>; value: number }[]> {
  const m = reg.getSingleMetric(name);
  if (!m) return [];
  return (await m.get()).values.map((v) => ({ labels: { ...v.labels }, value: v.value }));
}

const KVS: [string, () => KVClient][] = [
  ['fake KV', () => new FakeKV()],
  ['MemoryKV', () => new MemoryKV()],
];

describe.each(KVS)('HATracker over %s', (_name, makeKV) => {
  let kv: KVClient;
  const trackers: HATracker[] = [];
  function tracker(over: { cfg?: Partial<HATrackerConfig>; ov?: Overrides; kv?: KVClient; reg?: Registry; random?: () => number } = {}) {
    const reg = over.reg ?? createRegistry(false);
    const t = new HATracker(
      { ...CFG, ...over.cfg },
      { kv: over.kv ?? kv, overrides: over.ov ?? limits(), registry: reg, logger: nopLogger(), now: () => T0, random: over.random ?? (() => 0) },
    );
    trackers.push(t);
    return { t, reg };
  }
  const stored = async (key = 'ha-tracker/t1/c1') => JSON.parse((await kv.get(key))!) as ReplicaDesc;

  beforeEach(() => {
    kv = makeKV();
  });
  afterEach(async () => {
    for (const t of trackers.splice(0)) await t.stop();
  });

  test('the first replica seen is elected and stored in the KV store', async () => {
    const { t, reg } = tracker();
    await t.start();
    await expect(t.checkReplica('t1', 'c1', 'a', T0)).resolves.toBeUndefined();
    expect(await stored()).toEqual({ replica: 'a', receivedAt: T0, electedAt: T0, electedChanges: 0 });
    expect(t.elections()).toEqual([{ user: 't1', cluster: 'c1', replica: 'a', receivedAt: T0, electedAt: T0, electedChanges: 0 }]);
    expect(await metric(reg, 'cortex_ha_tracker_elected_replica_timestamp_seconds')).toEqual([
      { labels: { user: 't1', cluster: 'c1' }, value: T0 / 1000 },
    ]);
    expect(await metric(reg, 'cortex_ha_tracker_kv_store_cas_total')).toEqual([{ labels: { user: 't1', cluster: 'c1' }, value: 1 }]);
  });

  test('another replica of the same cluster is rejected with 202 and Mimir\'s message', async () => {
    const { t } = tracker();
    await t.checkReplica('t1', 'c1', 'a', T0);
    const err = await t.checkReplica('t1', 'c1', 'b', T0 + S).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplicasNotMatchError);
    expect((err as ReplicasNotMatchError).status).toBe(202);
    expect((err as Error).message).toBe('replicas did not match, rejecting sample: replica=b, elected=a');
    // Clusters and tenants are independent.
    await expect(t.checkReplica('t1', 'c2', 'b', T0 + S)).resolves.toBeUndefined();
    await expect(t.checkReplica('t2', 'c1', 'b', T0 + S)).resolves.toBeUndefined();
    expect((await stored()).replica).toBe('a');
  });

  test('fails over only after failover-timeout of silence from the elected replica', async () => {
    const { t, reg } = tracker();
    await t.start();
    await t.checkReplica('t1', 'c1', 'a', T0);
    await expect(t.checkReplica('t1', 'c1', 'b', T0 + 20 * S)).rejects.toThrow('replica=b, elected=a');
    await expect(t.checkReplica('t1', 'c1', 'b', T0 + 30 * S - 1)).rejects.toThrow('replica=b, elected=a');
    expect((await stored()).replica).toBe('a');
    await expect(t.checkReplica('t1', 'c1', 'b', T0 + 30 * S)).resolves.toBeUndefined();
    expect(await stored()).toEqual({ replica: 'b', receivedAt: T0 + 30 * S, electedAt: T0 + 30 * S, electedChanges: 1 });
    // The old replica coming back is now the one rejected.
    await expect(t.checkReplica('t1', 'c1', 'a', T0 + 31 * S)).rejects.toThrow('replica=a, elected=b');
    await flush();
    expect(await metric(reg, 'cortex_ha_tracker_elected_replica_changes_total')).toEqual([
      { labels: { user: 't1', cluster: 'c1' }, value: 1 },
    ]);
    expect(await metric(reg, 'cortex_ha_tracker_reelections_total')).toEqual([{ labels: { user: 't1', cluster: 'c1' }, value: 1 }]);
  });

  test('an elected replica that keeps sending is never failed over', async () => {
    const { t } = tracker();
    for (let s = 0; s <= 120; s += 10) await t.checkReplica('t1', 'c1', 'a', T0 + s * S);
    await expect(t.checkReplica('t1', 'c1', 'b', T0 + 121 * S)).rejects.toThrow(ReplicasNotMatchError);
    expect((await stored()).electedAt).toBe(T0);
  });

  test('receivedAt is written back only once update-timeout (+ jitter) has passed', async () => {
    const fake = new FakeKV();
    kv = fake;
    const { t, reg } = tracker();
    await t.checkReplica('t1', 'c1', 'a', T0);
    expect(fake.writes).toBe(1);
    for (let ms = 1000; ms < 15 * S; ms += 1000) await t.checkReplica('t1', 'c1', 'a', T0 + ms);
    await t.checkReplica('t1', 'c1', 'b', T0 + 14 * S).catch(() => undefined);
    expect(fake.writes).toBe(1);
    expect((await stored()).receivedAt).toBe(T0);
    expect(await metric(reg, 'cortex_ha_tracker_kv_store_cas_total')).toEqual([{ labels: { user: 't1', cluster: 'c1' }, value: 1 }]);
    await t.checkReplica('t1', 'c1', 'a', T0 + 15 * S);
    expect(fake.writes).toBe(2);
    expect(await stored()).toEqual({ replica: 'a', receivedAt: T0 + 15 * S, electedAt: T0, electedChanges: 0 });
  });

  test('the update timeout includes the per-tracker jitter', async () => {
    const fake = new FakeKV();
    kv = fake;
    const { t } = tracker({ random: () => 0.5 });
    expect(t.updateTimeoutJitter).toBe(2500);
    await t.checkReplica('t1', 'c1', 'a', T0);
    await t.checkReplica('t1', 'c1', 'a', T0 + 17_499);
    expect(fake.writes).toBe(1);
    await t.checkReplica('t1', 'c1', 'a', T0 + 17_500);
    expect(fake.writes).toBe(2);
  });

  test('two distributors sharing the KV store agree on the elected replica', async () => {
    const d1 = tracker().t;
    const d2 = tracker().t;
    await d1.start();
    await d2.start();
    // Prometheus a reaches distributor 1 first, Prometheus b distributor 2.
    await d1.checkReplica('t1', 'c1', 'a', T0);
    await expect(d2.checkReplica('t1', 'c1', 'b', T0 + 10)).rejects.toThrow('replica=b, elected=a');
    await expect(d2.checkReplica('t1', 'c1', 'a', T0 + 20)).resolves.toBeUndefined();
    await expect(d1.checkReplica('t1', 'c1', 'b', T0 + 30)).rejects.toThrow('replica=b, elected=a');
    // a goes away; b fails over through distributor 2 and distributor 1 learns it by the watch.
    await d2.checkReplica('t1', 'c1', 'b', T0 + 30 * S);
    await flush();
    expect(d1.elections()[0]!.replica).toBe('b');
    await expect(d1.checkReplica('t1', 'c1', 'a', T0 + 30 * S + 1)).rejects.toThrow('replica=a, elected=b');
    await expect(d1.checkReplica('t1', 'c1', 'b', T0 + 30 * S + 2)).resolves.toBeUndefined();
    // A distributor started later loads the elections at start.
    const d3 = tracker().t;
    await d3.start();
    expect(d3.elections()).toEqual([
      { user: 't1', cluster: 'c1', replica: 'b', receivedAt: T0 + 30 * S, electedAt: T0 + 30 * S, electedChanges: 1 },
    ]);
    await expect(d3.checkReplica('t1', 'c1', 'a', T0 + 31 * S)).rejects.toThrow('elected=b');
  });

  test('concurrent first requests of both replicas elect exactly one', async () => {
    const d1 = tracker().t;
    const d2 = tracker().t;
    const results = await Promise.allSettled([
      d1.checkReplica('t1', 'c1', 'a', T0),
      d2.checkReplica('t1', 'c1', 'b', T0),
      d1.checkReplica('t1', 'c1', 'b', T0),
      d2.checkReplica('t1', 'c1', 'a', T0),
    ]);
    const elected = (await stored()).replica;
    const accepted = [['a'], ['b'], ['b'], ['a']].map(([r]) => r === elected);
    expect(results.map((r) => r.status === 'fulfilled')).toEqual(accepted);
  });

  test('a new cluster beyond -distributor.ha-tracker.max-clusters is rejected with 400', async () => {
    const { t } = tracker({ ov: limits({ haMaxClusters: 2 }) });
    await t.checkReplica('t1', 'c1', 'a', T0);
    await t.checkReplica('t1', 'c2', 'a', T0);
    const err = await t.checkReplica('t1', 'c3', 'a', T0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TooManyHAClustersError);
    expect((err as TooManyHAClustersError).status).toBe(400);
    expect((err as Error).message).toBe(
      'the write request has been rejected because the maximum number of high-availability (HA) clusters has been reached for this tenant (limit: 2) (err-strata-tenant-too-many-ha-clusters). To adjust the related per-tenant limit, configure -distributor.ha-tracker.max-clusters, or contact your service administrator.',
    );
    expect(await kv.get('ha-tracker/t1/c3')).toBeUndefined();
    // Known clusters and other tenants are unaffected; 0 means unlimited.
    await expect(t.checkReplica('t1', 'c2', 'a', T0 + 1)).resolves.toBeUndefined();
    await expect(t.checkReplica('t2', 'c3', 'a', T0)).resolves.toBeUndefined();
    const { t: u } = tracker({ ov: limits({ haMaxClusters: 0 }) });
    for (let i = 0; i < 150; i++) await u.checkReplica('t9', `c${i}`, 'a', T0);
  });

  test('concurrent requests for a cluster known only to the KV store do not count it twice', async () => {
    await kv.cas('ha-tracker/t1/c1', () => JSON.stringify({ replica: 'a', receivedAt: T0, electedAt: T0, electedChanges: 0 }));
    const { t } = tracker({ ov: limits({ haMaxClusters: 1 }) });
    // 20s later: a's record is past the update timeout (so each request asks the KV store) but
    // not past the failover timeout: b is rejected with 202 — never with the 400 of the limit.
    const out = await Promise.allSettled([1, 2, 3].map(() => t.checkReplica('t1', 'c1', 'b', T0 + 20 * S)));
    expect(out.map((r) => (r.status === 'rejected' ? (r.reason as ReplicasNotMatchError).status : 200))).toEqual([202, 202, 202]);
  });

  test('clusters silent for 30m are marked deleted, then deleted, and free their slot', async () => {
    const { t, reg } = tracker({ ov: limits({ haMaxClusters: 1 }) });
    await t.start();
    await t.checkReplica('t1', 'c1', 'a', T0);
    await expect(t.checkReplica('t1', 'c2', 'a', T0 + 60_000)).rejects.toThrow(TooManyHAClustersError);
    await t.cleanupOldReplicas(T0 + 29 * 60_000);
    expect((await stored()).deletedAt).toBeUndefined();
    await t.cleanupOldReplicas(T0 + 31 * 60_000);
    expect((await stored()).deletedAt).toBe(T0 + 31 * 60_000);
    await flush();
    expect(t.elections()).toEqual([]);
    expect(await metric(reg, 'cortex_ha_tracker_elected_replica_timestamp_seconds')).toEqual([]);
    // A marked cluster is re-elected from scratch by its next sample, from any replica.
    await expect(t.checkReplica('t1', 'c1', 'b', T0 + 32 * 60_000)).resolves.toBeUndefined();
    expect(await stored()).toEqual({ replica: 'b', receivedAt: T0 + 32 * 60_000, electedAt: T0 + 32 * 60_000, electedChanges: 0 });
    await t.cleanupOldReplicas(T0 + 63 * 60_000); // marks again
    await t.cleanupOldReplicas(T0 + 94 * 60_000); // deletes
    expect(await kv.get('ha-tracker/t1/c1')).toBeUndefined();
    await flush();
    await expect(t.checkReplica('t1', 'c2', 'a', T0 + 95 * 60_000)).resolves.toBeUndefined();
    expect(await metric(reg, 'cortex_ha_tracker_replicas_cleanup_deleted_total')).toEqual([{ labels: {}, value: 1 }]);
  });

  test('stop() ends the watches', async () => {
    const fake = new FakeKV();
    kv = fake;
    const { t } = tracker();
    await t.start();
    await t.checkReplica('t1', 'c1', 'a', T0);
    await t.checkReplica('t1', 'c2', 'a', T0);
    expect(fake.watcherCount()).toBe(2);
    await t.stop();
    expect(fake.watcherCount()).toBe(0);
  });
});

describe('HA tracker config', () => {
  test('failover timeout must exceed update timeout + jitter by 1s (Mimir)', () => {
    expect(() => validateHATrackerConfig({ updateTimeout: 15 * S, updateTimeoutJitterMax: 5 * S, failoverTimeout: 20 * S })).toThrow(
      'HA Tracker failover timeout (20000ms) must be at least 1s greater than update timeout + max jitter (20000ms)',
    );
    expect(() => validateHATrackerConfig({ updateTimeout: 15 * S, updateTimeoutJitterMax: 5 * S, failoverTimeout: 21 * S })).not.toThrow();
    expect(() => validateHATrackerConfig({ updateTimeout: 15 * S, updateTimeoutJitterMax: -1, failoverTimeout: 60 * S })).toThrow('negative');
  });

  test('flags, YAML and runtime overrides', () => {
    const d = defaultConfig();
    expect(haTrackerConfigFromConfig(d)).toEqual({ updateTimeout: 15 * S, updateTimeoutJitterMax: 5 * S, failoverTimeout: 30 * S });
    expect(d['distributor.ha-tracker.enable']).toBe(false);
    const l = limitsFromConfig(d);
    expect([l.acceptHASamples, l.haClusterLabel, l.haReplicaLabel, l.haMaxClusters]).toEqual([false, 'cluster', '__replica__', 100]);

    const { config } = loadConfig(
      ['-config.file=c.yaml', '-distributor.ha-tracker.enable-for-all-users', '-distributor.ha-tracker.failover-timeout=1m'],
      () => 'distributor:\n  ha_tracker:\n    enable_ha_tracker: true\nlimits:\n  ha_replica_label: prom_replica\n  ha_max_clusters: 3\n',
    );
    expect(config['distributor.ha-tracker.enable']).toBe(true);
    expect(config['distributor.ha-tracker.failover-timeout']).toBe(60 * S);
    const ov = new Overrides(limitsFromConfig(config));
    expect([ov.acceptHASamples('x'), ov.haClusterLabel('x'), ov.haReplicaLabel('x'), ov.haMaxClusters('x')]).toEqual([true, 'cluster', 'prom_replica', 3]);

    ov.setTenantLimits(
      parseRuntimeConfig(
        'overrides:\n  t1:\n    accept_ha_samples: false\n    ha_cluster_label: k8s_cluster\n    ha_max_clusters: 7\n    ingestion_rate: 5\n',
        ov.defaults,
      ),
    );
    expect([ov.acceptHASamples('t1'), ov.haClusterLabel('t1'), ov.haReplicaLabel('t1'), ov.haMaxClusters('t1'), ov.ingestionRate('t1')]).toEqual([
      false,
      'k8s_cluster',
      'prom_replica',
      7,
      5,
    ]);
    expect(ov.acceptHASamples('t2')).toBe(true);
    expect(() => parseRuntimeConfig('overrides:\n  t1:\n    accept_ha_samples: maybe\n', ov.defaults)).toThrow('expected true or false');
  });
});

// ---- The push path as the Distributor runs it: HA dedupe, then decode with the replica label dropped.

type Ser = [labels: [string, string][], samples: number];
const series = ([ls, n]: Ser) => lenField(1, [...ls.flatMap(([a, b]) => label(a, b)), ...Array.from({ length: n }, (_, i) => sample(T0 + i, i)).flat()]);
const request = (ss: Ser[]) => Uint8Array.from(ss.flatMap(series));
/** A scrape of one Prometheus of an HA pair: the same series, its own replica label. */
const scrape = (replica: string, cluster = 'prod') =>
  request([
    [[['__name__', 'up'], ['__replica__', replica], ['cluster', cluster], ['job', 'api']], 2],
    [[['__name__', 'http_requests_total'], ['__replica__', replica], ['cluster', cluster], ['code', '200']], 3],
  ]);

describe('HA dedupe on the push path', () => {
  let now = T0;
  let kv: FakeKV;
  let reg: Registry;
  let dedupe: HADedupe;
  let tracker: HATracker;
  let ov: Overrides;
  const decoder = new WriteRequestDecoder();

  function setup(over: Partial<Limits> = {}) {
    now = T0;
    kv = new FakeKV();
    reg = createRegistry(false);
    ov = limits(over);
    tracker = new HATracker(CFG, { kv, overrides: ov, registry: reg, logger: nopLogger(), now: () => now, random: () => 0 });
    dedupe = new HADedupe({ tracker, overrides: ov, registry: reg, now: () => now });
  }
  afterEach(() => tracker.stop());

  /** What Distributor.push does with the dedupe step wired in. */
  async function push(tenant: string, body: Uint8Array) {
    const ha = await dedupe.check(tenant, body);
    if (ha.outcome) return { ...ha.outcome, stored: [] as string[][] };
    const batch = new WriteBatch(16);
    const errors: string[] = [];
    const sink: DiscardSink = { discard: (_id, _n, msg) => void errors.push(msg()) };
    const l = ov.forTenant(tenant);
    const res = decoder.decode(
      body,
      { maxLabelNamesPerSeries: l.maxLabelNamesPerSeries, maxLabelNameLength: 1024, maxLabelValueLength: 2048, maxTimestamp: Infinity },
      batch,
      sink,
      { dropLabel: ha.dropLabel },
    );
    if (ha.nonHA) dedupe.countNonHASamples(tenant, res.samples + res.histograms);
    const stored = batch.keys.map((k) => labelsFromSeriesKey(k).map((x) => `${x.name}=${x.value}`));
    return { status: errors.length ? 400 : 200, message: errors[0] ?? '', stored };
  }

  test('the elected replica\'s series are stored without __replica__, the other replica\'s dropped with 202', async () => {
    setup();
    const a = await push('t1', scrape('a'));
    expect(a.status).toBe(200);
    expect(a.stored).toEqual([
      ['__name__=up', 'cluster=prod', 'job=api'],
      ['__name__=http_requests_total', 'cluster=prod', 'code=200'],
    ]);
    const b = await push('t1', scrape('b'));
    expect(b).toEqual({ status: 202, message: 'replicas did not match, rejecting sample: replica=b, elected=a', stored: [] });
    expect(await dedupe.check('t1', scrape('b'))).toMatchObject({ samples: 5 });
    expect(await metric(reg, 'cortex_distributor_deduped_samples_total')).toEqual([{ labels: { user: 't1', cluster: 'prod' }, value: 10 }]);
    // After a's silence, b takes over and its series are the same series (no replica label).
    now = T0 + 30 * S;
    const b2 = await push('t1', scrape('b'));
    expect(b2.status).toBe(200);
    expect(b2.stored).toEqual(a.stored);
    expect((await push('t1', scrape('a'))).status).toBe(202);
  });

  test('the replica label is dropped from every series, and not counted against the label limit', async () => {
    setup({ maxLabelNamesPerSeries: 3 });
    const body = request([
      [[['__name__', 'up'], ['__replica__', 'a'], ['cluster', 'prod']], 1],
      [[['job', 'x'], ['__name__', 'unsorted'], ['__replica__', 'a']], 1], // not sorted: the key is rebuilt
      [[['__replica__', 'other'], ['__name__', 'first'], ['z', '1']], 1], // another value: still dropped (Mimir)
      [[['__name__', 'no_replica'], ['a', '1'], ['b', '2']], 1],
    ]);
    const out = await push('t1', body);
    expect(out.status).toBe(200);
    expect(out.stored).toEqual([
      ['__name__=up', 'cluster=prod'],
      ['__name__=unsorted', 'job=x'],
      ['__name__=first', 'z=1'],
      ['__name__=no_replica', 'a=1', 'b=2'],
    ]);
  });

  test('only the first series is inspected; without both labels a request passes as is', async () => {
    setup();
    const onlyCluster = request([
      [[['__name__', 'up'], ['cluster', 'prod']], 2],
      [[['__name__', 'up'], ['__replica__', 'b'], ['cluster', 'prod']], 1],
    ]);
    const out = await push('t1', onlyCluster);
    expect(out.status).toBe(200);
    expect(out.stored).toEqual([
      ['__name__=up', 'cluster=prod'],
      ['__name__=up', '__replica__=b', 'cluster=prod'],
    ]);
    expect(kv.data.size).toBe(0);
    expect(await metric(reg, 'cortex_distributor_non_ha_samples_received_total')).toEqual([{ labels: { user: 't1' }, value: 3 }]);
  });

  test('tenants without accept_ha_samples are not deduplicated', async () => {
    setup({ acceptHASamples: false });
    const a = await push('t1', scrape('a'));
    const b = await push('t1', scrape('b'));
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.stored[0]).toEqual(['__name__=up', '__replica__=b', 'cluster=prod', 'job=api']);
    expect(kv.data.size).toBe(0);
    expect(await metric(reg, 'cortex_distributor_non_ha_samples_received_total')).toEqual([]);
  });

  test('per-tenant cluster and replica label names', async () => {
    setup();
    ov.setTenantLimits(parseRuntimeConfig('overrides:\n  t1:\n    ha_cluster_label: dc\n    ha_replica_label: prom\n', ov.defaults));
    const body = (r: string) => request([[[['__name__', 'up'], ['dc', 'eu'], ['prom', r]], 1]]);
    expect((await push('t1', body('p0'))).stored).toEqual([['__name__=up', 'dc=eu']]);
    expect((await push('t1', body('p1'))).status).toBe(202);
    expect(JSON.parse(kv.data.get('ha-tracker/t1/eu')!).replica).toBe('p0');
  });

  test('too many clusters: 400, samples counted as discarded too_many_ha_clusters', async () => {
    setup({ haMaxClusters: 1 });
    expect((await push('t1', scrape('a', 'c1'))).status).toBe(200);
    const out = await push('t1', scrape('a', 'c2'));
    expect(out.status).toBe(400);
    expect(out.message).toContain('(err-strata-tenant-too-many-ha-clusters)');
    expect(await metric(reg, 'cortex_discarded_samples_total')).toEqual([{ labels: { reason: 'too_many_ha_clusters', user: 't1' }, value: 5 }]);
  });

  test('a KV store failure is thrown (the sender gets a 5xx and retries)', async () => {
    setup();
    kv.cas = async () => {
      throw new Error('connection refused');
    };
    await expect(dedupe.check('t1', scrape('a'))).rejects.toThrow('connection refused');
  });
});

describe('/distributor/ha_tracker', () => {
  const elections = [
    { user: 't1', cluster: 'prod', replica: 'a', receivedAt: T0, electedAt: T0 - 60 * S, electedChanges: 2 },
    { user: 't<2>', cluster: 'c&1', replica: '"b"', receivedAt: T0, electedAt: T0, electedChanges: 0 },
  ];

  test('HTML table', () => {
    const html = renderHATrackerPage(elections, T0 + 5 * S);
    expect(html).toContain('<th>User</th><th>Cluster</th><th>Elected replica</th><th>Elected at</th><th>Last update</th><th>Changes</th>');
    expect(html).toContain(
      `<tr><td>t1</td><td>prod</td><td>a</td><td>${new Date(T0 - 60 * S).toISOString()}</td><td>${new Date(T0).toISOString()} (5s ago)</td><td>2</td></tr>`,
    );
    expect(html).toContain('<td>t&#60;2&#62;</td><td>c&#38;1</td><td>&#34;b&#34;</td>');
  });

  test('JSON, and the handler picks by Accept', async () => {
    expect(JSON.parse(haTrackerJSON(elections)).elections[0]).toEqual({
      user: 't1',
      cluster: 'prod',
      replica: 'a',
      electedAt: new Date(T0 - 60 * S).toISOString(),
      receivedAt: new Date(T0).toISOString(),
      electedChanges: 2,
    });
    const t = new HATracker(CFG, { kv: new FakeKV(), overrides: limits(), registry: createRegistry(false), logger: nopLogger() });
    await t.checkReplica('t1', 'c1', 'r1', T0);
    const h = createHATrackerHandler(t, () => T0);
    const res = { statusCode: 0, headers: {} as Record<string, string>, body: '', setHeader(n: string, v: string) { this.headers[n] = v; }, end(b: string) { this.body = b; } };
    h({ headers: { accept: 'application/json' } }, res);
    expect(res.headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(res.body).elections).toHaveLength(1);
    h({ headers: {} }, res);
    expect(res.headers['Content-Type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('<td>t1</td><td>c1</td><td>r1</td>');
    await t.stop();
  });
});
