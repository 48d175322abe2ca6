import type { Querier, Series } from '@strata/tsdb-core';
import { Engine } from './engine/engine';
import { PromQLError } from './errors';
import { MemoryQuerier } from './testing/memory-querier';
import { m, matrixOf, s, vectorOf } from './testing/helpers';

// Selectors, lookback, staleness, offset, @, range-query shape, limits. Expected values follow
// Prometheus 2.42 semantics (5m lookback, closed [t-lookback, t] and [t-range, t] intervals).

const engine = new Engine();

async function expectError(p: Promise<unknown>, type: string, msg: string | RegExp): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(PromQLError);
  expect((err as PromQLError).errorType).toBe(type);
  if (typeof msg === 'string') expect((err as Error).message).toBe(msg);
  else expect((err as Error).message).toMatch(msg);
}

describe('instant vector selectors', () => {
  const q = new MemoryQuerier().load(30 * s, {
    'up{job="api",instance="a"}': '1 1 1 1 0 0',
    'up{job="api",instance="b"}': '1 _ _ _ _ _',
    'up{job="db",instance="c"}': '0 0 0',
    'other{job="api"}': '5',
  });

  test('returns the latest sample at or before t for every matching series', async () => {
    expect(vectorOf(await engine.instantQuery(q, 'up', 150 * s))).toEqual({
      'up{instance="a", job="api"}': 0,
      'up{instance="b", job="api"}': 1, // sample at 0s, 150s ago: within the 5m lookback
      'up{instance="c", job="db"}': 0,
    });
  });

  test('vector results carry the evaluation time, not the sample time', async () => {
    const r = await engine.instantQuery(q, 'up{instance="b"}', 100 * s);
    expect(r.resultType === 'vector' && r.result.map((x) => x.t)).toEqual([100 * s]);
  });

  test('all four matcher types and __name__ regex', async () => {
    expect(Object.keys(vectorOf(await engine.instantQuery(q, 'up{job="api"}', 60 * s)))).toEqual([
      'up{instance="a", job="api"}',
      'up{instance="b", job="api"}',
    ]);
    expect(Object.keys(vectorOf(await engine.instantQuery(q, 'up{job!="api"}', 60 * s)))).toEqual([
      'up{instance="c", job="db"}',
    ]);
    expect(Object.keys(vectorOf(await engine.instantQuery(q, 'up{instance=~"a|c"}', 60 * s)))).toEqual([
      'up{instance="a", job="api"}',
      'up{instance="c", job="db"}',
    ]);
    expect(Object.keys(vectorOf(await engine.instantQuery(q, 'up{instance!~"a|b"}', 60 * s)))).toEqual([
      'up{instance="c", job="db"}',
    ]);
    expect(Object.keys(vectorOf(await engine.instantQuery(q, '{__name__=~"oth.*"}', 60 * s)))).toEqual([
      'other{job="api"}',
    ]);
    // Regexes are anchored.
    expect(vectorOf(await engine.instantQuery(q, 'up{instance=~"a|"}', 60 * s))).toEqual({
      'up{instance="a", job="api"}': 1,
    });
  });

  test('lookback: a sample exactly 5m old is found, one older is not', async () => {
    const q2 = new MemoryQuerier().add('x', 0, 7);
    expect(vectorOf(await engine.instantQuery(q2, 'x', 5 * m))).toEqual({ x: 7 });
    expect(vectorOf(await engine.instantQuery(q2, 'x', 5 * m + 1))).toEqual({});
    expect(vectorOf(await engine.instantQuery(q2, 'x', -1))).toEqual({});
    const custom = new Engine({ lookbackDelta: 1 * m });
    expect(vectorOf(await custom.instantQuery(q2, 'x', 1 * m))).toEqual({ x: 7 });
    expect(vectorOf(await custom.instantQuery(q2, 'x', 1 * m + 1))).toEqual({});
  });

  test('a stale marker ends the series until the next real sample', async () => {
    const q2 = new MemoryQuerier().add('x', 0, 1).add('x', 10 * s, 2).add('x', 20 * s, 'stale').add('x', 60 * s, 3);
    expect(vectorOf(await engine.instantQuery(q2, 'x', 15 * s))).toEqual({ x: 2 });
    expect(vectorOf(await engine.instantQuery(q2, 'x', 20 * s))).toEqual({});
    expect(vectorOf(await engine.instantQuery(q2, 'x', 59 * s))).toEqual({});
    expect(vectorOf(await engine.instantQuery(q2, 'x', 60 * s))).toEqual({ x: 3 });
    const r = await engine.rangeQuery(q2, 'x', 0, 70 * s, 10 * s);
    expect(matrixOf(r)).toEqual({
      x: [
        [0, 1],
        [10 * s, 2],
        [60 * s, 3],
        [70 * s, 3],
      ],
    });
  });

  test('stale markers are never part of a range', async () => {
    const q2 = new MemoryQuerier().add('x', 0, 1).add('x', 10 * s, 'stale').add('x', 20 * s, 3);
    expect(vectorOf(await engine.instantQuery(q2, 'count_over_time(x[1m])', 30 * s))).toEqual({ '{}': 2 });
  });

  test('offset shifts the lookup back, negative offset forward', async () => {
    const q2 = new MemoryQuerier().load(1 * m, { x: '0+1x10' }); // x = minutes
    expect(vectorOf(await engine.instantQuery(q2, 'x offset 3m', 5 * m))).toEqual({ x: 2 });
    expect(vectorOf(await engine.instantQuery(q2, 'x offset -2m', 5 * m))).toEqual({ x: 7 });
    expect(vectorOf(await engine.instantQuery(q2, 'x offset 1h', 5 * m))).toEqual({});
    expect(vectorOf(await engine.instantQuery(q2, 'sum_over_time(x[2m] offset 3m)', 5 * m))).toEqual({ '{}': 3 });
  });

  test('@ pins the evaluation time; start() and end() refer to the query range', async () => {
    const q2 = new MemoryQuerier().load(1 * m, { x: '0+1x10' });
    expect(vectorOf(await engine.instantQuery(q2, 'x @ 120', 9 * m))).toEqual({ x: 2 });
    expect(vectorOf(await engine.instantQuery(q2, 'x @ 180 offset 1m', 9 * m))).toEqual({ x: 2 });
    expect(vectorOf(await engine.instantQuery(q2, 'x @ 120.5', 9 * m))).toEqual({ x: 2 });
    const r = await engine.rangeQuery(q2, 'x @ start() + x @ end() - x', 2 * m, 4 * m, 1 * m);
    // 2 + 4 - x(t)
    expect(matrixOf(r)).toEqual({
      '{}': [
        [2 * m, 4],
        [3 * m, 3],
        [4 * m, 2],
      ],
    });
    expect(matrixOf(await engine.rangeQuery(q2, 'x @ 300', 0, 2 * m, 1 * m))).toEqual({
      x: [
        [0, 5],
        [1 * m, 5],
        [2 * m, 5],
      ],
    });
    expect(vectorOf(await engine.instantQuery(q2, 'max_over_time(x[3m] @ 240)', 9 * m))).toEqual({ '{}': 4 });
  });
});

