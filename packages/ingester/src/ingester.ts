import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import { discardedMetadataCounter, discardedSamplesCounter, StrataError, tenantIdError, type Logger, type Overrides } from '@strata/common';
import type { Bucket } from '@strata/objstore';
import type { IngesterClient, Labels, Matcher, MetricMetadataEntry, PushResult, SeriesChunks, WriteBatch } from '@strata/tsdb-core';
import { IngesterErrors } from './errors';
import { UserMetricsMetadata } from './metadata';
import { Shipper } from './shipper';
import { UserTSDB } from './user-tsdb';

export interface IngesterConfig {
  /** `-blocks-storage.tsdb.dir`: one sub-directory per tenant. */
  tsdbDir: string;
  /** `-blocks-storage.tsdb.block-ranges-period` (ms), 2h by default. */
  blockRange: number;
  /** `-blocks-storage.tsdb.head-compaction-interval` (ms; 0 = no background compaction). */
  headCompactionInterval?: number;
  /** `-blocks-storage.tsdb.head-compaction-idle-timeout` (ms; 0 = never). */
  headCompactionIdleTimeout?: number;
  /** `-blocks-storage.tsdb.ship-interval` (ms; 0 = never). */
  shipInterval?: number;
  /** `-blocks-storage.tsdb.retention-period` (ms). */
  retentionPeriod?: number;
  /** `-blocks-storage.tsdb.close-idle-tsdb-timeout` (ms; 0 = never). */
  closeIdleTsdbTimeout?: number;
  /** `-ingester.metadata-retain-period` (ms): metric metadata not received again for this long is dropped. 10m by default. */
  metadataRetainPeriod?: number;
  /** How often expired metadata is dropped (ms; 0 = never). 5m by default, Mimir's fixed metadataPurgePeriod. */
  metadataPurgeInterval?: number;
}

export const DEFAULT_METADATA_RETAIN_PERIOD = 10 * 60_000;
export const DEFAULT_METADATA_PURGE_INTERVAL = 5 * 60_000;

export interface IngesterDeps {
  overrides: Overrides;
  registry: Registry;
  logger: Logger;
  /** Where blocks are shipped; without it blocks stay local. */
  bucket?: Bucket;
  now?: () => number;
}

/** Per-tenant heads with WALs. Implements IngesterClient for in-process use. */
export class Ingester implements IngesterClient {
  private readonly dbs = new Map<string, UserTSDB>();
  private readonly opening = new Map<string, Promise<UserTSDB>>();
  /** Metric metadata by tenant; independent of the TSDBs (a tenant may send only metadata). */
  private readonly metadata = new Map<string, UserMetricsMetadata>();
  private readonly m: {
    seriesCreated: Counter<'user'>;
    ingested: Counter;
    ingestedFailures: Counter;
    discarded: Counter<'reason' | 'user'>;
    blocksCut: Counter;
    uploads: Counter<'user'>;
    uploadFailures: Counter<'user'>;
    metadataCreated: Counter<'user'>;
    metadataRemoved: Counter<'user'>;
    ingestedMetadata: Counter;
    ingestedMetadataFailures: Counter;
    discardedMetadata: Counter<'reason' | 'user'>;
  };
  private stopped = false;
  private leaving = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly shippers = new Map<string, Shipper>();
  private readonly now: () => number;

