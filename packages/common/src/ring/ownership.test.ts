import { nopLogger } from '../logger';
import { generateTokens } from './lifecycler';
import type { InstanceDesc, RingDesc } from './model';
import { seriesBalance, tokenOwnership } from './ownership';
import { Ring } from './ring';
import { mulberry32 as prng } from '../../../../tests/helpers/prng';

const NOW = 1_700_000_000_000;

function inst(id: string, tokens: number[], zone = ''): InstanceDesc {
  return { id, addr: `${id}:9095`, zone, state: 'ACTIVE', tokens, heartbeat: NOW, registeredAt: NOW };
}

/** `n` instances with `numTokens` random tokens each, as lifecyclers would pick them. */
function randomRing(n: number, numTokens: number, seed: number): RingDesc {
  const random = prng(seed);
  const taken = new Set<number>();
  const instances: Record<string, InstanceDesc> = {};
  for (let i = 0; i < n; i++) {
    const tokens = generateTokens(numTokens, taken, random);
    for (const t of tokens) taken.add(t);
    instances[`ingester-${i}`] = inst(`ingester-${i}`, tokens);
  }
  return { instances };
}

/** A series key as tsdb-core builds it: repeated `0x0a len 0x0a len name 0x12 len value`. */
function seriesKey(labels: [string, string][]): string {
  let out = '';
  for (const [n, v] of labels) {
    const inner = String.fromCharCode(0x0a, n.length) + n + String.fromCharCode(0x12, v.length) + v;
    out += String.fromCharCode(0x0a, inner.length) + inner;
  }
  return out;
}

function syntheticSeries(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      seriesKey([
        ['__name__', `metric_${i % 500}`],
        ['instance', `host-${Math.floor(i / 500)}:9100`],
        ['job', 'node'],
      ]),
    );
  }
  return out;
}

describe('tokenOwnership', () => {
  test('each token owns the range since the previous token, wrapping', () => {
    const o = tokenOwnership({ instances: { a: inst('a', [0x40000000]), b: inst('b', [0xc0000000]), c: inst('c', []) } });
    expect(o).toEqual({ a: 0.5, b: 0.5, c: 0 });
    const q = tokenOwnership({ instances: { a: inst('a', [100]), b: inst('b', [100 + 0x40000000]) } });
    expect(q.b).toBeCloseTo(0.25, 12);
    expect(q.a).toBeCloseTo(0.75, 12);
    expect(tokenOwnership({ instances: { a: inst('a', [7]) } })).toEqual({ a: 1 });
    expect(tokenOwnership({ instances: {} })).toEqual({});
  });

  test('per zone, each zone is a ring of its own', () => {
    const d = { instances: { a: inst('a', [0x40000000], 'z1'), b: inst('b', [0xc0000000], 'z1'), c: inst('c', [5], 'z2') } };
    expect(tokenOwnership(d, { perZone: true })).toEqual({ a: 0.5, b: 0.5, c: 1 });
  });

  test('random tokens: the fractions sum to 1', () => {
    const o = tokenOwnership(randomRing(10, 128, 1));
    expect(Object.values(o).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });
});

describe('series balance with 128 random tokens per ingester and 100k series', () => {
  const keys = syntheticSeries(100_000);
  const results: string[] = [];
  afterAll(() => console.log(`max/mean series per ingester (100k series, 128 random tokens each):\n${results.join('\n')}`));

  test.each([
    [3, 1],
    [10, 1],
    [3, 3],
    [10, 3],
  ])('%i ingesters, RF=%i', (n, rf) => {
    const ring = new Ring({ replicationFactor: rf }, { logger: nopLogger(), now: () => NOW });
    const desc = randomRing(n, 128, 42);
    ring.update(desc);
    const b = seriesBalance(ring, 'tenant-1', keys);
    const owned = Object.values(tokenOwnership(desc));
    const ownRatio = Math.max(...owned) / (1 / n);
    results.push(`  ${n} ingesters RF=${rf}: series ratio ${b.ratio.toFixed(3)} (max ${b.max}, mean ${b.mean.toFixed(0)}); token ownership max/mean ${ownRatio.toFixed(3)}`);
    expect(Object.values(b.perInstance).reduce((a, c) => a + c, 0)).toBe(100_000 * Math.min(rf, n));
    expect(b.ratio).toBeGreaterThanOrEqual(1);
    expect(b.ratio).toBeLessThan(1.5);
  });

  test('several token seeds (RF=1) stay below the bound', () => {
    for (const n of [3, 10]) {
      const ratios: number[] = [];
      for (let seed = 1; seed <= 5; seed++) {
        const ring = new Ring({ replicationFactor: 1 }, { logger: nopLogger(), now: () => NOW });
        ring.update(randomRing(n, 128, seed));
        ratios.push(seriesBalance(ring, 'tenant-1', keys).ratio);
      }
      results.push(`  ${n} ingesters RF=1 over 5 token seeds: ${ratios.map((r) => r.toFixed(3)).join(' ')}`);
      for (const r of ratios) expect(r).toBeLessThan(1.5);
    }
  });
});
