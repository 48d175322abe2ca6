import { Counter, Gauge, type Registry } from 'prom-client';
import { errorMessageWithLimit, StrataError, type Config, type KVClient, type Logger } from '@strata/common';

/**
 * The HA tracker, as Mimir's: Prometheus HA pairs send the same series with a `cluster` label and a
 * distinct `__replica__` label; for each (tenant, cluster) one replica is elected in the KV store and
 * only its samples are kept. The election is taken over by another replica once the elected one has
 * been silent for the failover timeout. Every distributor caches the elections and watches them, so
 * the KV store sees one write per cluster per update timeout, not one per request.
 */

export interface HATrackerConfig {
  /** Refresh the elected replica's `receivedAt` in the KV store when older than this (ms). */
  updateTimeout: number;
  /** A random 0..max (ms), fixed per tracker, added to updateTimeout to spread the refreshes. */
  updateTimeoutJitterMax: number;
  /** Fail over to another replica once the elected one sent nothing for this long (ms). */
  failoverTimeout: number;
  /** KV key prefix; keys are `<prefix><tenant>/<cluster>`. Default `ha-tracker/` (as Mimir's). */
  prefix?: string;
}

/** The per-tenant limit the tracker reads (`Overrides` provides it). */
export interface HATrackerLimits {
  haMaxClusters(tenant: string): number;
}

export interface HATrackerDeps {
  kv: KVClient;
  overrides: HATrackerLimits;
  registry: Registry;
  logger: Logger;
  /** Clock (ms) of the background loops; checkReplica takes its `now` explicitly. */
  now?: () => number;
  /** For the update-timeout jitter (default Math.random). */
  random?: () => number;
}

/** The election record of one (tenant, cluster), JSON in the KV store (Mimir's ReplicaDesc). */
export interface ReplicaDesc {
  replica: string;
  /** When the elected replica was last seen (ms), refreshed at most every update timeout. */
  receivedAt: number;
  /** When this replica was elected (ms). */
  electedAt: number;
  /** How many times the election changed hands (failovers). */
  electedChanges: number;
  /** Set (ms) by the cleanup when the cluster went silent; the key is deleted later. */
  deletedAt?: number;
}

/** One row of the `/distributor/ha_tracker` page. */
export interface HAElection extends ReplicaDesc {
  user: string;
  cluster: string;
}

export const HAErrorIds = {
  replicasNotMatch: 'ha-replicas-not-match',
  tooManyHAClusters: 'tenant-too-many-ha-clusters',
} as const;

/** A sample from a replica that is not the elected one: dropped, and the sender sees 202. */
export class ReplicasNotMatchError extends StrataError {
  constructor(
    readonly replica: string,
    readonly elected: string,
  ) {
    super(HAErrorIds.replicasNotMatch, 202, `replicas did not match, rejecting sample: replica=${replica}, elected=${elected}`);
    this.name = 'ReplicasNotMatchError';
  }
}

/** A new cluster for a tenant that already has `-distributor.ha-tracker.max-clusters`: 400. */
export class TooManyHAClustersError extends StrataError {
  constructor(readonly limit: number) {
    super(
      HAErrorIds.tooManyHAClusters,
      400,
      errorMessageWithLimit(
        HAErrorIds.tooManyHAClusters,
        `the write request has been rejected because the maximum number of high-availability (HA) clusters has been reached for this tenant (limit: ${limit})`,
        'distributor.ha-tracker.max-clusters',
      ),
    );
    this.name = 'TooManyHAClustersError';
  }
}

/** Mimir's rule: failover must come at least 1s after the latest possible refresh. */
export function validateHATrackerConfig(cfg: HATrackerConfig): void {
  if (cfg.updateTimeoutJitterMax < 0) throw new Error('HA tracker max update timeout jitter shouldn\'t be negative');
  const min = cfg.updateTimeout + cfg.updateTimeoutJitterMax + 1000;
  if (cfg.failoverTimeout < min) {
    throw new Error(
      `HA Tracker failover timeout (${cfg.failoverTimeout}ms) must be at least 1s greater than update timeout + max jitter (${min - 1000}ms)`,
    );
  }
}

