import { MemoryKV } from '../kv/memory';
import { nopLogger } from '../logger';
import { serializeRingDesc, type InstanceDesc, type InstanceState, type RingDesc } from './model';
import { Ring, RingError, type RingConfig } from './ring';

const NOW = 1_700_000_000_000;

function inst(id: string, tokens: number[], opts: { state?: InstanceState; zone?: string; heartbeat?: number } = {}): InstanceDesc {
  return {
    id,
    addr: `${id}:9095`,
    zone: opts.zone ?? '',
    state: opts.state ?? 'ACTIVE',
    tokens,
    heartbeat: opts.heartbeat ?? NOW,
    registeredAt: NOW - 3_600_000,
  };
}

function desc(...insts: InstanceDesc[]): RingDesc {
  return { instances: Object.fromEntries(insts.map((i) => [i.id, i])) };
}

function ring(d: RingDesc, cfg: RingConfig = {}, now: () => number = () => NOW): Ring {
  const r = new Ring(cfg, { logger: nopLogger(), now });
  r.update(d);
  return r;
}

const ids = (s: { instances: readonly InstanceDesc[] }): string[] => s.instances.map((i) => i.id);

/** a..d own one token each: 100, 200, 300, 400. */
const abcd = (over: Partial<Record<'a' | 'b' | 'c' | 'd', { state?: InstanceState; zone?: string; heartbeat?: number }>> = {}): RingDesc =>
  desc(inst('a', [100], over.a), inst('b', [200], over.b), inst('c', [300], over.c), inst('d', [400], over.d));