  constructor(
    private readonly cfg: IngesterConfig,
    private readonly deps: IngesterDeps,
  ) {
    const reg = deps.registry;
    this.now = deps.now ?? Date.now;
    const dbs = this.dbs;
    new Gauge({
      name: 'cortex_ingester_memory_series',
      help: 'The current number of series in memory.',
      registers: [reg],
      collect() {
        let n = 0;
        for (const db of dbs.values()) n += db.head.numSeries;
        this.set(n);
      },
    });
    const metadata = this.metadata;
    new Gauge({
      name: 'cortex_ingester_memory_metadata',
      help: 'The current number of metadata in memory.',
      registers: [reg],
      collect() {
        let n = 0;
        for (const m of metadata.values()) n += m.size;
        this.set(n);
      },
    });
    new Gauge({
      name: 'cortex_ingester_memory_users',
      help: 'The current number of users in memory.',
      registers: [reg],
      collect() {
        this.set(dbs.size);
      },
    });
    this.m = {
      seriesCreated: new Counter({
        name: 'cortex_ingester_memory_series_created_total',
        help: 'The total number of series that were created per user.',
        labelNames: ['user'],
        registers: [reg],
      }),
      ingested: new Counter({ name: 'cortex_ingester_ingested_samples_total', help: 'The total number of samples ingested.', registers: [reg] }),
      ingestedFailures: new Counter({
        name: 'cortex_ingester_ingested_samples_failures_total',
        help: 'The total number of samples that errored on ingestion.',
        registers: [reg],
      }),
      discarded: discardedSamplesCounter(reg),
      blocksCut: new Counter({
        name: 'cortex_ingester_tsdb_compactions_total',
        help: 'Total number of blocks cut from ingester heads.',
        registers: [reg],
      }),
      uploads: new Counter({
        name: 'cortex_ingester_shipper_uploads_total',
        help: 'Total number of blocks uploaded by the shipper.',
        labelNames: ['user'],
        registers: [reg],
      }),
      uploadFailures: new Counter({
        name: 'cortex_ingester_shipper_upload_failures_total',
        help: 'Total number of failed shipping attempts.',
        labelNames: ['user'],
        registers: [reg],
      }),
      metadataCreated: new Counter({
        name: 'cortex_ingester_memory_metadata_created_total',
        help: 'The total number of metadata that were created per user',
        labelNames: ['user'],
        registers: [reg],
      }),
      metadataRemoved: new Counter({
        name: 'cortex_ingester_memory_metadata_removed_total',
        help: 'The total number of metadata that were removed per user.',
        labelNames: ['user'],
        registers: [reg],
      }),
      ingestedMetadata: new Counter({ name: 'cortex_ingester_ingested_metadata_total', help: 'The total number of metadata ingested.', registers: [reg] }),
      ingestedMetadataFailures: new Counter({
        name: 'cortex_ingester_ingested_metadata_failures_total',
        help: 'The total number of metadata that errored on ingestion.',
        registers: [reg],
      }),
      discardedMetadata: discardedMetadataCounter(reg),
    };
  }