export function haTrackerConfigFromConfig(cfg: Config): HATrackerConfig {
  return {
    updateTimeout: cfg['distributor.ha-tracker.update-timeout'],
    updateTimeoutJitterMax: cfg['distributor.ha-tracker.update-timeout-jitter-max'],
    failoverTimeout: cfg['distributor.ha-tracker.failover-timeout'],
  };
}

/** A cluster silent this long is marked deleted; a marked one is deleted this long after (Mimir). */
const DELETION_TIMEOUT = 30 * 60_000;
const CLEANUP_PERIOD = 30 * 60_000;

function parseDesc(v: string | undefined): ReplicaDesc | undefined {
  if (v === undefined) return undefined;
  try {
    const d = JSON.parse(v) as Partial<ReplicaDesc> | null;
    if (d === null || typeof d !== 'object' || typeof d.replica !== 'string' || typeof d.receivedAt !== 'number') return undefined;
    return {
      replica: d.replica,
      receivedAt: d.receivedAt,
      electedAt: typeof d.electedAt === 'number' ? d.electedAt : 0,
      electedChanges: typeof d.electedChanges === 'number' ? d.electedChanges : 0,
      ...(typeof d.deletedAt === 'number' && d.deletedAt > 0 ? { deletedAt: d.deletedAt } : {}),
    };
  } catch {
    return undefined;
  }
}

export class HATracker {
  private readonly prefix: string;
  private readonly jitter: number;
  private readonly now: () => number;
  private readonly logger: Logger;
  /** tenant → cluster → the election as last read from or written to the KV store. */
  private readonly elected = new Map<string, Map<string, ReplicaDesc>>();
  private readonly watches = new Map<string, AbortController>();
  private readonly inflight = new Map<string, Promise<ReplicaDesc | undefined>>();
  private stopped = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly m: {
    changes: Counter<'user' | 'cluster'>;
    timestamp: Gauge<'user' | 'cluster'>;
    lastElection: Gauge<'user' | 'cluster'>;
    reelections: Gauge<'user' | 'cluster'>;
    cas: Counter<'user' | 'cluster'>;
    cleanupRuns: Counter;
    marked: Counter;
    deleted: Counter;
    deleteFailed: Counter;
  };

  constructor(
    private readonly cfg: HATrackerConfig,
    private readonly deps: HATrackerDeps,
  ) {
    validateHATrackerConfig(cfg);
    this.prefix = cfg.prefix ?? 'ha-tracker/';
    this.now = deps.now ?? Date.now;
    this.logger = deps.logger.child({ component: 'ha-tracker' });
    this.jitter = cfg.updateTimeoutJitterMax > 0 ? Math.floor((deps.random ?? Math.random)() * cfg.updateTimeoutJitterMax) : 0;
    const registers = [deps.registry];
    this.m = {
      changes: new Counter({
        name: 'cortex_ha_tracker_elected_replica_changes_total',
        help: 'The total number of times the elected replica has changed for a user ID/cluster.',
        labelNames: ['user', 'cluster'],
        registers,
      }),
      timestamp: new Gauge({
        name: 'cortex_ha_tracker_elected_replica_timestamp_seconds',
        help: 'The timestamp stored for the currently elected replica, from the KVStore.',
        labelNames: ['user', 'cluster'],
        registers,
      }),
      lastElection: new Gauge({
        name: 'cortex_ha_tracker_last_election_timestamp_seconds',
        help: 'The timestamp stored for the most recent election, from the KVStore.',
        labelNames: ['user', 'cluster'],
        registers,
      }),
      reelections: new Gauge({
        name: 'cortex_ha_tracker_reelections_total',
        help: 'The total number of reelections for a user ID/cluster, from the KVStore.',
        labelNames: ['user', 'cluster'],
        registers,
      }),
      cas: new Counter({
        name: 'cortex_ha_tracker_kv_store_cas_total',
        help: 'The total number of CAS calls to the KV store for a user ID/cluster.',
        labelNames: ['user', 'cluster'],
        registers,
      }),
      cleanupRuns: new Counter({
        name: 'cortex_ha_tracker_replicas_cleanup_started_total',
        help: 'Number of elected replicas cleanup loops started.',
        registers,
      }),
      marked: new Counter({
        name: 'cortex_ha_tracker_replicas_cleanup_marked_for_deletion_total',
        help: 'Number of elected replicas marked for deletion.',
        registers,
      }),
      deleted: new Counter({
        name: 'cortex_ha_tracker_replicas_cleanup_deleted_total',
        help: 'Number of elected replicas deleted from KV store.',
        registers,
      }),
      deleteFailed: new Counter({
        name: 'cortex_ha_tracker_replicas_cleanup_delete_failed_total',
        help: 'Number of elected replicas that failed to be marked for deletion, or deleted.',
        registers,
      }),
    };
  }

