import { MemoryKV } from '../kv/memory';
import { nopLogger } from '../logger';
import { forgetInstance, generateTokens, heartbeatInstance, Lifecycler, registerInstance, removeInstance } from './lifecycler';
import { emptyRingDesc, parseRingDesc, serializeRingDesc, type RingDesc } from './model';
import { mulberry32 as prng } from '../../../../tests/helpers/prng';

const T0 = 1_700_000_000_000;

const reg = (id: string, state: 'PENDING' | 'JOINING' | 'ACTIVE' | 'LEAVING' = 'JOINING') => ({ id, addr: `${id}:9095`, zone: 'z1', state });

function sortedDistinctUint32(ts: readonly number[]): boolean {
  return ts.every((t, i) => Number.isInteger(t) && t >= 0 && t <= 0xffffffff && (i === 0 || t > ts[i - 1]!));
}

describe('generateTokens', () => {
  test('n sorted distinct uint32 tokens, none of them taken', () => {
    const taken = new Set([1, 2, 3]);
    // A generator that keeps proposing taken values and repeats itself.
    const seq = [1 / 2 ** 32, 2 / 2 ** 32, 7 / 2 ** 32, 7 / 2 ** 32, 3 / 2 ** 32, 9 / 2 ** 32, 0.5, 0.999999999];
    let i = 0;
    const tokens = generateTokens(4, taken, () => seq[i++ % seq.length]!);
    expect(tokens).toEqual([7, 9, 2 ** 31, Math.floor(0.999999999 * 2 ** 32)]);
    const many = generateTokens(128, new Set(), prng(1));
    expect(many).toHaveLength(128);
    expect(sortedDistinctUint32(many)).toBe(true);
  });
});

describe('lifecycler CAS functions', () => {
  test('registering a new instance picks numTokens tokens no other instance has', () => {
    const other = registerInstance(emptyRingDesc(), reg('other', 'ACTIVE'), 128, T0, prng(7));
    const otherTokens = new Set(other.instances.other!.tokens);
    const d = registerInstance(other, reg('ing-1'), 128, T0 + 5, prng(7)); // same seed: same proposals
    const mine = d.instances['ing-1']!;
    expect(mine.tokens).toHaveLength(128);
    expect(sortedDistinctUint32(mine.tokens)).toBe(true);
    expect(mine.tokens.some((t) => otherTokens.has(t))).toBe(false);
    expect(mine).toMatchObject({ id: 'ing-1', addr: 'ing-1:9095', zone: 'z1', state: 'JOINING', heartbeat: T0 + 5, registeredAt: T0 + 5 });
    // The input is not modified.
    expect(Object.keys(other.instances)).toEqual(['other']);
  });

  test('an instance registering again keeps its tokens and registration time', () => {
    const first = registerInstance(emptyRingDesc(), reg('ing-1', 'ACTIVE'), 128, T0, prng(1));
    const tokens = first.instances['ing-1']!.tokens;
    const again = registerInstance(first, { ...reg('ing-1', 'JOINING'), addr: '10.0.0.9:9095' }, 128, T0 + 60_000, prng(2));
    expect(again.instances['ing-1']).toEqual({
      id: 'ing-1',
      addr: '10.0.0.9:9095',
      zone: 'z1',
      state: 'JOINING',
      tokens,
      heartbeat: T0 + 60_000,
      registeredAt: T0,
    });
  });

  test('an instance with fewer tokens than numTokens is topped up, keeping the old ones', () => {
    const d: RingDesc = { instances: { a: { id: 'a', addr: 'a:1', zone: '', state: 'ACTIVE', tokens: [5, 10], heartbeat: T0, registeredAt: T0 } } };
    const up = registerInstance(d, reg('a'), 4, T0 + 1, prng(3)).instances.a!.tokens;
    expect(up).toHaveLength(4);
    expect(up).toEqual(expect.arrayContaining([5, 10]));
    expect(sortedDistinctUint32(up)).toBe(true);
  });

  test('a heartbeat sets the heartbeat time and state, and re-adds a forgotten instance with its tokens', () => {
    const d = registerInstance(emptyRingDesc(), reg('a'), 8, T0, prng(4));
    const tokens = d.instances.a!.tokens;
    const hb = heartbeatInstance(d, reg('a', 'ACTIVE'), [1, 2, 3], T0 + 15_000);
    expect(hb.instances.a).toMatchObject({ state: 'ACTIVE', heartbeat: T0 + 15_000, registeredAt: T0, tokens });
    expect(d.instances.a!.state).toBe('JOINING'); // input untouched
    const readded = heartbeatInstance(emptyRingDesc(), reg('a', 'ACTIVE'), tokens, T0 + 30_000);
    expect(readded.instances.a).toMatchObject({ state: 'ACTIVE', tokens, heartbeat: T0 + 30_000 });
  });

  test('leaving removes the instance and nothing else', () => {
    let d = registerInstance(emptyRingDesc(), reg('a'), 4, T0, prng(5));
    d = registerInstance(d, reg('b'), 4, T0, prng(6));
    const left = removeInstance(d, 'a');
    expect(Object.keys(left.instances)).toEqual(['b']);
    expect(Object.keys(d.instances).sort()).toEqual(['a', 'b']);
    expect(removeInstance(left, 'zzz')).toBe(left);
  });

  test('the ring document round-trips through JSON and is validated', () => {
    const d = registerInstance(emptyRingDesc(), reg('a'), 4, T0, prng(5));
    expect(parseRingDesc(serializeRingDesc(d))).toEqual(d);
    expect(parseRingDesc(undefined)).toEqual(emptyRingDesc());
    expect(parseRingDesc('{"instances":{"x":{"state":"ACTIVE","tokens":[3,1,3]}}}').instances.x).toEqual({
      id: 'x',
      addr: '',
      zone: '',
      state: 'ACTIVE',
      tokens: [1, 3],
      heartbeat: 0,
      registeredAt: 0,
    });
    expect(() => parseRingDesc('{"instances":{"x":{"state":"UNKNOWN"}}}')).toThrow('bad state');
    expect(() => parseRingDesc('{"instances":{"x":{"state":"ACTIVE","tokens":[-1]}}}')).toThrow('uint32');
    expect(() => parseRingDesc('nope')).toThrow('invalid ring description');
  });
});