  /** Replays the WAL of every tenant found under the TSDB directory. */
  async start(): Promise<void> {
    await mkdir(this.cfg.tsdbDir, { recursive: true });
    for (const name of await readdir(this.cfg.tsdbDir)) {
      if (tenantIdError(name) !== null) continue;
      const st = await stat(join(this.cfg.tsdbDir, name));
      if (!st.isDirectory()) continue;
      const t0 = Date.now();
      const db = await this.db(name);
      this.deps.logger.info({ tenant: name, series: db.head.numSeries, blocks: db.localBlocks().length, ms: Date.now() - t0 }, 'opened TSDB');
    }
    const every = (ms: number | undefined, f: () => Promise<void>) => {
      if (ms === undefined || ms <= 0) return;
      let running = false;
      const t = setInterval(() => {
        if (running || this.stopped) return;
        running = true;
        f()
          .catch((e: Error) => this.deps.logger.error({ err: e.message }, 'background task failed'))
          .finally(() => (running = false));
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.cfg.headCompactionInterval, () => this.compactAll());
    every(this.cfg.shipInterval, () => this.shipAll().then(() => undefined));
    every(this.cfg.metadataPurgeInterval ?? DEFAULT_METADATA_PURGE_INTERVAL, async () => this.purgeMetadata());
    // Blocks left unshipped by an earlier run are shipped right away.
    if (this.deps.bucket !== undefined && (this.cfg.shipInterval ?? 0) > 0) {
      this.shipAll().catch((e: Error) => this.deps.logger.warn({ err: e.message }, 'shipping on start failed; will retry'));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    for (const db of this.dbs.values()) await db.close();
  }

  /** Cuts blocks from every head that is due (or idle), then closes idle TSDBs. */
  async compactAll(): Promise<void> {
    const now = this.now();
    const idle = this.cfg.headCompactionIdleTimeout ?? 0;
    for (const [tenant, db] of this.dbs) {
      const force = idle > 0 && now - db.lastAppend >= idle && db.head.numSeries > 0;
      const made = await db.compact(force);
      if (made.length > 0) {
        this.m.blocksCut.inc(made.length);
        this.deps.logger.info({ tenant, blocks: made, forced: force }, 'cut blocks from head');
      }
    }
    await this.closeIdle();
  }

  /** Ships new blocks of every tenant and applies local retention. Returns blocks uploaded. */
  async shipAll(): Promise<number> {
    const bucket = this.deps.bucket;
    if (bucket === undefined) return 0;
    let total = 0;
    for (const [tenant, db] of this.dbs) {
      const shipper = this.shipperFor(tenant, db);
      try {
        const n = await shipper.ship();
        total += n;
        if (n > 0) this.m.uploads.inc({ user: tenant }, n);
      } catch (e) {
        this.m.uploadFailures.inc({ user: tenant });
        this.deps.logger.warn({ tenant, err: (e as Error).message }, 'failed to ship blocks; will retry');
        continue;
      }
      const shipped = await shipper.shipped();
      const retention = this.cfg.retentionPeriod ?? 13 * 3600_000;
      const deleted = await db.deleteOldBlocks(this.now() - retention, (u) => shipped.has(u));
      if (deleted.length > 0) await shipper.forget(deleted);
    }
    return total;
  }

  private shipperFor(tenant: string, db: UserTSDB): Shipper {
    let s = this.shippers.get(tenant);
    if (s === undefined) {
      s = new Shipper(this.deps.bucket!, tenant, db.dir);
      this.shippers.set(tenant, s);
    }
    return s;
  }

  /** Closes TSDBs idle for close-idle-tsdb-timeout whose heads are empty and blocks shipped. */
  private async closeIdle(): Promise<void> {
    const timeout = this.cfg.closeIdleTsdbTimeout ?? 0;
    if (timeout <= 0) return;
    for (const [tenant, db] of [...this.dbs]) {
      if (this.now() - db.lastAppend < timeout || db.head.numSeries > 0) continue;
      if (this.deps.bucket !== undefined) {
        const shipped = await this.shipperFor(tenant, db).shipped();
        if (db.localBlocks().some((b) => !shipped.has(b.ulid))) continue;
      }
      this.dbs.delete(tenant);
      this.shippers.delete(tenant);
      // As Mimir's closeAndDeleteUserTSDBIfIdle: the tenant's metadata goes with its TSDB.
      this.deleteMetadata(tenant);
      await db.close();
      this.deps.logger.info({ tenant }, 'closed idle TSDB');
    }
  }

  private db(tenant: string): Promise<UserTSDB> | UserTSDB {
    const db = this.dbs.get(tenant);
    if (db !== undefined) return db;
    let p = this.opening.get(tenant);
    if (p === undefined) {
      p = UserTSDB.open(tenant, join(this.cfg.tsdbDir, tenant), this.cfg.blockRange, this.now).then((d) => {
        this.dbs.set(tenant, d);
        this.opening.delete(tenant);
        return d;
      });
      this.opening.set(tenant, p);
    }
    return p;
  }

  /** Stops accepting writes (LEAVING): pushes fail with 503 so distributors use other replicas. */
  setLeaving(): void {
    this.leaving = true;
  }

  /** Cuts every head into blocks and ships them (on shutdown of a ring member). */
  async flushAll(): Promise<void> {
    for (const db of this.dbs.values()) await db.compact(true);
    await this.shipAll();
  }

  async userStats(tenant: string): Promise<{ numSeries: number }> {
    return { numSeries: this.dbs.get(tenant)?.head.numSeries ?? 0 };
  }

  async push(tenant: string, batch: WriteBatch): Promise<PushResult> {
    if (this.stopped || this.leaving) throw new StrataError('ingester-unavailable', 503, `ingester is ${this.stopped ? 'stopped' : 'LEAVING'}: not accepting writes`);
    // Metadata-only requests (what Prometheus sends every minute) neither open a TSDB nor touch the WAL.
    const res = batch.numSeries > 0 ? await this.pushSeries(tenant, batch) : { appended: 0, rejected: 0 };
    if (batch.metadata.length > 0) this.pushMetadata(tenant, batch.metadata);
    return res;
  }

  private async pushSeries(tenant: string, batch: WriteBatch): Promise<PushResult> {
    const db = await this.db(tenant);
    const ov = this.deps.overrides;
    const res = db.append(
      batch,
      { maxSeriesPerUser: ov.maxGlobalSeriesPerUser(tenant), maxSeriesPerMetric: ov.maxGlobalSeriesPerMetric(tenant) },
      {
        discarded: (reason, n) => this.m.discarded.inc({ reason, user: tenant }, n),
        seriesCreated: (n) => this.m.seriesCreated.inc({ user: tenant }, n),
      },
    );
    await db.wal.sync();
    this.m.ingested.inc(res.appended);
    if (res.rejected > 0) this.m.ingestedFailures.inc(res.rejected);
    return res;
  }

  /**
   * Stores metric metadata (memory only: Prometheus sends it again every minute). As in Mimir,
   * metadata is best effort: an entry over a limit is dropped, counted and logged, and the push
   * still succeeds.
   */
  private pushMetadata(tenant: string, entries: readonly MetricMetadataEntry[]): void {
    let store = this.metadata.get(tenant);
    if (store === undefined) {
      store = new UserMetricsMetadata();
      this.metadata.set(tenant, store);
    }
    const limits = this.deps.overrides.forTenant(tenant);
    const r = store.add(entries, { maxPerUser: limits.maxGlobalMetadataPerUser, maxPerMetric: limits.maxGlobalMetadataPerMetric }, this.now());
    if (store.size === 0) this.metadata.delete(tenant);
    if (r.created > 0) this.m.metadataCreated.inc({ user: tenant }, r.created);
    if (r.ingested > 0) this.m.ingestedMetadata.inc(r.ingested);
    if (r.firstError === undefined) return;
    const failed = r.rejectedPerUser + r.rejectedPerMetric;
    this.m.ingestedMetadataFailures.inc(failed);
    if (r.rejectedPerUser > 0) this.m.discardedMetadata.inc({ reason: IngesterErrors.maxMetadataPerUser.reason, user: tenant }, r.rejectedPerUser);
    if (r.rejectedPerMetric > 0) this.m.discardedMetadata.inc({ reason: IngesterErrors.maxMetadataPerMetric.reason, user: tenant }, r.rejectedPerMetric);
    this.deps.logger.warn({ tenant, failed, err: r.firstError.message }, 'failed to ingest some metadata');
  }

  /** Drops metric metadata not received since `now - metadataRetainPeriod` (run every metadataPurgeInterval). */
  purgeMetadata(now = this.now()): void {
    const deadline = now - (this.cfg.metadataRetainPeriod ?? DEFAULT_METADATA_RETAIN_PERIOD);
    for (const [tenant, store] of this.metadata) {
      const removed = store.purge(deadline);
      if (removed > 0) this.m.metadataRemoved.inc({ user: tenant }, removed);
      if (store.size === 0) this.metadata.delete(tenant);
    }
  }

  private deleteMetadata(tenant: string): void {
    const store = this.metadata.get(tenant);
    if (store === undefined) return;
    this.metadata.delete(tenant);
    const removed = store.purge(Infinity);
    if (removed > 0) this.m.metadataRemoved.inc({ user: tenant }, removed);
  }

  /** The tenant's metric metadata, each distinct entry once; [] for a tenant without any. */
  async metricsMetadata(tenant: string): Promise<MetricMetadataEntry[]> {
    return this.metadata.get(tenant)?.entries() ?? [];
  }

  private existing(tenant: string): UserTSDB | undefined {
    return this.dbs.get(tenant);
  }

  async queryChunks(tenant: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<SeriesChunks[]> {
    return (await this.existing(tenant)?.select(mint, maxt, matchers)) ?? [];
  }

  async labelNames(tenant: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
    return (await this.existing(tenant)?.labelNames(mint, maxt, matchers)) ?? [];
  }

  async labelValues(tenant: string, name: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
    return (await this.existing(tenant)?.labelValues(name, mint, maxt, matchers)) ?? [];
  }

  async series(tenant: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<Labels[]> {
    return ((await this.existing(tenant)?.select(mint, maxt, matchers)) ?? []).map((s) => s.labels);
  }
}