  /**
   * Loads the elections already in the KV store and watches them; then, in the background, picks
   * up clusters other distributors elected (every update timeout) and cleans up silent clusters.
   */
  async start(signal?: AbortSignal): Promise<void> {
    this.stopped = false;
    if (signal !== undefined) signal.addEventListener('abort', () => void this.stop(), { once: true });
    await this.syncKeys();
    const sync = setInterval(() => {
      this.syncKeys().catch((e: Error) => this.logger.warn({ err: e.message }, 'failed to list HA tracker keys'));
    }, this.cfg.updateTimeout);
    const cleanup = setInterval(() => {
      this.cleanupOldReplicas(this.now()).catch((e: Error) => this.logger.warn({ err: e.message }, 'cleanup of HA tracker replicas failed'));
    }, CLEANUP_PERIOD);
    sync.unref();
    cleanup.unref();
    this.timers = [sync, cleanup];
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.stopped = true;
    for (const c of this.watches.values()) c.abort();
    this.watches.clear();
    await Promise.allSettled([...this.inflight.values()]);
  }

  /**
   * Resolves when `replica` is (or has just become) the elected replica of (tenant, cluster);
   * throws ReplicasNotMatchError (202) when another replica is elected, TooManyHAClustersError
   * (400) for a new cluster beyond the tenant's limit, and the KV store's errors as they are.
   */
  async checkReplica(tenant: string, cluster: string, replica: string, now: number): Promise<void> {
    const cached = this.elected.get(tenant)?.get(cluster);
    if (cached !== undefined && this.withinUpdateTimeout(cached, now)) return this.decide(cached, replica);

    const key = this.keyOf(tenant, cluster);
    let known = cached !== undefined;
    const pending = this.inflight.get(key);
    if (pending !== undefined) {
      // Another request for this cluster is already talking to the KV store: share its answer.
      await pending.catch(() => undefined);
      const e = this.elected.get(tenant)?.get(cluster);
      if (e !== undefined && this.withinUpdateTimeout(e, now)) return this.decide(e, replica);
      known ||= e !== undefined;
    }

    if (!known) {
      const limit = this.deps.overrides.haMaxClusters(tenant);
      const n = this.elected.get(tenant)?.size ?? 0;
      if (limit > 0 && n + 1 > limit) throw new TooManyHAClustersError(limit);
    }

    const p = this.updateKVStore(tenant, cluster, replica, now);
    this.inflight.set(key, p);
    let e: ReplicaDesc | undefined;
    try {
      e = await p;
    } finally {
      if (this.inflight.get(key) === p) this.inflight.delete(key);
    }
    if (e === undefined) throw new Error(`HA tracker: the KV store holds no valid election for ${key}`);
    return this.decide(e, replica);
  }

