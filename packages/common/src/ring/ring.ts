import type { KVClient } from '../kv/kv';
import type { Logger } from '../logger';
import { emptyRingDesc, heartbeatHealthy, OP_DEFS, parseRingDesc, RING_OPS, type InstanceDesc, type RingDesc, type RingOp } from './model';
import { shardToken } from './shard-token';

/** Ring lookups that cannot be served: empty ring, too few live replicas. */
export class RingError extends Error {
  override readonly name = 'RingError';
}

/**
 * The instances to use for a key or an operation and how many of them may fail (dskit's
 * ReplicationSet). Sets returned by the ring are shared and cached: treat them as read-only.
 */
export interface ReplicationSet {
  readonly instances: readonly InstanceDesc[];
  readonly maxErrors: number;
  /** Whole-ring sets with zone awareness: how many zones may fail (maxErrors is then 0). */
  readonly maxUnavailableZones?: number;
}

export interface RingConfig {
  /** KV key of the ring. Default `ring/ingester`. */
  ringKey?: string;
  /** Instances whose last heartbeat is older are unhealthy; 0 disables. Default 1 m (-ring.heartbeat-timeout). */
  heartbeatTimeout?: number;
  /** Default 3 (-ingester.ring.replication-factor). */
  replicationFactor?: number;
  /** Replicas go to distinct zones. Default false (-ingester.ring.zone-awareness-enabled). */
  zoneAwarenessEnabled?: boolean;
}

export interface RingDeps {
  /** Where the ring is read from; optional when the ring is fed with update(). */
  kv?: KVClient;
  logger: Logger;
  /** Clock for heartbeat ages, ms. Default Date.now. */
  now?: () => number;
}

const EMPTY_RING = 'empty ring';

/**
 * The read side of a hash ring (dskit's ring.Ring): a copy of the ring description kept up to date
 * by a KV watch, a sorted token table (rebuilt only when instances, zones or tokens change) and,
 * per operation, a cache of the replication set of every token position, so a lookup is a binary
 * search plus an array read. The caches are dropped when a state changes or when time makes an
 * instance's heartbeat too old.
 */
export class Ring {
  readonly ringKey: string;
  readonly heartbeatTimeout: number;
  readonly replicationFactor: number;
  readonly zoneAwarenessEnabled: boolean;
  private readonly kv: KVClient | undefined;
  private readonly logger: Logger;
  private readonly now: () => number;
  private abort: AbortController | undefined;

  private current: RingDesc = emptyRingDesc();
  /** Instances sorted by ID; the ring's own objects (updated in place on heartbeats). */
  private insts: InstanceDesc[] = [];
  /** Sorted tokens and, per token, the index of its instance in `insts`. */
  private tokenTable = new Uint32Array(0);
  private owners = new Int32Array(0);
  /** Per instance: index of its zone in `zones`. */
  private zoneOf = new Int32Array(0);
  private zones: string[] = [];
  /** Per operation, per instance: 1 if healthy. */
  private healthy: Record<RingOp, Uint8Array> = { write: new Uint8Array(0), 'write-extend': new Uint8Array(0), read: new Uint8Array(0) };
  /** Health can only change (without a ring update) when the clock passes this time. */
  private healthExpiry = Infinity;
  /** Per operation: replication set (or error message) of each token position, filled lazily. */
  private sets: Record<RingOp, (ReplicationSet | string | undefined)[]> = { write: [], 'write-extend': [], read: [] };
  private stateSig = '';

  constructor(cfg: RingConfig, deps: RingDeps) {
    this.ringKey = cfg.ringKey ?? 'ring/ingester';
    this.heartbeatTimeout = cfg.heartbeatTimeout ?? 60_000;
    this.replicationFactor = cfg.replicationFactor ?? 3;
    this.zoneAwarenessEnabled = cfg.zoneAwarenessEnabled ?? false;
    if (!Number.isInteger(this.replicationFactor) || this.replicationFactor <= 0) {
      throw new Error(`ring: the replication factor must be a positive integer, got ${this.replicationFactor}`);
    }
    this.kv = deps.kv;
    this.logger = deps.logger.child({ component: 'ring', ring: this.ringKey });
    this.now = deps.now ?? Date.now;
  }