describe('token walk', () => {
  test('RF=3 takes the owner of the first token >= key, then the next distinct instances clockwise', () => {
    const r = ring(abcd());
    expect(ids(r.get(150, 'write'))).toEqual(['b', 'c', 'd']);
    expect(ids(r.get(200, 'write'))).toEqual(['b', 'c', 'd']); // a token owns the key equal to it
    expect(ids(r.get(0, 'write'))).toEqual(['a', 'b', 'c']);
    expect(r.get(150, 'write').maxErrors).toBe(1);
  });

  test('the walk wraps around the end of the token space', () => {
    const r = ring(abcd());
    expect(ids(r.get(350, 'write'))).toEqual(['d', 'a', 'b']);
    expect(ids(r.get(401, 'write'))).toEqual(['a', 'b', 'c']);
    expect(ids(r.get(0xffffffff, 'write'))).toEqual(['a', 'b', 'c']);
  });

  test('an instance met twice is counted once', () => {
    const r = ring(desc(inst('a', [100, 150]), inst('b', [200, 250]), inst('c', [300])));
    expect(ids(r.get(120, 'write'))).toEqual(['a', 'b', 'c']);
  });

  test('RF=1 and RF larger than the ring', () => {
    expect(ids(ring(abcd(), { replicationFactor: 1 }).get(250, 'write'))).toEqual(['c']);
    expect(ring(abcd(), { replicationFactor: 1 }).get(250, 'write').maxErrors).toBe(0);
    const two = ring(desc(inst('a', [100]), inst('b', [200])));
    const s = two.get(50, 'write');
    expect(ids(s)).toEqual(['a', 'b']);
    expect(s.maxErrors).toBe(0); // quorum of RF=3 is 2
  });

  test('an unhealthy instance still takes its place in the walk but is left out of the set', () => {
    const r = ring(abcd({ d: { heartbeat: NOW - 61_000 } }));
    const s = r.get(150, 'write');
    expect(ids(s)).toEqual(['b', 'c']); // not a: d is counted, not skipped
    expect(s.maxErrors).toBe(0);
  });

  test('fewer healthy replicas than a quorum is an error with Mimir’s text', () => {
    const r = ring(abcd({ c: { heartbeat: NOW - 120_000 }, d: { heartbeat: NOW - 120_000 } }));
    expect(() => r.get(150, 'write')).toThrow(RingError);
    expect(() => r.get(150, 'write')).toThrow(/^at least 2 live replicas required, could only find 1 - unhealthy instances: c:9095,d:9095$/);
    expect(() => r.replicationSetsFor([50, 150], 'write')).toThrow('at least 2 live replicas required, could only find 1');
    // Keys whose replicas are healthy enough still work.
    expect(ids(r.get(50, 'write'))).toEqual(['a', 'b']);
  });

  test('heartbeat timeout: exactly the timeout is still healthy; 0 disables the check', () => {
    expect(ids(ring(abcd({ b: { heartbeat: NOW - 60_000 } })).get(150, 'write'))).toEqual(['b', 'c', 'd']);
    expect(ids(ring(abcd({ b: { heartbeat: NOW - 60_001 } })).get(150, 'write'))).toEqual(['c', 'd']);
    expect(ids(ring(abcd({ b: { heartbeat: 0 } }), { heartbeatTimeout: 0 }).get(150, 'write'))).toEqual(['b', 'c', 'd']);
  });

  test('JOINING is not written to; LEAVING is read from but not written to', () => {
    const joining = ring(abcd({ c: { state: 'JOINING' } }));
    expect(ids(joining.get(150, 'write'))).toEqual(['b', 'd']);
    const leaving = ring(abcd({ c: { state: 'LEAVING' } }));
    expect(ids(leaving.get(150, 'write'))).toEqual(['b', 'd']);
    expect(ids(leaving.get(150, 'read'))).toEqual(['b', 'c', 'd']);
    expect(leaving.get(150, 'read').maxErrors).toBe(1);
    const pending = ring(abcd({ c: { state: 'PENDING' } }));
    expect(ids(pending.get(150, 'write'))).toEqual(['b', 'd']);
  });

  test('write-extend and read extend the walk past non-ACTIVE instances (dskit Write / Read)', () => {
    const r = ring(abcd({ c: { state: 'JOINING' } }));
    const w = r.get(150, 'write-extend');
    expect(ids(w)).toEqual(['b', 'd', 'a']);
    expect(w.maxErrors).toBe(0); // 4 walked: quorum 3
    const rd = r.get(150, 'read');
    expect(ids(rd)).toEqual(['b', 'd', 'a']);
    // LEAVING extends writes but not reads.
    const l = ring(abcd({ c: { state: 'LEAVING' } }));
    expect(ids(l.get(150, 'write-extend'))).toEqual(['b', 'd', 'a']);
    expect(ids(l.get(150, 'read'))).toEqual(['b', 'c', 'd']);
  });

  test('zone awareness: one replica per zone, skipping instances of zones already used', () => {
    const d = desc(
      inst('a1', [100], { zone: 'z-a' }),
      inst('a2', [200], { zone: 'z-a' }),
      inst('b1', [300], { zone: 'z-b' }),
      inst('b2', [350], { zone: 'z-b' }),
      inst('c1', [400], { zone: 'z-c' }),
    );
    const za = ring(d, { zoneAwarenessEnabled: true });
    expect(ids(za.get(50, 'write'))).toEqual(['a1', 'b1', 'c1']);
    expect(ids(za.get(250, 'write'))).toEqual(['b1', 'c1', 'a1']);
    expect(ids(za.get(320, 'write'))).toEqual(['b2', 'c1', 'a1']);
    // Without zone awareness the same ring ignores zones.
    expect(ids(ring(d).get(50, 'write'))).toEqual(['a1', 'a2', 'b1']);
  });

  test('zone awareness: the quorum error names availability zones', () => {
    const d = desc(
      inst('a1', [100], { zone: 'z-a' }),
      inst('b1', [300], { zone: 'z-b', heartbeat: 0 }),
      inst('c1', [400], { zone: 'z-c', heartbeat: 0 }),
    );
    expect(() => ring(d, { zoneAwarenessEnabled: true }).get(50, 'write')).toThrow(
      /^at least 2 live replicas required across different availability zones, could only find 1/,
    );
  });

  test('an empty ring is an error', () => {
    const r = ring(desc());
    expect(() => r.get(1, 'write')).toThrow('empty ring');
    expect(() => r.replicationSetsFor([1], 'write')).toThrow('empty ring');
    expect(r.replicationSetsFor([], 'write')).toEqual([]);
    expect(() => r.allHealthy('read')).toThrow('empty ring');
    // Instances without tokens are not a usable ring either.
    expect(() => ring(desc(inst('a', []))).get(1, 'write')).toThrow('empty ring');
  });

  test('the same token twice belongs to the instance with the smaller ID', () => {
    const r = ring(desc(inst('b', [100]), inst('a', [100]), inst('c', [200])), { replicationFactor: 1 });
    expect(ids(r.get(50, 'write'))).toEqual(['a']);
    expect(ids(r.get(150, 'write'))).toEqual(['c']);
  });
});