  /** A snapshot of the cached elections, sorted by tenant and cluster. */
  elections(): HAElection[] {
    const out: HAElection[] = [];
    for (const [user, clusters] of this.elected) for (const [cluster, d] of clusters) out.push({ user, cluster, ...d });
    return out.sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0));
  }

  /** The tracker's update-timeout jitter (ms), fixed at construction. */
  get updateTimeoutJitter(): number {
    return this.jitter;
  }

  /** Lists the keys in the KV store and loads and watches those not watched yet. */
  async syncKeys(): Promise<void> {
    const keys = await this.deps.kv.list(this.prefix);
    await Promise.all(
      keys
        .filter((k) => !this.watches.has(k))
        .map(async (k) => {
          this.apply(k, await this.deps.kv.get(k));
          this.watch(k);
        }),
    );
  }

  /**
   * Marks clusters silent since `now - 30m` as deleted (so every distributor forgets them and they
   * stop counting against the limit) and deletes keys marked more than 30 minutes ago.
   */
  async cleanupOldReplicas(now: number): Promise<void> {
    this.m.cleanupRuns.inc();
    const deadline = now - DELETION_TIMEOUT;
    const kv = this.deps.kv;
    for (const key of await kv.list(this.prefix)) {
      try {
        const d = parseDesc(await kv.get(key));
        if (d === undefined) continue;
        if (d.deletedAt !== undefined) {
          if (d.deletedAt >= deadline) continue;
          await kv.delete(key);
          this.m.deleted.inc();
          this.logger.info({ key }, 'cleanup: deleted old replica');
          continue;
        }
        if (d.receivedAt >= deadline) continue;
        let marked = false;
        await kv.cas(key, (cur) => {
          const c = parseDesc(cur);
          marked = c !== undefined && c.deletedAt === undefined && c.receivedAt < deadline;
          return marked ? JSON.stringify({ ...c, deletedAt: now }) : null;
        });
        if (!marked) continue;
        this.m.marked.inc();
        this.logger.info({ key }, 'cleanup: marked replica as deleted');
      } catch (e) {
        this.m.deleteFailed.inc();
        this.logger.error({ key, err: (e as Error).message }, 'cleanup: failed to mark or delete old replica');
      }
    }
  }

  private withinUpdateTimeout(d: ReplicaDesc, now: number): boolean {
    return now - d.receivedAt < this.cfg.updateTimeout + this.jitter;
  }

  private decide(d: ReplicaDesc, replica: string): void {
    if (d.replica !== replica) throw new ReplicasNotMatchError(replica, d.replica);
  }

  private keyOf(tenant: string, cluster: string): string {
    return `${this.prefix}${tenant}/${cluster}`;
  }

  /**
   * One CAS: elect `replica` if nobody is, refresh its `receivedAt` if it is elected and the stored
   * one is older than the update timeout, take over if the elected one is silent for the failover
   * timeout; otherwise leave the record alone. The cache then holds what the store holds.
   */
  private async updateKVStore(tenant: string, cluster: string, replica: string, now: number): Promise<ReplicaDesc | undefined> {
    const key = this.keyOf(tenant, cluster);
    const upd = this.cfg.updateTimeout + this.jitter;
    const failover = this.cfg.failoverTimeout;
    let action: 'elected' | 'failed over' | 'refreshed' | undefined;
    let previous = '';
    const value = await this.deps.kv.cas(key, (cur) => {
      action = undefined;
      previous = '';
      const d = parseDesc(cur);
      let electedAt = now;
      let electedChanges = 0;
      if (d !== undefined && d.deletedAt === undefined) {
        if (d.replica === replica && now - d.receivedAt < upd) return null;
        if (d.replica !== replica && now - d.receivedAt < failover) return null;
        electedChanges = d.electedChanges;
        previous = d.replica;
        if (d.replica === replica) {
          electedAt = d.electedAt > 0 ? d.electedAt : now;
          action = 'refreshed';
        } else {
          electedChanges++;
          action = 'failed over';
        }
      } else {
        action = 'elected';
      }
      const next: ReplicaDesc = { replica, receivedAt: now, electedAt, electedChanges };
      return JSON.stringify(next);
    });
    this.m.cas.inc({ user: tenant, cluster });
    if (action === 'elected' || action === 'failed over') {
      this.logger.info({ tenant, cluster, replica, previous }, `HA tracker ${action} replica`);
    }
    this.apply(key, value);
    this.watch(key);
    return parseDesc(value);
  }

  private watch(key: string): void {
    if (this.watches.has(key) || this.stopped) return;
    const c = new AbortController();
    this.watches.set(key, c);
    this.deps.kv.watch(
      key,
      (v) => {
        if (c.signal.aborted) return;
        this.apply(key, v);
        if (v === undefined) {
          // Deleted by the cleanup: forget it; the next sample or syncKeys() brings it back.
          c.abort();
          if (this.watches.get(key) === c) this.watches.delete(key);
        }
      },
      c.signal,
    );
  }

  /** Puts a value read from the KV store into the cache (and the metrics). */
  private apply(key: string, value: string | undefined): void {
    if (!key.startsWith(this.prefix)) return;
    const rest = key.slice(this.prefix.length);
    const slash = rest.indexOf('/'); // tenant IDs cannot contain '/', cluster names can
    if (slash <= 0) return;
    const user = rest.slice(0, slash);
    const cluster = rest.slice(slash + 1);
    const d = parseDesc(value);
    const clusters = this.elected.get(user);
    const prev = clusters?.get(cluster);
    if (d === undefined || d.deletedAt !== undefined) {
      if (prev === undefined) return;
      clusters!.delete(cluster);
      if (clusters!.size === 0) this.elected.delete(user);
      const labels = { user, cluster };
      this.m.changes.remove(labels);
      this.m.timestamp.remove(labels);
      this.m.lastElection.remove(labels);
      this.m.reelections.remove(labels);
      this.m.cas.remove(labels);
      return;
    }
    if (clusters === undefined) this.elected.set(user, new Map([[cluster, d]]));
    else clusters.set(cluster, d);
    const labels = { user, cluster };
    if (prev !== undefined && prev.replica !== d.replica) {
      this.m.changes.inc(labels);
      this.logger.info({ tenant: user, cluster, old_replica: prev.replica, new_replica: d.replica }, 'updating replica in cache');
    }
    this.m.timestamp.set(labels, d.receivedAt / 1000);
    this.m.lastElection.set(labels, d.electedAt / 1000);
    this.m.reelections.set(labels, d.electedChanges);
  }
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const iso = (ms: number) => (ms > 0 ? new Date(ms).toISOString() : '');

