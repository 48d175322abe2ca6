import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import { discardedSamplesCounter, tenantIdError, type Logger, type Overrides } from '@strata/common';
import type { IngesterClient, Labels, Matcher, PushResult, SeriesChunks, WriteBatch } from '@strata/tsdb-core';
import { UserTSDB } from './user-tsdb';

export interface IngesterConfig {
  /** `-blocks-storage.tsdb.dir`: one sub-directory per tenant. */
  tsdbDir: string;
  /** Block range (ms), 2h by default. */
  blockRange: number;
}

export interface IngesterDeps {
  overrides: Overrides;
  registry: Registry;
  logger: Logger;
}

/** Per-tenant heads with WALs. Implements IngesterClient for in-process use. */
export class Ingester implements IngesterClient {
  private readonly dbs = new Map<string, UserTSDB>();
  private readonly opening = new Map<string, Promise<UserTSDB>>();
  private readonly m: {
    seriesCreated: Counter<'user'>;
    ingested: Counter;
    ingestedFailures: Counter;
    discarded: Counter<'reason' | 'user'>;
  };
  private stopped = false;

  constructor(
    private readonly cfg: IngesterConfig,
    private readonly deps: IngesterDeps,
  ) {
    const reg = deps.registry;
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
      this.deps.logger.info({ tenant: name, series: db.head.numSeries, ms: Date.now() - t0 }, 'replayed WAL');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const db of this.dbs.values()) await db.close();
  }

  private db(tenant: string): Promise<UserTSDB> | UserTSDB {
    const db = this.dbs.get(tenant);
    if (db !== undefined) return db;
    let p = this.opening.get(tenant);
    if (p === undefined) {
      p = UserTSDB.open(tenant, join(this.cfg.tsdbDir, tenant), this.cfg.blockRange).then((d) => {
        this.dbs.set(tenant, d);
        this.opening.delete(tenant);
        return d;
      });
      this.opening.set(tenant, p);
    }
    return p;
  }

  async push(tenant: string, batch: WriteBatch): Promise<PushResult> {
    if (this.stopped) throw new Error('ingester is stopping');
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

  private existing(tenant: string): UserTSDB | undefined {
    return this.dbs.get(tenant);
  }

  async queryChunks(tenant: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<SeriesChunks[]> {
    const db = this.existing(tenant);
    if (db === undefined) return [];
    return db.head.select(mint, maxt, matchers).map(({ labels, series }) => ({ labels, chunks: series.chunks(mint, maxt) }));
  }

  async labelNames(tenant: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
    return this.existing(tenant)?.head.labelNames(mint, maxt, matchers) ?? [];
  }

  async labelValues(tenant: string, name: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
    return this.existing(tenant)?.head.labelValues(name, mint, maxt, matchers) ?? [];
  }

  async series(tenant: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<Labels[]> {
    return this.existing(tenant)?.head.select(mint, maxt, matchers).map((s) => s.labels) ?? [];
  }
}
