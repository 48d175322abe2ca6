import { Engine } from './engine/engine';
import { PromQLError } from './errors';
import { approxVector, m, matrixOf, s, vectorOf } from './testing/helpers';
import { MemoryQuerier } from './testing/memory-querier';

const engine = new Engine();

describe('rate, increase, delta: Prometheus extrapolation', () => {
  // Counters sampled every 10s from t=5s to t=55s; evaluated at 60s over [0s, 60s].
  const q = new MemoryQuerier().load(
    10 * s,
    {
      'c{job="steady"}': '10 20 30 40 50 60',
      'c{job="reset"}': '10 20 30 5 15 25',
      'c{job="from_zero"}': '1 11 21 31 41 51',
      'g{job="gauge"}': '10 5 8',
    },
    5 * s,
  );
  const at60 = (expr: string) => engine.instantQuery(q, expr, 60 * s);

  test('extrapolates to the range boundaries when samples are close to them', async () => {
    // 50 increase over 50s sampled; 5s gaps at both ends are < 1.1 × avg interval (10s):
    // extrapolated to 60s → 60; per second over the 60s range → 1.
    expect(approxVector(await at60('increase(c{job="steady"}[1m])'))).toEqual({ '{job="steady"}': 60 });
    expect(approxVector(await at60('rate(c{job="steady"}[1m])'))).toEqual({ '{job="steady"}': 1 });
  });

  test('counter resets add the value before the reset', async () => {
    // 25 - 10 + 30 (reset) = 45, extrapolated by 60/50 → 54, rate 0.9.
    expect(approxVector(await at60('increase(c{job="reset"}[1m])'))).toEqual({ '{job="reset"}': 54 });
    expect(approxVector(await at60('rate(c{job="reset"}[1m])'))).toEqual({ '{job="reset"}': 0.9 });
  });

  test('extrapolation towards the start stops at the counter zero point', async () => {
    // Increase 50 over 50s; zero would be reached 1s before the first sample (1 / 50 × 50s),
    // which is closer than the 5s to the range start: 50 × (50 + 1 + 5) / 50 = 56.
    expect(approxVector(await at60('increase(c{job="from_zero"}[1m])'))).toEqual({ '{job="from_zero"}': 56 });
    expect(approxVector(await at60('rate(c{job="from_zero"}[1m])'))).toEqual({
      '{job="from_zero"}': 0.9333333333,
    });
  });

  test('gaps larger than 1.1 × the average interval extrapolate by half an interval', async () => {
    const q2 = new MemoryQuerier().load(10 * s, { f: '100 110 120' }, 30 * s);
    // Samples at 30s, 40s, 50s: start gap 30s → +5s, end gap 10s → +10s: 20 × 35 / 20 = 35.
    expect(approxVector(await engine.instantQuery(q2, 'increase(f[1m])', 60 * s))).toEqual({ '{}': 35 });
    expect(approxVector(await engine.instantQuery(q2, 'rate(f[1m])', 60 * s))).toEqual({ '{}': 0.5833333333 });
  });

  test('delta does not treat decreases as resets and does not stop at zero', async () => {
    // Gauge 10, 5, 8 at 5s, 15s, 25s; delta(g[30s]) at 30s: -2 × 30 / 20 = -3.
    expect(approxVector(await engine.instantQuery(q, 'delta(g[30s])', 30 * s))).toEqual({ '{job="gauge"}': -3 });
  });

  test('the range includes a sample exactly at t - range (2.42: closed interval)', async () => {
    const q2 = new MemoryQuerier().load(60 * s, { x: '0 60' });
    expect(vectorOf(await engine.instantQuery(q2, 'rate(x[1m])', 60 * s))).toEqual({ '{}': 1 });
    expect(vectorOf(await engine.instantQuery(q2, 'rate(x[59s])', 60 * s))).toEqual({});
  });

  test('rate needs two samples and drops the metric name', async () => {
    const q2 = new MemoryQuerier().load(60 * s, { 'x{a="b"}': '5' });
    expect(vectorOf(await engine.instantQuery(q2, 'rate(x[5m])', 0))).toEqual({});
    const r = await at60('rate(c{job="steady"}[1m])');
    expect(r.resultType === 'vector' && r.result[0]!.metric).toEqual([{ name: 'job', value: 'steady' }]);
  });

  test('irate and idelta use the last two samples', async () => {
    expect(vectorOf(await at60('irate(c{job="steady"}[1m])'))).toEqual({ '{job="steady"}': 1 });
    const q2 = new MemoryQuerier().load(10 * s, { r: '10 20 5' });
    // A reset between the last two samples: the last value counts as the increase.
    expect(vectorOf(await engine.instantQuery(q2, 'irate(r[1m])', 20 * s))).toEqual({ '{}': 0.5 });
    expect(vectorOf(await engine.instantQuery(q2, 'idelta(r[1m])', 20 * s))).toEqual({ '{}': -15 });
  });

  test('rate over a range query with offset', async () => {
    const q2 = new MemoryQuerier().load(15 * s, { x: '0+15x40' }); // 1/s
    const r = await engine.rangeQuery(q2, 'rate(x[1m] offset 1m)', 2 * m, 4 * m, 1 * m);
    expect(matrixOf(r)).toEqual({
      '{}': [
        [2 * m, 1],
        [3 * m, 1],
        [4 * m, 1],
      ],
    });
  });

  test('series that collide after dropping the name are an error', async () => {
    const q2 = new MemoryQuerier().load(10 * s, { 'a{x="1"}': '1 2 3', 'b{x="1"}': '1 2 3' });
    await expect(engine.instantQuery(q2, 'rate({__name__=~"a|b"}[1m])', 30 * s)).rejects.toThrow(
      new PromQLError('execution', 'vector cannot contain metrics with the same labelset'),
    );
  });
});