  /** Reads the ring, then follows it through a KV watch until stop() (or `signal` aborts). */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.kv === undefined) throw new Error('ring: start() needs a KV client');
    if (this.abort !== undefined) return;
    const abort = new AbortController();
    this.abort = abort;
    signal?.addEventListener('abort', () => this.stop(), { once: true });
    this.apply(await this.kv.get(this.ringKey));
    if (abort.signal.aborted) return;
    this.kv.watch(this.ringKey, (v) => this.apply(v), abort.signal);
  }

  stop(): void {
    this.abort?.abort();
  }

  /** The ring description as last seen. */
  desc(): RingDesc {
    return this.current;
  }

  /** Every instance, sorted by ID. */
  instances(): readonly InstanceDesc[] {
    return this.insts;
  }

  instance(id: string): InstanceDesc | undefined {
    return this.current.instances[id];
  }

  /** Instance `inst` is healthy for `op` now (state accepted by the operation, recent heartbeat). */
  isHealthy(inst: InstanceDesc, op: RingOp): boolean {
    return OP_DEFS[op].healthyState(inst.state) && heartbeatHealthy(inst, this.heartbeatTimeout, this.now());
  }

  /** Replaces the ring description (what the KV watch does on each change). */
  update(desc: RingDesc): void {
    const ids = Object.keys(desc.instances).sort();
    let same = ids.length === this.insts.length;
    for (let i = 0; same && i < ids.length; i++) {
      const a = this.insts[i]!;
      const b = desc.instances[ids[i]!]!;
      same = a.id === ids[i] && a.zone === b.zone && a.tokens.length === b.tokens.length && a.tokens.every((t, k) => t === b.tokens[k]);
    }
    if (same) {
      // Only states, addresses and heartbeats changed: keep the token table.
      for (let i = 0; i < ids.length; i++) Object.assign(this.insts[i]!, desc.instances[ids[i]!]!, { id: ids[i]! });
    } else {
      this.rebuild(ids, desc);
    }
    this.current = desc;
    const sig = this.insts.map((i) => i.state).join(',');
    const changed = this.recomputeHealth(this.now());
    if (!same || changed || sig !== this.stateSig) this.clearSets();
    this.stateSig = sig;
  }

  /**
   * The replication set of `token` for `op` (dskit's Ring.Get): walks the tokens clockwise from the
   * first one >= `token`, wrapping, collecting distinct instances (distinct zones with zone
   * awareness) until the replication factor is reached. Unhealthy instances count in the walk but
   * are left out of the set; throws a RingError when fewer than a quorum (RF/2+1) are healthy.
   */
  get(token: number, op: RingOp): ReplicationSet {
    if (this.tokenTable.length === 0) throw new RingError(EMPTY_RING);
    this.checkHealthExpiry();
    const s = this.setAt(this.search(token >>> 0), op);
    if (typeof s === 'string') throw new RingError(s);
    return s;
  }

  /**
   * The replication set of each token, into `out` if given (reused across calls to avoid
   * allocation). Throws a RingError for the first token without a quorum. The sets are shared.
   */
  replicationSetsFor(tokens: ArrayLike<number>, op: RingOp = 'write', out?: ReplicationSet[]): ReplicationSet[] {
    const n = tokens.length;
    const res = out ?? new Array<ReplicationSet>(n);
    res.length = n;
    if (n === 0) return res;
    if (this.tokenTable.length === 0) throw new RingError(EMPTY_RING);
    this.checkHealthExpiry();
    const cache = this.sets[op];
    for (let i = 0; i < n; i++) {
      const pos = this.search(tokens[i]! >>> 0);
      const s = cache[pos] ?? this.setAt(pos, op);
      if (typeof s === 'string') throw new RingError(s);
      res[i] = s;
    }
    return res;
  }

  /** The write replication set of each token: the distributor's `WriteRing.replicationSets`. */
  replicationSets(tokens: ArrayLike<number>): readonly ReplicationSet[] {
    return this.replicationSetsFor(tokens, 'write');
  }

  /** The ring token of a series: shardToken(tenant, seriesKey). */
  token(tenant: string, seriesKey: string): number {
    return shardToken(tenant, seriesKey);
  }

  /** Every instance healthy for `op`, maxErrors 0 (dskit's GetAllHealthy). Throws on an empty ring. */
  allHealthy(op: RingOp): ReplicationSet {
    if (this.insts.length === 0) throw new RingError(EMPTY_RING);
    return { instances: this.insts.filter((i) => this.isHealthy(i, op)), maxErrors: 0 };
  }

  /**
   * Every instance an operation over the whole ring must ask, e.g. a query of all ingesters
   * (dskit's GetReplicationSetForOperation). Without zone awareness it tolerates RF/2 unhealthy
   * instances; with it, up to RF/2 zones with unhealthy instances, whose instances are all left out.
   */
  replicationSetForOperation(op: RingOp): ReplicationSet {
    if (this.insts.length === 0 || this.tokenTable.length === 0) throw new RingError(EMPTY_RING);
    const now = this.now();
    const rf = this.replicationFactor;
    let healthy: InstanceDesc[] = [];
    const failedZones = new Set<string>();
    for (const inst of this.insts) {
      if (OP_DEFS[op].healthyState(inst.state) && heartbeatHealthy(inst, this.heartbeatTimeout, now)) healthy.push(inst);
      else failedZones.add(inst.zone);
    }
    if (this.zoneAwarenessEnabled) {
      const replicatedZones = Math.min(this.zones.length, rf);
      let maxUnavailableZones = Math.floor(replicatedZones / 2);
      if (failedZones.size > maxUnavailableZones) throw new RingError('too many unhealthy instances in the ring');
      if (failedZones.size > 0) healthy = healthy.filter((i) => !failedZones.has(i.zone));
      maxUnavailableZones -= failedZones.size;
      return { instances: healthy, maxErrors: 0, maxUnavailableZones };
    }
    const required = Math.max(this.insts.length, rf) - Math.floor(rf / 2);
    if (healthy.length < required) throw new RingError('too many unhealthy instances in the ring');
    return { instances: healthy, maxErrors: healthy.length - required };
  }

  /** The querier's `ReadRing.readSet`: replicationSetForOperation('read'). */
  readSet(): ReplicationSet {
    return this.replicationSetForOperation('read');
  }

  private apply(value: string | undefined): void {
    let desc: RingDesc;
    try {
      desc = parseRingDesc(value);
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'ignoring an unreadable ring description');
      return;
    }
    this.update(desc);
  }

  private rebuild(ids: string[], desc: RingDesc): void {
    this.insts = ids.map((id) => ({ ...desc.instances[id]!, id }));
    const zoneIdx = new Map<string, number>();
    this.zoneOf = new Int32Array(this.insts.length);
    let total = 0;
    this.insts.forEach((inst, i) => {
      let z = zoneIdx.get(inst.zone);
      if (z === undefined) {
        z = zoneIdx.size;
        zoneIdx.set(inst.zone, z);
      }
      this.zoneOf[i] = z;
      total += inst.tokens.length;
    });
    this.zones = [...zoneIdx.keys()];
    // Sort (token, owner) pairs; a token claimed twice goes to the instance with the smaller ID.
    const pairs = new Float64Array(total);
    let k = 0;
    this.insts.forEach((inst, i) => {
      for (const t of inst.tokens) pairs[k++] = t * 65536 + i;
    });
    pairs.sort();
    const tokens = new Uint32Array(total);
    const owners = new Int32Array(total);
    let n = 0;
    for (let j = 0; j < total; j++) {
      const t = Math.floor(pairs[j]! / 65536);
      if (n > 0 && tokens[n - 1] === t) continue;
      tokens[n] = t;
      owners[n] = pairs[j]! - t * 65536;
      n++;
    }
    this.tokenTable = tokens.subarray(0, n);
    this.owners = owners.subarray(0, n);
    for (const op of RING_OPS) this.healthy[op] = new Uint8Array(this.insts.length);
  }

  /** Recomputes per-operation health; returns whether any bit changed. */
  private recomputeHealth(now: number): boolean {
    let changed = false;
    let expiry = Infinity;
    for (let i = 0; i < this.insts.length; i++) {
      const inst = this.insts[i]!;
      const hb = heartbeatHealthy(inst, this.heartbeatTimeout, now);
      if (hb && this.heartbeatTimeout > 0) expiry = Math.min(expiry, inst.heartbeat + this.heartbeatTimeout);
      for (const op of RING_OPS) {
        const h = hb && OP_DEFS[op].healthyState(inst.state) ? 1 : 0;
        if (this.healthy[op][i] !== h) {
          this.healthy[op][i] = h;
          changed = true;
        }
      }
    }
    this.healthExpiry = expiry;
    return changed;
  }

  private checkHealthExpiry(): void {
    const now = this.now();
    if (now > this.healthExpiry && this.recomputeHealth(now)) this.clearSets();
  }

  private clearSets(): void {
    this.sets = { write: [], 'write-extend': [], read: [] };
  }

  /** Index of the first token >= key, wrapping to 0. */
  private search(key: number): number {
    const t = this.tokenTable;
    let lo = 0;
    let hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (t[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo === t.length ? 0 : lo;
  }

  private setAt(pos: number, op: RingOp): ReplicationSet | string {
    const cache = this.sets[op];
    let s = cache[pos];
    if (s === undefined) {
      s = this.computeSet(pos, op);
      cache[pos] = s;
    }
    return s;
  }

  private computeSet(start: number, op: RingOp): ReplicationSet | string {
    const def = OP_DEFS[op];
    const numTokens = this.tokenTable.length;
    const maxInstances = this.insts.length;
    const maxZones = this.zones.length;
    let n = this.replicationFactor;
    const hosts: number[] = [];
    const zones: number[] = [];
    for (let iter = 0; hosts.length < Math.min(maxInstances, n) && zones.length < maxZones && iter < numTokens; iter++) {
      const owner = this.owners[(start + iter) % numTokens]!;
      if (hosts.includes(owner)) continue;
      const zone = this.zoneOf[owner]!;
      // Instances without a zone are not subject to zone awareness.
      const zoned = this.zoneAwarenessEnabled && this.zones[zone] !== '';
      if (zoned && zones.includes(zone)) continue;
      hosts.push(owner);
      if (def.extends(this.insts[owner]!.state)) n++;
      else if (zoned) zones.push(zone);
    }
    // dskit's default replication strategy: the quorum is over the whole (possibly extended) set.
    const minSuccess = Math.floor(Math.max(this.replicationFactor, hosts.length) / 2) + 1;
    const healthy: InstanceDesc[] = [];
    const unhealthy: string[] = [];
    const h = this.healthy[op];
    for (const i of hosts) {
      if (h[i] === 1) healthy.push(this.insts[i]!);
      else unhealthy.push(this.insts[i]!.addr);
    }
    if (healthy.length < minSuccess) {
      const where = this.zoneAwarenessEnabled ? ' across different availability zones' : '';
      const which = unhealthy.length > 0 ? ` - unhealthy instances: ${unhealthy.join(',')}` : '';
      return `at least ${minSuccess} live replicas required${where}, could only find ${healthy.length}${which}`;
    }
    return { instances: healthy, maxErrors: healthy.length - minSuccess };
  }
}