describe('@ inside @-unsafe functions (Prometheus 2.42 behaviour)', () => {
  test('the range of an @ selector moves with the steps of a range query', async () => {
    // predict_linear is not step-invariant, so its @ argument is evaluated at every step with the
    // window end shifted by (step - start), while only [@ - range, @] was loaded: x is 3, 4, 5 at
    // 3m, 4m, 5m. The fit is evaluated at the step time (x = minutes).
    const q = new MemoryQuerier().load(1 * m, { x: '0+1x20' });
    const r = await engine.rangeQuery(q, 'predict_linear(x[2m] @ 300, 0)', 10 * m, 13 * m, 1 * m);
    expect(matrixOf(r)).toEqual({
      '{}': [
        [10 * m, 10], // window [3m, 5m]
        [11 * m, 11], // window [4m, 6m]: samples at 4m, 5m
        // from 12m on the window holds at most one loaded sample
      ],
    });
    // In a step-invariant context the @ range stays put.
    const r2 = await engine.rangeQuery(q, 'max_over_time(x[2m] @ 300)', 10 * m, 12 * m, 1 * m);
    expect(matrixOf(r2)).toEqual({
      '{}': [
        [10 * m, 5],
        [11 * m, 5],
        [12 * m, 5],
      ],
    });
  });
});

describe('range selectors', () => {
  test('an instant query of a range vector returns the raw samples of [t-range, t]', async () => {
    const q = new MemoryQuerier().load(1 * m, { x: '0+1x10' });
    const r = await engine.instantQuery(q, 'x[2m]', 5 * m);
    expect(matrixOf(r)).toEqual({
      x: [
        [3 * m, 3],
        [4 * m, 4],
        [5 * m, 5],
      ],
    });
  });
});