describe('replicationSetsFor', () => {
  test('one set per token, equal to get(), shared between tokens of the same range, into a reused array', () => {
    const r = ring(abcd());
    const out: ReturnType<Ring['replicationSetsFor']> = [];
    const res = r.replicationSetsFor(Uint32Array.from([150, 160, 350, 0]), 'write', out);
    expect(res).toBe(out);
    expect(res.map(ids)).toEqual([
      ['b', 'c', 'd'],
      ['b', 'c', 'd'],
      ['d', 'a', 'b'],
      ['a', 'b', 'c'],
    ]);
    expect(res[0]).toBe(res[1]);
    expect(res[0]).toBe(r.get(199, 'write'));
    r.replicationSetsFor([150], 'write', out);
    expect(out.length).toBe(1);
    // The distributor's WriteRing view.
    expect(r.replicationSets([150])[0]).toBe(res[0]);
  });

  test('the cached sets follow the clock: an instance whose heartbeat ages out drops out of them', () => {
    let now = NOW;
    const r = ring(abcd({ c: { heartbeat: NOW - 50_000 } }), {}, () => now);
    const before = r.replicationSetsFor([150], 'write')[0]!;
    expect(ids(before)).toEqual(['b', 'c', 'd']);
    now = NOW + 10_001; // c's heartbeat is now 60.001 s old
    const after = r.replicationSetsFor([150], 'write')[0]!;
    expect(ids(after)).toEqual(['b', 'd']);
    expect(ids(before)).toEqual(['b', 'c', 'd']); // sets handed out earlier are not changed
  });

  test('the cached sets follow ring updates: state changes, heartbeats and topology', () => {
    const r = ring(abcd());
    expect(ids(r.get(150, 'write'))).toEqual(['b', 'c', 'd']);
    r.update(abcd({ c: { state: 'LEAVING' } }));
    expect(ids(r.get(150, 'write'))).toEqual(['b', 'd']);
    r.update(abcd());
    const s = r.get(150, 'write');
    // A heartbeat-only update keeps the cache and refreshes the instance objects in place.
    r.update(abcd({ b: { heartbeat: NOW + 5 } }));
    expect(r.get(150, 'write')).toBe(s);
    expect(r.get(150, 'write').instances[0]!.heartbeat).toBe(NOW + 5);
    // A new instance between b and c.
    r.update(desc(...Object.values(abcd().instances), inst('e', [250])));
    expect(ids(r.get(150, 'write'))).toEqual(['b', 'e', 'c']);
  });
});

describe('whole-ring sets', () => {
  test('allHealthy lists the instances healthy for the operation', () => {
    const r = ring(abcd({ b: { state: 'LEAVING' }, c: { state: 'JOINING' }, d: { heartbeat: 0 } }));
    expect(ids(r.allHealthy('write'))).toEqual(['a']);
    expect(ids(r.allHealthy('read'))).toEqual(['a', 'b']);
    expect(r.allHealthy('read').maxErrors).toBe(0);
  });

  test('readSet tolerates RF/2 unhealthy instances', () => {
    const all = ring(abcd()).readSet();
    expect(ids(all)).toEqual(['a', 'b', 'c', 'd']);
    expect(all.maxErrors).toBe(1);
    const one = ring(abcd({ d: { heartbeat: 0 } })).readSet();
    expect(ids(one)).toEqual(['a', 'b', 'c']);
    expect(one.maxErrors).toBe(0);
    expect(() => ring(abcd({ c: { heartbeat: 0 }, d: { heartbeat: 0 } })).readSet()).toThrow('too many unhealthy instances in the ring');
  });

  test('readSet with zone awareness drops whole zones with an unhealthy instance', () => {
    const d = desc(
      inst('a1', [100], { zone: 'z-a' }),
      inst('a2', [150], { zone: 'z-a' }),
      inst('b1', [200], { zone: 'z-b', heartbeat: 0 }),
      inst('b2', [250], { zone: 'z-b' }),
      inst('c1', [300], { zone: 'z-c' }),
    );
    const s = ring(d, { zoneAwarenessEnabled: true }).readSet();
    expect(ids(s)).toEqual(['a1', 'a2', 'c1']);
    expect(s.maxUnavailableZones).toBe(0);
    expect(s.maxErrors).toBe(0);
  });
});

describe('Ring over a KV store', () => {
  test('start() reads the ring and the watch keeps it current; stop() ends the watch', async () => {
    const kv = new MemoryKV();
    await kv.cas('ring/ingester', () => serializeRingDesc(abcd()));
    const r = new Ring({}, { kv, logger: nopLogger(), now: () => NOW });
    await r.start();
    expect(r.instances().map((i) => i.id)).toEqual(['a', 'b', 'c', 'd']);
    await kv.cas('ring/ingester', () => serializeRingDesc(desc(inst('a', [100]), inst('b', [200]))));
    await Promise.resolve();
    expect(r.instances().map((i) => i.id)).toEqual(['a', 'b']);
    // An unreadable value is ignored; the last good ring stays.
    await kv.cas('ring/ingester', () => '{not json');
    await Promise.resolve();
    expect(r.instances().map((i) => i.id)).toEqual(['a', 'b']);
    r.stop();
    await kv.cas('ring/ingester', () => serializeRingDesc(abcd()));
    await Promise.resolve();
    expect(r.instances().map((i) => i.id)).toEqual(['a', 'b']);
  });

  test('a replication factor that is not a positive integer is rejected', () => {
    expect(() => new Ring({ replicationFactor: 0 }, { logger: nopLogger() })).toThrow('replication factor');
  });
});
