import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../../../../tests/helpers/redis';
import { nopLogger } from '../logger';
import { createKV } from './factory';
import type { KVClient } from './kv';
import { MemoryKV } from './memory';
import { RedisKV } from './redis';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `get` every 5 ms until it returns something other than undefined; rejects after `ms`. */
function waitFor<T>(get: () => T | undefined, ms = 2000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      const v = get();
      if (v !== undefined) return resolve(v);
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

let redis: RedisServer;
const clients: KVClient[] = [];
let prefixSeq = 0;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await redis?.stop();
});

function redisKV(prefix: string, pollIntervalMs?: number): RedisKV {
  const kv = new RedisKV({ endpoint: redis.endpoint, prefix, ...(pollIntervalMs ? { pollIntervalMs } : {}) }, { logger: nopLogger() });
  clients.push(kv);
  return kv;
}

const stores: [string, () => KVClient][] = [
  ['MemoryKV', () => new MemoryKV()],
  ['RedisKV', () => redisKV(`test-${process.pid}-${++prefixSeq}/`)],
];

describe.each(stores)('%s', (_name, make) => {
  let kv: KVClient;
  beforeEach(() => {
    kv = make();
  });

  test('get of a missing key is undefined; cas creates, reads and updates', async () => {
    expect(await kv.get('a')).toBeUndefined();
    const seen: (string | undefined)[] = [];
    expect(
      await kv.cas('a', (cur) => {
        seen.push(cur);
        return 'one';
      }),
    ).toBe('one');
    expect(await kv.cas('a', (cur) => (seen.push(cur), `${cur}+two`))).toBe('one+two');
    expect(seen).toEqual([undefined, 'one']);
    expect(await kv.get('a')).toBe('one+two');
  });

  test('cas returning null leaves the key alone and resolves with the current value', async () => {
    await kv.cas('k', () => 'v1');
    expect(await kv.cas('k', () => null)).toBe('v1');
    expect(await kv.cas('missing', () => null)).toBeUndefined();
    expect(await kv.get('missing')).toBeUndefined();
  });

  test('cas propagates an exception from f and writes nothing', async () => {
    await kv.cas('k', () => 'v1');
    await expect(
      kv.cas('k', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await kv.get('k')).toBe('v1');
  });

  test('concurrent cas increments from one client are not lost', async () => {
    const inc = (cur: string | undefined): string => String(Number(cur ?? '0') + 1);
    await Promise.all(Array.from({ length: 30 }, () => kv.cas('n', inc)));
    expect(await kv.get('n')).toBe('30');
  });

  test('delete removes the key; deleting a missing key is fine', async () => {
    await kv.cas('d', () => 'x');
    await kv.delete('d');
    expect(await kv.get('d')).toBeUndefined();
    await kv.delete('d');
    expect(await kv.list('d')).toEqual([]);
  });

  test('list returns the keys with a prefix, sorted, and treats glob characters literally', async () => {
    for (const k of ['ring/ingester', 'ring/compactor', 'ha/t1/c1', 'ring*x', 'ring?', 'ringz']) await kv.cas(k, () => 'v');
    expect(await kv.list('ring/')).toEqual(['ring/compactor', 'ring/ingester']);
    expect(await kv.list('ring*')).toEqual(['ring*x']);
    expect(await kv.list('ring?')).toEqual(['ring?']);
    expect(await kv.list('nothing/')).toEqual([]);
    expect((await kv.list('')).length).toBe(6);
  });

  test('watch delivers the current value, then every change, then nothing after abort', async () => {
    await kv.cas('w', () => 'v0');
    const got: (string | undefined)[] = [];
    const ac = new AbortController();
    kv.watch('w', (v) => got.push(v), ac.signal);
    await waitFor(() => (got.length >= 1 ? true : undefined), 2000, 'initial value');
    expect(got).toEqual(['v0']);
    await kv.cas('w', () => 'v1');
    await waitFor(() => (got.at(-1) === 'v1' ? true : undefined), 2000, 'v1');
    await kv.delete('w');
    await waitFor(() => (got.length > 0 && got.at(-1) === undefined && got.length >= 3 ? true : undefined), 2000, 'deletion');
    expect(got).toEqual(['v0', 'v1', undefined]);
    ac.abort();
    await kv.cas('w', () => 'v2');
    await sleep(100);
    expect(got).toEqual(['v0', 'v1', undefined]);
  });

  test('watch of a missing key starts with undefined; two watchers of one key both get updates', async () => {
    const a: (string | undefined)[] = [];
    const b: (string | undefined)[] = [];
    const ac = new AbortController();
    kv.watch('m', (v) => a.push(v), ac.signal);
    kv.watch('m', (v) => b.push(v), ac.signal);
    await waitFor(() => (a.length && b.length ? true : undefined));
    expect(a).toEqual([undefined]);
    await kv.cas('m', () => 'x');
    await waitFor(() => (a.at(-1) === 'x' && b.at(-1) === 'x' ? true : undefined));
    expect(b).toEqual([undefined, 'x']);
    ac.abort();
  });

  test('operations after close are rejected', async () => {
    await kv.close();
    await expect(kv.get('a')).rejects.toThrow('closed');
    await expect(kv.cas('a', () => 'x')).rejects.toThrow('closed');
  });
});

describe('MemoryKV', () => {
  test('watchers run in a microtask after the change, once per change, with that change’s value', async () => {
    const kv = new MemoryKV();
    const got: (string | undefined)[] = [];
    const ac = new AbortController();
    kv.watch('k', (v) => got.push(v), ac.signal);
    expect(got).toEqual([]); // not synchronously inside watch()
    await Promise.resolve();
    expect(got).toEqual([undefined]);
    const p1 = kv.cas('k', () => 'a');
    const p2 = kv.cas('k', () => 'b');
    await Promise.all([p1, p2]);
    await Promise.resolve();
    expect(got).toEqual([undefined, 'a', 'b']);
    // Writing the same value is not a change.
    await kv.cas('k', () => 'b');
    await Promise.resolve();
    expect(got).toEqual([undefined, 'a', 'b']);
    ac.abort();
  });
});

describe('RedisKV against redis-server', () => {
  test('50 concurrent increments from two clients end at 50', async () => {
    const prefix = `contention-${process.pid}/`;
    const c1 = redisKV(prefix);
    const c2 = redisKV(prefix);
    const inc = (cur: string | undefined): string => String(Number(cur ?? '0') + 1);
    await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? c1 : c2).cas('counter', inc)));
    expect(await c1.get('counter')).toBe('50');
    expect(await c2.get('counter')).toBe('50');
  });

  test('a watcher on one client sees writes of another within 1 s', async () => {
    const prefix = `watch-${process.pid}/`;
    const writer = redisKV(prefix);
    const reader = redisKV(prefix, 60_000); // no help from polling
    const got: { v: string | undefined; at: number }[] = [];
    const ac = new AbortController();
    reader.watch('ring/ingester', (v) => got.push({ v, at: Date.now() }), ac.signal);
    await waitFor(() => (got.length ? true : undefined));
    for (let i = 1; i <= 3; i++) {
      const t0 = Date.now();
      await writer.cas('ring/ingester', () => `v${i}`);
      const seen = await waitFor(() => got.find((g) => g.v === `v${i}`), 1000, `v${i}`);
      expect(seen.at - t0).toBeLessThan(1000);
    }
    ac.abort();
  });

  test('a write that was never announced still reaches watchers through the periodic re-read', async () => {
    const prefix = `poll-${process.pid}/`;
    const kv = redisKV(prefix, 200);
    const got: (string | undefined)[] = [];
    const ac = new AbortController();
    kv.watch('k', (v) => got.push(v), ac.signal);
    await waitFor(() => (got.length ? true : undefined));
    const raw = new Redis({ host: '127.0.0.1', port: redis.port });
    try {
      await raw.set(`${prefix}k`, 'silent'); // no PUBLISH: as if the message were lost
    } finally {
      await raw.quit();
    }
    await waitFor(() => (got.at(-1) === 'silent' ? true : undefined), 1500, 'polled value');
    ac.abort();
  });

  test('keys live under the prefix; clients with other prefixes do not see them', async () => {
    const a = redisKV('tenant-a/');
    const b = redisKV('tenant-b/');
    await a.cas('ring/ingester', () => 'A');
    expect(await b.get('ring/ingester')).toBeUndefined();
    expect(await b.list('ring/')).toEqual([]);
    const raw = new Redis({ host: '127.0.0.1', port: redis.port });
    try {
      expect(await raw.get('tenant-a/ring/ingester')).toBe('A');
    } finally {
      await raw.quit();
    }
  });

  test('createKV builds a RedisKV or a MemoryKV', async () => {
    const kv = createKV({ store: 'redis', redisEndpoint: redis.endpoint, prefix: `factory-${process.pid}/` }, nopLogger());
    clients.push(kv);
    expect(kv).toBeInstanceOf(RedisKV);
    await kv.cas('x', () => 'y');
    expect(await kv.get('x')).toBe('y');
    expect(createKV({ store: 'inmemory', redisEndpoint: '', prefix: '' }, nopLogger())).toBeInstanceOf(MemoryKV);
    expect(() => createKV({ store: 'redis', redisEndpoint: '', prefix: '' }, nopLogger())).toThrow('endpoint');
  });
});