/** The `/distributor/ha_tracker` page: one row per (tenant, cluster). */
export function renderHATrackerPage(elections: readonly HAElection[], now: number = Date.now()): string {
  const rows = elections
    .map(
      (e) =>
        `<tr><td>${esc(e.user)}</td><td>${esc(e.cluster)}</td><td>${esc(e.replica)}</td><td>${iso(e.electedAt)}</td>` +
        `<td>${iso(e.receivedAt)} (${Math.max(0, Math.round((now - e.receivedAt) / 1000))}s ago)</td><td>${e.electedChanges}</td></tr>`,
    )
    .join('\n');
  return `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>HA Tracker Status</title></head>
<body>
<h1>HA Tracker Status</h1>
<p>Current time: ${iso(now)}</p>
<table border="1" cellpadding="4">
<thead><tr><th>User</th><th>Cluster</th><th>Elected replica</th><th>Elected at</th><th>Last update</th><th>Changes</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`;
}

/** The same as JSON (`Accept: application/json`). */
export function haTrackerJSON(elections: readonly HAElection[]): string {
  return JSON.stringify({
    elections: elections.map((e) => ({
      user: e.user,
      cluster: e.cluster,
      replica: e.replica,
      electedAt: iso(e.electedAt),
      receivedAt: iso(e.receivedAt),
      electedChanges: e.electedChanges,
    })),
  });
}

/** `GET /distributor/ha_tracker`: HTML, or JSON when the client accepts application/json. */
export function createHATrackerHandler(tracker: HATracker, now: () => number = Date.now) {
  return (req: { headers: Record<string, string | string[] | undefined> }, res: { setHeader(n: string, v: string): unknown; end(b: string): unknown; statusCode: number }): void => {
    const accept = String(req.headers['accept'] ?? '');
    res.statusCode = 200;
    if (accept.includes('application/json')) {
      res.setHeader('Content-Type', 'application/json');
      res.end(haTrackerJSON(tracker.elections()));
    } else {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(renderHATrackerPage(tracker.elections(), now()));
    }
  };
}
