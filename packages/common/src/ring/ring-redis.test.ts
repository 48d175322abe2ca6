import { startRedis, type RedisServer } from '../../../../tests/helpers/redis';
import { RedisKV } from '../kv/redis';
import { nopLogger } from '../logger';
import { Lifecycler } from './lifecycler';
import { Ring } from './ring';
import { ringStatus } from './status';

let redis: RedisServer;
const kvs: RedisKV[] = [];

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await Promise.all(kvs.map((k) => k.close()));
  await redis?.stop();
});

function kv(): RedisKV {
  const c = new RedisKV({ endpoint: redis.endpoint, prefix: `ring-scenario-${process.pid}/` }, { logger: nopLogger() });
  kvs.push(c);
  return c;
}

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('two lifecyclers and a ring over Redis: join, go ACTIVE, time out, leave', async () => {
  let clockA = Date.now();
  let clockB = clockA;
  let clockRing = clockA;
  const ring = new Ring({ replicationFactor: 2, heartbeatTimeout: 60_000 }, { kv: kv(), logger: nopLogger(), now: () => clockRing });
  await ring.start();
  expect(ring.instances()).toEqual([]);

  const a = new Lifecycler({ id: 'ingester-a', addr: '127.0.0.1:9001', zone: 'z1', heartbeatPeriod: 3_600_000 }, { kv: kv(), logger: nopLogger(), now: () => clockA });
  const b = new Lifecycler({ id: 'ingester-b', addr: '127.0.0.1:9002', zone: 'z2', heartbeatPeriod: 3_600_000 }, { kv: kv(), logger: nopLogger(), now: () => clockB });
  await Promise.all([a.start(), b.start()]);
  await until(() => ring.instances().length === 2, 'both instances are in the ring');
  expect(ring.instances().map((i) => i.state)).toEqual(['JOINING', 'JOINING']);
  expect(() => ring.get(12345, 'write')).toThrow('at least 2 live replicas required, could only find 0');

  await Promise.all([a.setState('ACTIVE'), b.setState('ACTIVE')]);
  await until(() => ring.instances().every((i) => i.state === 'ACTIVE'), 'both are ACTIVE');
  expect(ring.instances().map((i) => [i.id, i.addr, i.zone, i.tokens.length])).toEqual([
    ['ingester-a', '127.0.0.1:9001', 'z1', 128],
    ['ingester-b', '127.0.0.1:9002', 'z2', 128],
  ]);
  // Tokens in the ring are the lifecyclers' own, and disjoint.
  expect(ring.instance('ingester-a')!.tokens).toEqual(a.tokens());
  expect(a.tokens().some((t) => b.tokens().includes(t))).toBe(false);
  const set = ring.get(12345, 'write');
  expect(set.instances.map((i) => i.id).sort()).toEqual(['ingester-a', 'ingester-b']);
  expect(set.maxErrors).toBe(0);

  // b stops heartbeating; 61 s later (ring clock) it is unhealthy while a keeps heartbeating.
  clockRing += 61_000;
  clockA += 61_000;
  await a.heartbeat();
  await until(() => ring.instance('ingester-a')!.heartbeat === clockA, 'a’s heartbeat reached the ring');
  expect(() => ring.get(12345, 'write')).toThrow(/^at least 2 live replicas required, could only find 1 - unhealthy instances: 127\.0\.0\.1:9002$/);
  expect(ringStatus(ring, clockRing).instances.map((e) => e.state)).toEqual(['ACTIVE', 'UNHEALTHY']);
  expect(ring.allHealthy('write').instances.map((i) => i.id)).toEqual(['ingester-a']);

  // b heartbeats again: healthy again.
  clockB = clockRing;
  await b.heartbeat();
  await until(() => ring.instance('ingester-b')!.heartbeat === clockB, 'b’s heartbeat reached the ring');
  expect(ring.get(12345, 'write').instances).toHaveLength(2);

  // b leaves: it is gone from the ring.
  await b.stop();
  await until(() => ring.instances().length === 1, 'b is gone');
  expect(ring.instances()[0]!.id).toBe('ingester-a');
  expect(() => ring.get(12345, 'write')).toThrow('at least 2 live replicas required, could only find 1');

  await a.stop();
  await until(() => ring.instances().length === 0, 'a is gone');
  ring.stop();
});
