import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger';
import type { KVClient } from './kv';

export interface RedisKVConfig {
  /** `host:port`, or a `redis://` / `rediss://` URL. */
  endpoint: string;
  /** Prepended to every key (and watch channel), e.g. `strata/`, so several clusters can share one Redis. */
  prefix: string;
  /** How often a watcher re-reads its key in case a change notification was lost. Default 5 s. */
  pollIntervalMs?: number;
  /** A `cas` gives up after this many conflicts in a row. Default 1000. */
  maxCasAttempts?: number;
}

export interface RedisKVDeps {
  logger: Logger;
}

/**
 * Compare-and-set in one round trip: writes ARGV[3] only if the key still holds ARGV[2] (ARGV[1] =
 * '1') or is still missing (ARGV[1] = '0'), and announces the change on channel ARGV[4] in the same
 * atomic step, so a watcher subscribed before it read the key cannot miss a write.
 */
const CAS_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if cur ~= ARGV[2] then return 0 end
elseif cur then
  return 0
end
redis.call('SET', KEYS[1], ARGV[3])
redis.call('PUBLISH', ARGV[4], '')
return 1
`;

const DELETE_SCRIPT = `
local n = redis.call('DEL', KEYS[1])
if n > 0 then redis.call('PUBLISH', ARGV[1], '') end
return n
`;

interface ScriptCommands {
  strataCas(key: string, mode: '0' | '1', expected: string, next: string, channel: string): Promise<number>;
  strataDelete(key: string, channel: string): Promise<number>;
}

type Client = Redis & ScriptCommands;

const UNSET: unique symbol = Symbol('unset');

interface Watcher {
  cb: (value: string | undefined) => void;
  /** The value this watcher saw last; UNSET until its first callback. */
  last: string | undefined | typeof UNSET;
}

/** The watchers of one key: one subscription, one poll timer, one read at a time. */
interface KeyWatch {
  key: string;
  channel: string;
  watchers: Set<Watcher>;
  /** True once the SUBSCRIBE is confirmed; reads before that could miss a change. */
  subscribed: boolean;
  reading: boolean;
  /** A change was announced while a read was under way: read again afterwards. */
  dirty: boolean;
  timer: NodeJS.Timeout;
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => '\\' + c);
}

/** ioredis options for `host:port`, `[v6]:port` or a redis URL. */
export function redisOptions(endpoint: string): RedisOptions {
  const url = new URL(/^rediss?:\/\//.test(endpoint) ? endpoint : `redis://${endpoint}`);
  const opts: RedisOptions = {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: url.port ? Number(url.port) : 6379,
  };
  if (url.username) opts.username = decodeURIComponent(url.username);
  if (url.password) opts.password = decodeURIComponent(url.password);
  const db = url.pathname.replace(/^\//, '');
  if (db) opts.db = Number(db);
  if (url.protocol === 'rediss:') opts.tls = {};
  return opts;
}

/**
 * The KV store on Redis (ioredis). Keys live under `prefix`. `cas` reads the value, applies `f`
 * and writes with a Lua compare-and-set, retrying with jitter on conflict. After every successful
 * write the script publishes on a channel named like the key; `watch` subscribes to it, re-reads
 * the key on each message (reads are serialised on one connection, so callbacks never go back in
 * time), and also re-reads every `pollIntervalMs` and after a reconnect, so a lost message delays
 * an update but never leaves a watcher stale.
 */
export class RedisKV implements KVClient {
  private readonly client: Client;
  private sub: Redis | undefined;
  private readonly watches = new Map<string, KeyWatch>();
  private readonly prefix: string;
  private readonly pollIntervalMs: number;
  private readonly maxCasAttempts: number;
  private readonly logger: Logger;
  private closed = false;
  private lastError = { msg: '', at: 0 };

  constructor(cfg: RedisKVConfig, deps: RedisKVDeps) {
    this.prefix = cfg.prefix;
    this.pollIntervalMs = cfg.pollIntervalMs ?? 5000;
    this.maxCasAttempts = cfg.maxCasAttempts ?? 1000;
    this.logger = deps.logger.child({ component: 'kv', store: 'redis', endpoint: cfg.endpoint });
    const client = new Redis(redisOptions(cfg.endpoint));
    client.defineCommand('strataCas', { numberOfKeys: 1, lua: CAS_SCRIPT });
    client.defineCommand('strataDelete', { numberOfKeys: 1, lua: DELETE_SCRIPT });
    client.on('error', (err: Error) => this.logError('redis connection error', err));
    this.client = client as Client;
  }

  async get(key: string): Promise<string | undefined> {
    this.checkOpen();
    return (await this.client.get(this.prefix + key)) ?? undefined;
  }