describe('range queries', () => {
  const q = new MemoryQuerier().load(1 * m, {
    'a{i="1"}': '1 2 3 4 5 6',
    'a{i="2"}': '_ _ 10 20 30',
  });

  test('one series per label set, points only where the series has a value, sorted by labels', async () => {
    const r = await engine.rangeQuery(q, 'a', 0, 5 * m, 1 * m);
    expect(matrixOf(r)).toEqual({
      'a{i="1"}': [
        [0, 1],
        [1 * m, 2],
        [2 * m, 3],
        [3 * m, 4],
        [4 * m, 5],
        [5 * m, 6],
      ],
      'a{i="2"}': [
        [2 * m, 10],
        [3 * m, 20],
        [4 * m, 30],
        [5 * m, 30],
      ],
    });
    expect(r.resultType === 'matrix' && r.result.map((x) => x.metric[1]!.value)).toEqual(['1', '2']);
  });

  test('scalar expressions become one series with empty labels', async () => {
    const r = await engine.rangeQuery(q, '1 + 1', 0, 2 * m, 1 * m);
    expect(r).toEqual({ resultType: 'matrix', result: [{ metric: [], ts: [0, m, 2 * m], vs: [2, 2, 2] }] });
  });

  test('string expressions are rejected', async () => {
    await expectError(
      engine.rangeQuery(q, '"foo"', 0, 1, 1),
      'bad_data',
      'invalid expression type "string" for range query, must be Scalar or instant Vector',
    );
    await expectError(
      engine.rangeQuery(q, 'a[5m]', 0, 1, 1),
      'bad_data',
      'invalid expression type "range vector" for range query, must be Scalar or instant Vector',
    );
  });

  test('each selector is read from storage once over the whole range it needs', async () => {
    const mq = new MemoryQuerier().load(1 * m, { a: '1 2 3', b: '1' });
    await engine.rangeQuery(mq, 'rate(a[5m] offset 1m) + b', 10 * m, 20 * m, 1 * m);
    expect(mq.selects).toEqual([
      { mint: 10 * m - 5 * m - 1 * m, maxt: 20 * m - 1 * m, matchers: ['__name__="a"'] },
      { mint: 10 * m - 5 * m, maxt: 20 * m, matchers: ['__name__="b"'] },
    ]);
    // The same matchers with overlapping ranges share one select; distant ranges do not.
    const mq2 = new MemoryQuerier().load(1 * m, { a: '1 2 3' });
    await engine.rangeQuery(mq2, 'rate(a[5m] offset 1m) + a - a offset 1d', 10 * m, 20 * m, 1 * m);
    expect(mq2.selects).toEqual([
      { mint: 10 * m - 5 * m - 1440 * m, maxt: 20 * m - 1440 * m, matchers: ['__name__="a"'] },
      { mint: 10 * m - 5 * m - 1 * m, maxt: 20 * m, matchers: ['__name__="a"'] },
    ]);
  });
});

describe('instant query result types', () => {
  const q = new MemoryQuerier();
  test('scalar and string', async () => {
    expect(await engine.instantQuery(q, '1 + 2', 1000)).toEqual({ resultType: 'scalar', result: { t: 1000, v: 3 } });
    expect(await engine.instantQuery(q, '"hello"', 1000)).toEqual({
      resultType: 'string',
      result: { t: 1000, v: 'hello' },
    });
  });
  test('parse errors are bad_data with the position prefix', async () => {
    await expectError(engine.instantQuery(q, 'sum(', 0), 'bad_data', '1:5: parse error: unclosed left parenthesis');
    await expectError(engine.instantQuery(q, 'sum(x) +', 0), 'bad_data', '1:9: parse error: unexpected end of input');
  });
});

describe('limits', () => {
  test('max samples', async () => {
    const q = new MemoryQuerier().load(1 * m, { 'x{i="1"}': '0+1x20', 'x{i="2"}': '0+1x20' });
    const small = new Engine({ maxSamples: 10 });
    await expect(small.instantQuery(q, 'x', 5 * m)).resolves.toBeDefined();
    await expectError(
      small.rangeQuery(q, 'x', 0, 10 * m, 1 * m),
      'execution',
      'query processing would load too many samples into memory in query execution',
    );
    await expectError(small.instantQuery(q, 'x[10m]', 10 * m), 'execution', /too many samples/);
    await expectError(small.instantQuery(q, 'sum_over_time(x[10m])', 10 * m), 'execution', /too many samples/);
    await expect(small.instantQuery(q, 'sum_over_time(x[3m])', 10 * m)).resolves.toBeDefined();
  });

  test('timeout while reading storage and while evaluating', async () => {
    const slow: Querier = {
      select: () => new Promise<Series[]>((resolve) => setTimeout(() => resolve([]), 200)),
      labelNames: async () => [],
      labelValues: async () => [],
    };
    await expectError(new Engine({ timeoutMs: 20 }).instantQuery(slow, 'x', 0), 'timeout', /query timed out/);
    const q = new MemoryQuerier().load(1 * m, { x: '1' });
    await expectError(new Engine({ timeoutMs: -1 }).instantQuery(q, 'x', 0), 'timeout', /query timed out/);
  });

  test('cancellation', async () => {
    const q = new MemoryQuerier();
    const ac = new AbortController();
    ac.abort();
    await expectError(engine.instantQuery(q, 'x', 0, { signal: ac.signal }), 'canceled', /canceled/);
  });

  test('storage errors are internal', async () => {
    const broken: Querier = {
      select: async () => {
        throw new Error('disk on fire');
      },
      labelNames: async () => [],
      labelValues: async () => [],
    };
    await expectError(engine.instantQuery(broken, 'x', 0), 'internal', 'expanding series: disk on fire');
  });
});
