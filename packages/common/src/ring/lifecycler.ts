import type { KVClient } from '../kv/kv';
import type { Logger } from '../logger';
import { parseRingDesc, serializeRingDesc, type InstanceDesc, type InstanceState, type RingDesc } from './model';

/** `n` distinct random uint32 tokens that are not in `taken`, sorted. */
export function generateTokens(n: number, taken: ReadonlySet<number>, random: () => number = Math.random): number[] {
  const out = new Set<number>();
  while (out.size < n) {
    const t = Math.floor(random() * 0x100000000) >>> 0;
    if (!taken.has(t)) out.add(t);
  }
  return [...out].sort((a, b) => a - b);
}

/** The instance's identity and wanted state, as a lifecycler writes it. */
export interface InstanceRegistration {
  id: string;
  addr: string;
  zone: string;
  state: InstanceState;
}

function withInstance(desc: RingDesc, inst: InstanceDesc): RingDesc {
  return { instances: { ...desc.instances, [inst.id]: inst } };
}

/** Tokens of every instance except `id`. */
function tokensOfOthers(desc: RingDesc, id: string): Set<number> {
  const taken = new Set<number>();
  for (const [other, inst] of Object.entries(desc.instances)) if (other !== id) for (const t of inst.tokens) taken.add(t);
  return taken;
}

/**
 * Registers an instance (dskit's lifecycler initRing + autoJoin). An instance already in the ring
 * (restarted with the same ID) keeps its tokens and registration time, topped up to `numTokens`
 * if it had fewer; a new one gets `numTokens` random tokens no other instance holds. Either way
 * address, zone, state and heartbeat are set from `reg` and `now`. Does not modify `desc`.
 */
export function registerInstance(desc: RingDesc, reg: InstanceRegistration, numTokens: number, now: number, random: () => number = Math.random): RingDesc {
  const existing = desc.instances[reg.id];
  let tokens = existing?.tokens ?? [];
  if (tokens.length < numTokens) {
    const taken = tokensOfOthers(desc, reg.id);
    for (const t of tokens) taken.add(t);
    tokens = [...tokens, ...generateTokens(numTokens - tokens.length, taken, random)].sort((a, b) => a - b);
  }
  return withInstance(desc, {
    id: reg.id,
    addr: reg.addr,
    zone: reg.zone,
    state: reg.state,
    tokens,
    heartbeat: now,
    registeredAt: existing && existing.registeredAt > 0 ? existing.registeredAt : now,
  });
}

/**
 * A heartbeat: the instance's heartbeat becomes `now` and its state, address and zone those of
 * `reg`. If the instance is missing (forgotten, or the KV store lost its data) it is added back
 * with `tokens`, as dskit does. Does not modify `desc`.
 */
export function heartbeatInstance(desc: RingDesc, reg: InstanceRegistration, tokens: readonly number[], now: number): RingDesc {
  const existing = desc.instances[reg.id];
  return withInstance(desc, {
    id: reg.id,
    addr: reg.addr,
    zone: reg.zone,
    state: reg.state,
    tokens: existing?.tokens ?? [...tokens],
    heartbeat: now,
    registeredAt: existing?.registeredAt ?? now,
  });
}

/** The ring without instance `id` (dskit's unregister / "Forget"). Does not modify `desc`. */
export function removeInstance(desc: RingDesc, id: string): RingDesc {
  if (!(id in desc.instances)) return desc;
  const instances = { ...desc.instances };
  delete instances[id];
  return { instances };
}

/** Removes an instance from the ring stored under `ringKey` (the ring page's "Forget" button). */
export async function forgetInstance(kv: KVClient, ringKey: string, id: string): Promise<void> {
  await kv.cas(ringKey, (cur) => {
    const desc = parseRingDesc(cur);
    return id in desc.instances ? serializeRingDesc(removeInstance(desc, id)) : null;
  });
}

export interface LifecyclerConfig {
  /** Instance ID, unique in the ring and stable across restarts (e.g. the pod name). */
  id: string;
  /** host:port other components reach this instance's gRPC server on. */
  addr: string;
  /** Availability zone; '' for none. */
  zone?: string;
  /** Tokens to own. Default 128 (Mimir's -ingester.ring.num-tokens). */
  numTokens?: number;
  /** Default 15 s (Mimir's -ingester.ring.heartbeat-period). */
  heartbeatPeriod?: number;
  /** KV key of the ring. Default `ring/ingester`. */
  ringKey?: string;
  /** Remove the instance from the ring on stop(); otherwise it stays, LEAVING. Default true. */
  unregisterOnShutdown?: boolean;
}