describe('*_over_time, changes, resets, deriv, predict_linear, holt_winters', () => {
  const q = new MemoryQuerier().load(10 * s, {
    v: '1 2 3 4',
    flap: '1 1 2 2 3',
    ctr: '5 3 4 1',
    lin: '0 20 40', // slope 2/s
  });
  const run = async (expr: string, t: number) => approxVector(await engine.instantQuery(q, expr, t));

  test('aggregations over time', async () => {
    const t = 30 * s;
    expect(await run('avg_over_time(v[1m])', t)).toEqual({ '{}': 2.5 });
    expect(await run('sum_over_time(v[1m])', t)).toEqual({ '{}': 10 });
    expect(await run('count_over_time(v[1m])', t)).toEqual({ '{}': 4 });
    expect(await run('min_over_time(v[1m])', t)).toEqual({ '{}': 1 });
    expect(await run('max_over_time(v[1m])', t)).toEqual({ '{}': 4 });
    expect(await run('last_over_time(v[1m])', t)).toEqual({ v: 4 }); // keeps the name
    expect(await run('stdvar_over_time(v[1m])', t)).toEqual({ '{}': 1.25 });
    expect(await run('stddev_over_time(v[1m])', t)).toEqual({ '{}': 1.118033989 });
    expect(await run('quantile_over_time(0.5, v[1m])', t)).toEqual({ '{}': 2.5 });
    expect(await run('present_over_time(v[1m])', t)).toEqual({ '{}': 1 });
    expect(await run('sum_over_time(v[15s])', t)).toEqual({ '{}': 7 });
  });

  test('changes, resets, deriv, predict_linear, holt_winters', async () => {
    expect(await run('changes(flap[1m])', 40 * s)).toEqual({ '{}': 2 });
    expect(await run('resets(ctr[1m])', 30 * s)).toEqual({ '{}': 2 });
    expect(await run('deriv(lin[1m])', 20 * s)).toEqual({ '{}': 2 });
    expect(await run('predict_linear(lin[1m], 60)', 20 * s)).toEqual({ '{}': 160 });
    expect(await run('holt_winters(v[30s], 0.5, 0.5)', 20 * s)).toEqual({ '{}': 3 });
    await expect(engine.instantQuery(q, 'holt_winters(v[1m], 1, 0.5)', 30 * s)).rejects.toThrow(
      'invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000',
    );
  });

  test('absent and absent_over_time', async () => {
    expect(vectorOf(await engine.instantQuery(q, 'absent(nope{job="a", x=~"y"})', 0))).toEqual({
      '{job="a"}': 1,
    });
    expect(vectorOf(await engine.instantQuery(q, 'absent(v)', 0))).toEqual({});
    // A second matcher on the same label removes it, whichever kind it is.
    expect(vectorOf(await engine.instantQuery(q, 'absent(nope{job!="x", job="y"})', 0))).toEqual({ '{job="y"}': 1 });
    expect(vectorOf(await engine.instantQuery(q, 'absent(nope{job="z", job="y"})', 0))).toEqual({ '{}': 1 });
    expect(vectorOf(await engine.instantQuery(q, 'absent_over_time(nope{job="a"}[1m])', 0))).toEqual({
      '{job="a"}': 1,
    });
    expect(vectorOf(await engine.instantQuery(q, 'absent_over_time(v[1m])', 0))).toEqual({});
    const r = await engine.rangeQuery(q, 'absent_over_time(v[10s])', 0, 60 * s, 20 * s);
    // v has samples at 0–30s: absent at 60s only.
    expect(matrixOf(r)).toEqual({ '{}': [[60 * s, 1]] });
  });
});

