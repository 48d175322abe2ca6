/**
 * The hash ring as stored in the KV store: one JSON document per ring (e.g. under `ring/ingester`)
 * holding every instance with its tokens, state and last heartbeat, as dskit's `ring.Desc`.
 */

/** dskit's instance states (dskit's UNHEALTHY is not stored: it is derived from the heartbeat). */
export type InstanceState = 'PENDING' | 'JOINING' | 'ACTIVE' | 'LEAVING';

export const INSTANCE_STATES: readonly InstanceState[] = ['PENDING', 'JOINING', 'ACTIVE', 'LEAVING'];

export interface InstanceDesc {
  id: string;
  /** host:port of the instance's gRPC server. */
  addr: string;
  /** Availability zone; '' when none. */
  zone: string;
  state: InstanceState;
  /** Sorted, distinct uint32 tokens. */
  tokens: number[];
  /** Last heartbeat, ms since the epoch. */
  heartbeat: number;
  /** When the instance first registered, ms since the epoch. */
  registeredAt: number;
}

export interface RingDesc {
  instances: Record<string, InstanceDesc>;
}

/**
 * What a ring lookup is for; it decides which states count as healthy and whether a non-ACTIVE
 * instance makes the walk take one more instance (dskit's Operation):
 * - `write`: dskit's WriteNoExtend, what Mimir's distributor uses: only ACTIVE instances are
 *   written to; no extension.
 * - `write-extend`: dskit's Write: as `write`, but each non-ACTIVE instance met extends the set.
 * - `read`: dskit's Read: ACTIVE, PENDING and LEAVING are readable; JOINING and PENDING extend.
 */
export type RingOp = 'write' | 'write-extend' | 'read';

export const RING_OPS: readonly RingOp[] = ['write', 'write-extend', 'read'];

interface OpDef {
  healthyState(s: InstanceState): boolean;
  extends(s: InstanceState): boolean;
}

export const OP_DEFS: Readonly<Record<RingOp, OpDef>> = {
  write: { healthyState: (s) => s === 'ACTIVE', extends: () => false },
  'write-extend': { healthyState: (s) => s === 'ACTIVE', extends: (s) => s !== 'ACTIVE' },
  read: {
    healthyState: (s) => s === 'ACTIVE' || s === 'PENDING' || s === 'LEAVING',
    extends: (s) => s !== 'ACTIVE' && s !== 'LEAVING',
  },
};

/** The heartbeat is recent enough (`heartbeatTimeout` 0 disables the check). */
export function heartbeatHealthy(inst: InstanceDesc, heartbeatTimeout: number, now: number): boolean {
  return heartbeatTimeout <= 0 || now - inst.heartbeat <= heartbeatTimeout;
}

/** dskit's InstanceDesc.IsHealthy: a state the operation accepts and a recent heartbeat. */
export function isHealthy(inst: InstanceDesc, op: RingOp, heartbeatTimeout: number, now: number): boolean {
  return OP_DEFS[op].healthyState(inst.state) && heartbeatHealthy(inst, heartbeatTimeout, now);
}

export function emptyRingDesc(): RingDesc {
  return { instances: {} };
}

function fail(msg: string): never {
  throw new Error(`ring: invalid ring description: ${msg}`);
}

function normaliseTokens(v: unknown, id: string): number[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(`instance ${id}: tokens is not an array`);
  const out: number[] = [];
  for (const t of v) {
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > 0xffffffff) fail(`instance ${id}: token ${String(t)} is not a uint32`);
    out.push(t);
  }
  out.sort((a, b) => a - b);
  let w = 0;
  for (let r = 0; r < out.length; r++) if (r === 0 || out[r] !== out[w - 1]) out[w++] = out[r]!;
  out.length = w;
  return out;
}

/**
 * Parses the KV value of a ring (undefined or '' is an empty ring). Tokens are sorted and
 * de-duplicated; each instance's `id` is taken from its map key.
 */
export function parseRingDesc(value: string | undefined): RingDesc {
  if (value === undefined || value === '') return emptyRingDesc();
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch (err) {
    fail((err as Error).message);
  }
  if (typeof raw !== 'object' || raw === null) fail('not an object');
  const insts = (raw as { instances?: unknown }).instances;
  if (insts === undefined) return emptyRingDesc();
  if (typeof insts !== 'object' || insts === null || Array.isArray(insts)) fail('instances is not an object');
  const out: RingDesc = { instances: {} };
  for (const [id, v] of Object.entries(insts as Record<string, unknown>)) {
    if (typeof v !== 'object' || v === null) fail(`instance ${id} is not an object`);
    const o = v as Record<string, unknown>;
    const state = o.state;
    if (typeof state !== 'string' || !(INSTANCE_STATES as readonly string[]).includes(state)) fail(`instance ${id}: bad state ${String(state)}`);
    const num = (k: string): number => {
      const x = o[k] ?? 0;
      if (typeof x !== 'number' || !Number.isFinite(x)) fail(`instance ${id}: ${k} is not a number`);
      return x;
    };
    const str = (k: string): string => {
      const x = o[k] ?? '';
      if (typeof x !== 'string') fail(`instance ${id}: ${k} is not a string`);
      return x;
    };
    out.instances[id] = {
      id,
      addr: str('addr'),
      zone: str('zone'),
      state: state as InstanceState,
      tokens: normaliseTokens(o.tokens, id),
      heartbeat: num('heartbeat'),
      registeredAt: num('registeredAt'),
    };
  }
  return out;
}

/** The KV value of a ring: JSON, instances in ID order. */
export function serializeRingDesc(desc: RingDesc): string {
  const instances: Record<string, InstanceDesc> = {};
  for (const id of Object.keys(desc.instances).sort()) {
    const i = desc.instances[id]!;
    instances[id] = { id, addr: i.addr, zone: i.zone, state: i.state, tokens: i.tokens, heartbeat: i.heartbeat, registeredAt: i.registeredAt };
  }
  return JSON.stringify({ instances });
}