describe('Lifecycler over MemoryKV', () => {
  const ringOf = async (kv: MemoryKV): Promise<RingDesc> => parseRingDesc(await kv.get('ring/ingester'));

  test('start registers JOINING, setState is written at once, stop removes the instance', async () => {
    const kv = new MemoryKV();
    let now = T0;
    const l = new Lifecycler({ id: 'ing-1', addr: '127.0.0.1:9095', zone: 'z1', heartbeatPeriod: 60_000 }, { kv, logger: nopLogger(), now: () => now });
    expect(l.state()).toBe('JOINING');
    await l.start();
    let d = await ringOf(kv);
    expect(d.instances['ing-1']).toMatchObject({ state: 'JOINING', addr: '127.0.0.1:9095', zone: 'z1', heartbeat: T0 });
    expect(d.instances['ing-1']!.tokens).toHaveLength(128);
    expect(l.tokens()).toEqual(d.instances['ing-1']!.tokens);

    now = T0 + 1000;
    await l.setState('ACTIVE');
    d = await ringOf(kv);
    expect(d.instances['ing-1']).toMatchObject({ state: 'ACTIVE', heartbeat: T0 + 1000 });

    now = T0 + 2000;
    await l.heartbeat();
    expect((await ringOf(kv)).instances['ing-1']!.heartbeat).toBe(T0 + 2000);

    await l.stop();
    expect((await ringOf(kv)).instances).toEqual({});
    // Nothing more is written after stop.
    await l.heartbeat();
    expect((await ringOf(kv)).instances).toEqual({});
  });

  test('setState before start decides the registered state', async () => {
    const kv = new MemoryKV();
    const l = new Lifecycler({ id: 'a', addr: 'a:1', numTokens: 4 }, { kv, logger: nopLogger() });
    await l.setState('ACTIVE');
    await l.start();
    expect((await ringOf(kv)).instances.a!.state).toBe('ACTIVE');
    await l.stop();
  });

  test('an ingester restarted with the same ID keeps its tokens', async () => {
    const kv = new MemoryKV();
    const first = new Lifecycler({ id: 'ing-1', addr: 'a:1' }, { kv, logger: nopLogger(), random: prng(11) });
    await first.start();
    await first.setState('ACTIVE');
    const tokens = [...first.tokens()];
    // The process dies without leaving the ring; a new one starts with the same ID.
    const second = new Lifecycler({ id: 'ing-1', addr: 'a:2' }, { kv, logger: nopLogger(), random: prng(99) });
    await second.start();
    expect(second.tokens()).toEqual(tokens);
    expect((await ringOf(kv)).instances['ing-1']).toMatchObject({ state: 'JOINING', addr: 'a:2', tokens });
    await second.stop();
    await first.stop(); // already gone: no error
  });

  test('heartbeats every heartbeatPeriod', async () => {
    const kv = new MemoryKV();
    let now = T0;
    const l = new Lifecycler({ id: 'a', addr: 'a:1', numTokens: 4, heartbeatPeriod: 20 }, { kv, logger: nopLogger(), now: () => now });
    await l.start();
    now = T0 + 5000;
    const deadline = Date.now() + 2000;
    while ((await ringOf(kv)).instances.a!.heartbeat !== T0 + 5000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect((await ringOf(kv)).instances.a!.heartbeat).toBe(T0 + 5000);
    await l.stop();
  });

  test('unregisterOnShutdown=false leaves the instance in the ring, LEAVING', async () => {
    const kv = new MemoryKV();
    const l = new Lifecycler({ id: 'a', addr: 'a:1', numTokens: 4, unregisterOnShutdown: false }, { kv, logger: nopLogger() });
    await l.start();
    await l.stop();
    expect((await ringOf(kv)).instances.a!.state).toBe('LEAVING');
  });

  test('aborting the start signal stops the lifecycler; forgetInstance removes an instance', async () => {
    const kv = new MemoryKV();
    const ac = new AbortController();
    const a = new Lifecycler({ id: 'a', addr: 'a:1', numTokens: 4 }, { kv, logger: nopLogger() });
    const b = new Lifecycler({ id: 'b', addr: 'b:1', numTokens: 4 }, { kv, logger: nopLogger() });
    await a.start(ac.signal);
    await b.start();
    ac.abort();
    const deadline = Date.now() + 2000;
    while ('a' in (await ringOf(kv)).instances && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(Object.keys((await ringOf(kv)).instances)).toEqual(['b']);
    await forgetInstance(kv, 'ring/ingester', 'b');
    expect((await ringOf(kv)).instances).toEqual({});
    await b.stop();
  });
});