export interface LifecyclerDeps {
  kv: KVClient;
  logger: Logger;
  /** Clock for heartbeats, ms. Default Date.now. */
  now?: () => number;
  /** Randomness for new tokens. Default Math.random. */
  random?: () => number;
}

/**
 * Keeps one instance (an ingester) in the ring: registers it on start() — in state JOINING unless
 * setState() said otherwise — heartbeats every `heartbeatPeriod`, writes state changes at once,
 * and removes it on stop(). Every write is a KV compare-and-swap of the whole ring document.
 */
export class Lifecycler {
  private readonly cfg: Required<LifecyclerConfig>;
  private readonly kv: KVClient;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly random: () => number;
  private wanted: InstanceState = 'JOINING';
  private myTokens: number[] = [];
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  /** KV writes run one at a time, in call order. */
  private chain: Promise<void> = Promise.resolve();

  constructor(cfg: LifecyclerConfig, deps: LifecyclerDeps) {
    this.cfg = {
      id: cfg.id,
      addr: cfg.addr,
      zone: cfg.zone ?? '',
      numTokens: cfg.numTokens ?? 128,
      heartbeatPeriod: cfg.heartbeatPeriod ?? 15_000,
      ringKey: cfg.ringKey ?? 'ring/ingester',
      unregisterOnShutdown: cfg.unregisterOnShutdown ?? true,
    };
    this.kv = deps.kv;
    this.logger = deps.logger.child({ component: 'lifecycler', ring: this.cfg.ringKey, instance: cfg.id });
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
  }

  get id(): string {
    return this.cfg.id;
  }

  /** The state this instance has (or will have once written) in the ring. */
  state(): InstanceState {
    return this.wanted;
  }

  /** This instance's tokens (empty before start()). */
  tokens(): readonly number[] {
    return this.myTokens;
  }

  /** Registers the instance and starts heartbeating. Aborting `signal` is the same as stop(). */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.running) return;
    await this.write(async () => {
      let tokens: number[] = [];
      await this.kv.cas(this.cfg.ringKey, (cur) => {
        const desc = registerInstance(parseRingDesc(cur), this.registration(), this.cfg.numTokens, this.now(), this.random);
        tokens = desc.instances[this.cfg.id]!.tokens;
        return serializeRingDesc(desc);
      });
      this.myTokens = tokens;
      this.running = true;
    });
    this.logger.info({ state: this.wanted, tokens: this.myTokens.length }, 'instance registered in the ring');
    this.schedule();
    signal?.addEventListener('abort', () => void this.stop().catch((err) => this.logger.error({ err }, 'stopping the lifecycler failed')), { once: true });
  }

  /** Changes the instance's state; written to the ring at once when running. */
  async setState(state: InstanceState): Promise<void> {
    if (this.wanted === state) return;
    this.logger.info({ from: this.wanted, to: state }, 'changing instance state');
    this.wanted = state;
    if (this.running) await this.heartbeat();
  }

  /** Writes a heartbeat (and the current state) now. */
  async heartbeat(): Promise<void> {
    await this.write(async () => {
      if (!this.running) return;
      await this.kv.cas(this.cfg.ringKey, (cur) =>
        serializeRingDesc(heartbeatInstance(parseRingDesc(cur), this.registration(), this.myTokens, this.now())),
      );
    });
  }

  /** Stops heartbeating and removes the instance from the ring (or leaves it LEAVING). */
  async stop(): Promise<void> {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.write(async () => {
      if (!this.running) return;
      this.running = false;
      if (this.cfg.unregisterOnShutdown) {
        await this.kv.cas(this.cfg.ringKey, (cur) => {
          const desc = parseRingDesc(cur);
          return this.cfg.id in desc.instances ? serializeRingDesc(removeInstance(desc, this.cfg.id)) : null;
        });
        this.logger.info('instance removed from the ring');
      } else {
        this.wanted = 'LEAVING';
        await this.kv.cas(this.cfg.ringKey, (cur) =>
          serializeRingDesc(heartbeatInstance(parseRingDesc(cur), this.registration(), this.myTokens, this.now())),
        );
      }
    });
  }

  private registration(): InstanceRegistration {
    return { id: this.cfg.id, addr: this.cfg.addr, zone: this.cfg.zone, state: this.wanted };
  }

  private write(f: () => Promise<void>): Promise<void> {
    const p = this.chain.then(f);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.heartbeat()
        .catch((err: Error) => this.logger.warn({ err: err.message }, 'ring heartbeat failed'))
        .finally(() => this.schedule());
    }, this.cfg.heartbeatPeriod);
    this.timer.unref();
  }
}