describe('subqueries', () => {
  const q = new MemoryQuerier().load(10 * s, { x: '0+1x20' }); // x = t / 10s

  test('steps aligned to the subquery resolution', async () => {
    // Steps at 0s … 60s: values 0 … 6.
    expect(vectorOf(await engine.instantQuery(q, 'max_over_time(x[1m:10s])', 60 * s))).toEqual({ '{}': 6 });
    expect(vectorOf(await engine.instantQuery(q, 'sum_over_time(x[1m:10s])', 60 * s))).toEqual({ '{}': 21 });
    expect(vectorOf(await engine.instantQuery(q, 'count_over_time(x[1m:20s])', 65 * s))).toEqual({ '{}': 3 });
    // Without a step the default resolution (1m) is used: steps at 0s and 60s.
    expect(vectorOf(await engine.instantQuery(q, 'count_over_time(x[1m:])', 60 * s))).toEqual({ '{}': 2 });
    expect(vectorOf(await engine.instantQuery(q, 'sum_over_time(x[30s:10s] offset 30s)', 60 * s))).toEqual({
      '{}': 6,
    });
  });

  test('nested functions and range queries', async () => {
    const r = await engine.rangeQuery(q, 'max_over_time(rate(x[20s])[30s:10s])', 60 * s, 80 * s, 10 * s);
    expect(matrixOf(r)).toEqual({
      '{}': [
        [60 * s, 0.1],
        [70 * s, 0.1],
        [80 * s, 0.1],
      ],
    });
  });

  test('a subquery alone returns its points', async () => {
    expect(matrixOf(await engine.instantQuery(q, 'x[30s:10s]', 60 * s))).toEqual({
      x: [
        [30 * s, 3],
        [40 * s, 4],
        [50 * s, 5],
        [60 * s, 6],
      ],
    });
  });
});

