import type { RingDesc, RingOp } from './model';
import type { Ring } from './ring';
import { shardToken } from './shard-token';

const TOKEN_SPACE = 0x100000000;

export interface OwnershipOptions {
  /**
   * Treat each zone as its own ring (as dskit's CountTokens): with zone-aware replication each
   * zone holds a full copy, so ownership within the zone is what matters. Default false.
   */
  perZone?: boolean;
}

/**
 * The fraction of the token space each instance owns: a token owns the keys after the previous
 * token up to itself (a key goes to the first token >= it). Instances without tokens own 0.
 */
export function tokenOwnership(desc: RingDesc, opts: OwnershipOptions = {}): Record<string, number> {
  const out: Record<string, number> = {};
  const groups = new Map<string, { t: number; id: string }[]>();
  for (const [id, inst] of Object.entries(desc.instances)) {
    out[id] = 0;
    const key = opts.perZone ? inst.zone : '';
    let g = groups.get(key);
    if (g === undefined) {
      g = [];
      groups.set(key, g);
    }
    for (const t of inst.tokens) g.push({ t, id });
  }
  for (const all of groups.values()) {
    if (all.length === 0) continue;
    // A token claimed twice belongs to the instance with the smaller ID (as in Ring).
    all.sort((a, b) => a.t - b.t || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const g = all.filter((e, i) => i === 0 || all[i - 1]!.t !== e.t);
    for (let i = 0; i < g.length; i++) {
      const prev = i > 0 ? g[i - 1]!.t : g[g.length - 1]!.t - TOKEN_SPACE;
      out[g[i]!.id]! += (g[i]!.t - prev) / TOKEN_SPACE;
    }
  }
  return out;
}

export interface SeriesBalance {
  /** Series per instance (a series counts once on each of its replicas). */
  perInstance: Record<string, number>;
  max: number;
  mean: number;
  /** max / mean: 1 is a perfect spread. */
  ratio: number;
}

/**
 * How evenly `seriesKeys` of `tenant` spread over the ring's instances: each series goes to its
 * replication set for `op` (default `write`). The mean is over every instance in the ring.
 */
export function seriesBalance(ring: Ring, tenant: string, seriesKeys: readonly string[], op: RingOp = 'write'): SeriesBalance {
  const perInstance: Record<string, number> = {};
  for (const inst of ring.instances()) perInstance[inst.id] = 0;
  const tokens = new Uint32Array(seriesKeys.length);
  for (let i = 0; i < seriesKeys.length; i++) tokens[i] = shardToken(tenant, seriesKeys[i]!);
  for (const set of ring.replicationSetsFor(tokens, op)) for (const inst of set.instances) perInstance[inst.id] = (perInstance[inst.id] ?? 0) + 1;
  const counts = Object.values(perInstance);
  const max = counts.length > 0 ? Math.max(...counts) : 0;
  const mean = counts.length > 0 ? counts.reduce((a, b) => a + b, 0) / counts.length : 0;
  return { perInstance, max, mean, ratio: mean > 0 ? max / mean : 0 };
}