  async cas(key: string, f: (current: string | undefined) => string | null): Promise<string | undefined> {
    this.checkOpen();
    const full = this.prefix + key;
    for (let attempt = 1; ; attempt++) {
      const current = (await this.client.get(full)) ?? undefined;
      const next = f(current);
      if (next === null || next === current) return current;
      const ok = await this.client.strataCas(full, current === undefined ? '0' : '1', current ?? '', next, full);
      if (ok === 1) return next;
      if (attempt >= this.maxCasAttempts) {
        throw new Error(`kv: compare-and-swap on ${key} failed after ${attempt} attempts (the key kept changing)`);
      }
      // Spread the retries of contending writers.
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** Math.min(attempt, 6))));
      this.checkOpen();
    }
  }

  async delete(key: string): Promise<void> {
    this.checkOpen();
    const full = this.prefix + key;
    await this.client.strataDelete(full, full);
  }

  watch(key: string, cb: (value: string | undefined) => void, signal: AbortSignal): void {
    if (this.closed || signal.aborted) return;
    const full = this.prefix + key;
    let kw = this.watches.get(full);
    const watcher: Watcher = { cb, last: UNSET };
    if (kw === undefined) {
      const created: KeyWatch = {
        key,
        channel: full,
        watchers: new Set([watcher]),
        subscribed: false,
        reading: false,
        dirty: false,
        timer: setInterval(() => this.refresh(created), this.pollIntervalMs).unref(),
      };
      kw = created;
      this.watches.set(full, created);
      this.subscriber()
        .subscribe(full)
        .then(
          () => {
            created.subscribed = true;
            this.refresh(created);
          },
          (err: Error) => {
            // The poll still delivers changes, only later.
            this.logError(`subscribing to ${key} failed; falling back to polling`, err);
            created.subscribed = true;
            this.refresh(created);
          },
        );
    } else {
      kw.watchers.add(watcher);
      if (kw.subscribed) this.refresh(kw);
    }
    const owner = kw;
    signal.addEventListener(
      'abort',
      () => {
        owner.watchers.delete(watcher);
        if (owner.watchers.size > 0 || this.watches.get(full) !== owner) return;
        clearInterval(owner.timer);
        this.watches.delete(full);
        if (!this.closed) this.sub?.unsubscribe(full).catch((err: Error) => this.logError(`unsubscribing from ${key}`, err));
      },
      { once: true },
    );
  }

  async list(prefix: string): Promise<string[]> {
    this.checkOpen();
    const pattern = escapeGlob(this.prefix + prefix) + '*';
    const out = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) out.add(k.slice(this.prefix.length));
    } while (cursor !== '0');
    return [...out].sort();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const kw of this.watches.values()) clearInterval(kw.timer);
    this.watches.clear();
    const quit = async (c: Redis): Promise<void> => {
      try {
        await c.quit();
      } catch {
        c.disconnect();
      }
    };
    await Promise.all([quit(this.client), this.sub ? quit(this.sub) : Promise.resolve()]);
  }

  private subscriber(): Redis {
    if (this.sub === undefined) {
      const sub = this.client.duplicate();
      sub.on('error', (err: Error) => this.logError('redis subscriber connection error', err));
      sub.on('message', (channel: string) => {
        const kw = this.watches.get(channel);
        if (kw !== undefined) this.refresh(kw);
      });
      // After a reconnect ioredis subscribes again; changes made while disconnected were not announced.
      let first = true;
      sub.on('ready', () => {
        if (first) {
          first = false;
          return;
        }
        for (const kw of this.watches.values()) this.refresh(kw);
      });
      this.sub = sub;
    }
    return this.sub;
  }

  /** Reads the key and calls every watcher whose last value differs. One read at a time per key. */
  private refresh(kw: KeyWatch): void {
    if (this.closed || !kw.subscribed) return;
    if (kw.reading) {
      kw.dirty = true;
      return;
    }
    kw.reading = true;
    void (async () => {
      try {
        do {
          kw.dirty = false;
          const value = (await this.client.get(kw.channel)) ?? undefined;
          if (this.closed) return;
          for (const w of kw.watchers) {
            if (w.last === value) continue;
            w.last = value;
            try {
              w.cb(value);
            } catch (err) {
              this.logger.error({ err, key: kw.key }, 'kv watch callback failed');
            }
          }
        } while (kw.dirty && !this.closed);
      } catch (err) {
        if (!this.closed) this.logError(`reading watched key ${kw.key} failed`, err as Error);
      } finally {
        kw.reading = false;
      }
    })();
  }

  /** Logs connection trouble at most once per 10 s per distinct message. */
  private logError(msg: string, err: Error): void {
    const now = Date.now();
    const text = `${msg}: ${err.message}`;
    if (text === this.lastError.msg && now - this.lastError.at < 10_000) return;
    this.lastError = { msg: text, at: now };
    this.logger.warn({ err: err.message }, msg);
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('kv: client is closed');
  }
}