describe('instant-vector functions', () => {
  const q = new MemoryQuerier().load(10 * s, {
    'n{a="x"}': '-2.5',
    'n{a="y"}': '2.3',
    'up{instance="host:9090", job="a", b="1"}': '1',
    'up{instance="other", job="b", b="2"}': '0',
    'h_bucket{le="0.1"}': '10',
    'h_bucket{le="0.5"}': '20',
    'h_bucket{le="1"}': '30',
    'h_bucket{le="+Inf"}': '40',
    's{i="1"}': '3',
    's{i="2"}': '1',
    's{i="3"}': '2',
  });
  const run = async (expr: string, t = 0) => approxVector(await engine.instantQuery(q, expr, t));

  test('math', async () => {
    expect(await run('abs(n)')).toEqual({ '{a="x"}': 2.5, '{a="y"}': 2.3 });
    expect(await run('ceil(n)')).toEqual({ '{a="x"}': -2, '{a="y"}': 3 });
    expect(await run('floor(n)')).toEqual({ '{a="x"}': -3, '{a="y"}': 2 });
    expect(await run('round(n)')).toEqual({ '{a="x"}': -2, '{a="y"}': 2 });
    expect(await run('round(n, 0.5)')).toEqual({ '{a="x"}': -2.5, '{a="y"}': 2.5 });
    expect(await run('sgn(n)')).toEqual({ '{a="x"}': -1, '{a="y"}': 1 });
    expect(await run('clamp(n, -1, 1)')).toEqual({ '{a="x"}': -1, '{a="y"}': 1 });
    expect(await run('clamp(n, 1, -1)')).toEqual({});
    expect(await run('clamp_min(n, 0)')).toEqual({ '{a="x"}': 0, '{a="y"}': 2.3 });
    expect(await run('clamp_max(n, 0)')).toEqual({ '{a="x"}': -2.5, '{a="y"}': 0 });
    expect(await run('log2(vector(8))')).toEqual({ '{}': 3 });
    expect(await run('exp(vector(0)) + ln(vector(1)) + sqrt(vector(16))')).toEqual({ '{}': 5 });
    expect(await run('deg(vector(pi()))')).toEqual({ '{}': 180 });
    expect(await run('rad(vector(180)) - pi()')).toEqual({ '{}': 0 });
  });

  test('scalar, vector, time, timestamp', async () => {
    expect(await engine.instantQuery(q, 'scalar(n{a="x"})', 0)).toEqual({ resultType: 'scalar', result: { t: 0, v: -2.5 } });
    const multi = await engine.instantQuery(q, 'scalar(n)', 0);
    expect(multi.resultType === 'scalar' && multi.result.v).toBeNaN();
    expect(await engine.instantQuery(q, 'time()', 42 * s)).toEqual({ resultType: 'scalar', result: { t: 42 * s, v: 42 } });
    expect(await run('vector(time())', 7 * s)).toEqual({ '{}': 7 });
    // timestamp() of a selector gives the sample's own time; of an expression the step time.
    expect(await run('timestamp(n)', 40 * s)).toEqual({ '{a="x"}': 0, '{a="y"}': 0 });
    expect(await run('timestamp(-n)', 40 * s)).toEqual({ '{a="x"}': 40, '{a="y"}': 40 });
  });

  test('label_replace and label_join', async () => {
    expect(vectorOf(await engine.instantQuery(q, 'label_replace(up, "host", "$1-x", "instance", "(.*):.*")', 0))).toEqual({
      'up{b="1", host="host-x", instance="host:9090", job="a"}': 1,
      'up{b="2", instance="other", job="b"}': 0,
    });
    expect(
      vectorOf(await engine.instantQuery(q, 'label_replace(up, "job", "${name}z", "b", "(?P<name>[0-9])")', 0)),
    ).toEqual({
      'up{b="1", instance="host:9090", job="1z"}': 1,
      'up{b="2", instance="other", job="2z"}': 0,
    });
    expect(vectorOf(await engine.instantQuery(q, 'label_join(up, "j", "-", "job", "b")', 0))).toEqual({
      'up{b="1", instance="host:9090", j="a-1", job="a"}': 1,
      'up{b="2", instance="other", j="b-2", job="b"}': 0,
    });
    await expect(engine.instantQuery(q, 'label_replace(up, "1x", "", "b", ".*")', 0)).rejects.toThrow(
      'invalid destination label name in label_replace(): 1x',
    );
    await expect(engine.instantQuery(q, 'label_replace(s, "i", "", "i", ".*")', 0)).rejects.toThrow(
      'vector cannot contain metrics with the same labelset',
    );
  });

  test('histogram_quantile over classic buckets', async () => {
    expect(await run('histogram_quantile(0.5, h_bucket)')).toEqual({ '{}': 0.5 });
    expect(await run('histogram_quantile(0.25, h_bucket)')).toEqual({ '{}': 0.1 });
    expect(await run('histogram_quantile(0.6, h_bucket)')).toEqual({ '{}': 0.7 });
    expect(await run('histogram_quantile(0.9, h_bucket)')).toEqual({ '{}': 1 }); // in +Inf bucket
    expect(await run('histogram_quantile(-1, h_bucket)')).toEqual({ '{}': -Infinity });
  });

  test('sort and sort_desc order the instant vector', async () => {
    const asc = await engine.instantQuery(q, 'sort(s)', 0);
    expect(asc.resultType === 'vector' && asc.result.map((x) => x.v)).toEqual([1, 2, 3]);
    const desc = await engine.instantQuery(q, 'sort_desc(s)', 0);
    expect(desc.resultType === 'vector' && desc.result.map((x) => x.v)).toEqual([3, 2, 1]);
  });

  test('date functions', async () => {
    const t = 1675168496; // 2023-01-31T12:34:56Z, a Tuesday
    const f = (fn: string) => run(`${fn}(vector(${t}))`);
    expect(await f('year')).toEqual({ '{}': 2023 });
    expect(await f('month')).toEqual({ '{}': 1 });
    expect(await f('day_of_month')).toEqual({ '{}': 31 });
    expect(await f('day_of_week')).toEqual({ '{}': 2 });
    expect(await f('day_of_year')).toEqual({ '{}': 31 });
    expect(await f('days_in_month')).toEqual({ '{}': 31 });
    expect(await f('hour')).toEqual({ '{}': 12 });
    expect(await f('minute')).toEqual({ '{}': 34 });
    expect(await run('days_in_month(vector(1707523200))')).toEqual({ '{}': 29 }); // Feb 2024
    expect(await run('hour()', 3 * 3600 * s + 5 * s)).toEqual({ '{}': 3 });
    // Beyond JS Date's range and for NaN, Go's calendar arithmetic (values checked against Prometheus
    // 2.42: Go's int64(NaN) is MinInt64).
    expect(await run('year(vector(1e13))')).toEqual({ '{}': 318857 });
    expect(await run('day_of_year(vector(-1e14))')).toEqual({ '{}': 55 });
    const nan = async (fn: string) => vectorOf(await engine.instantQuery(q, `${fn}(vector(NaN))`, 0))['{}'];
    expect([
      await nan('year'),
      await nan('month'),
      await nan('day_of_month'),
      await nan('day_of_week'),
      await nan('day_of_year'),
      await nan('days_in_month'),
      await nan('hour'),
      await nan('minute'),
    ]).toEqual([292277026596, 12, 4, 0, 339, 31, 15, 30]);
  });
});
