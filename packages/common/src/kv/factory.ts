import type { Logger } from '../logger';
import type { KVClient } from './kv';
import { MemoryKV } from './memory';
import { RedisKV } from './redis';

export type KVStoreKind = 'inmemory' | 'redis';

export interface KVConfig {
  store: KVStoreKind;
  /** `host:port` (or a redis:// URL) of the Redis server; used when `store` is `redis`. */
  redisEndpoint: string;
  /** Prefix of every key in Redis, e.g. `strata/`. The in-memory store ignores it. */
  prefix: string;
  /** Redis watchers re-read their key this often, in case a notification was lost. Default 5 s. */
  pollIntervalMs?: number;
}

/**
 * The KV store of the configuration: `inmemory` for one process (`-target=all`, tests), `redis`
 * when components run as separate processes. An in-memory store is not shared between calls: in
 * `-target=all` create one and hand it to every component.
 */
export function createKV(cfg: KVConfig, logger: Logger): KVClient {
  switch (cfg.store) {
    case 'inmemory':
      return new MemoryKV();
    case 'redis':
      if (!cfg.redisEndpoint) throw new Error('kv: the redis store needs an endpoint (host:port); none was configured');
      return new RedisKV(
        { endpoint: cfg.redisEndpoint, prefix: cfg.prefix, ...(cfg.pollIntervalMs !== undefined ? { pollIntervalMs: cfg.pollIntervalMs } : {}) },
        { logger },
      );
    default:
      throw new Error(`kv: unknown store "${String(cfg.store)}" (expected inmemory or redis)`);
  }
}
