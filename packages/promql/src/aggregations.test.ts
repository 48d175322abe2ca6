import { Engine } from './engine/engine';
import { labelsToString, approxVector, m, matrixOf, vectorOf } from './testing/helpers';
import { MemoryQuerier } from './testing/memory-querier';

// The classic Prometheus fixture: at 50m the eight series have the values 100 … 800.
const q = new MemoryQuerier().load(5 * m, {
  'http_requests{job="api-server", instance="0", group="production"}': '0+10x10',
  'http_requests{job="api-server", instance="1", group="production"}': '0+20x10',
  'http_requests{job="api-server", instance="0", group="canary"}': '0+30x10',
  'http_requests{job="api-server", instance="1", group="canary"}': '0+40x10',
  'http_requests{job="app-server", instance="0", group="production"}': '0+50x10',
  'http_requests{job="app-server", instance="1", group="production"}': '0+60x10',
  'http_requests{job="app-server", instance="0", group="canary"}': '0+70x10',
  'http_requests{job="app-server", instance="1", group="canary"}': '0+80x10',
});
const engine = new Engine();
const at = (expr: string, t = 50 * m) => engine.instantQuery(q, expr, t);

test('sum, with by before or after the arguments, and without', async () => {
  expect(vectorOf(await at('sum(http_requests)'))).toEqual({ '{}': 3600 });
  expect(vectorOf(await at('sum by (job) (http_requests)'))).toEqual({
    '{job="api-server"}': 1000,
    '{job="app-server"}': 2600,
  });
  expect(vectorOf(await at('sum(http_requests) by (job)'))).toEqual({
    '{job="api-server"}': 1000,
    '{job="app-server"}': 2600,
  });
  // without drops the listed labels and the metric name.
  expect(vectorOf(await at('sum without (instance) (http_requests)'))).toEqual({
    '{group="canary", job="api-server"}': 700,
    '{group="canary", job="app-server"}': 1500,
    '{group="production", job="api-server"}': 300,
    '{group="production", job="app-server"}': 1100,
  });
  expect(vectorOf(await at('sum by (__name__) (http_requests)'))).toEqual({ http_requests: 3600 });
  expect(vectorOf(await at('sum by (nonexistent) (http_requests)'))).toEqual({ '{}': 3600 });
  expect(vectorOf(await at('sum without (job, instance, group) (http_requests)'))).toEqual({ '{}': 3600 });
});

test('groups appear in order of their first input series', async () => {
  const r = await at('sum by (job) (http_requests{group="canary"})');
  expect(r.resultType === 'vector' && r.result.map((x) => labelsToString(x.metric))).toEqual([
    '{job="api-server"}',
    '{job="app-server"}',
  ]);
});

test('avg, min, max, count, group', async () => {
  expect(vectorOf(await at('avg by (group) (http_requests)'))).toEqual({
    '{group="canary"}': 550,
    '{group="production"}': 350,
  });
  expect(vectorOf(await at('min by (job) (http_requests)'))).toEqual({
    '{job="api-server"}': 100,
    '{job="app-server"}': 500,
  });
  expect(vectorOf(await at('max by (job) (http_requests)'))).toEqual({
    '{job="api-server"}': 400,
    '{job="app-server"}': 800,
  });
  expect(vectorOf(await at('count(http_requests)'))).toEqual({ '{}': 8 });
  expect(vectorOf(await at('count without (instance) (http_requests)'))).toEqual({
    '{group="canary", job="api-server"}': 2,
    '{group="canary", job="app-server"}': 2,
    '{group="production", job="api-server"}': 2,
    '{group="production", job="app-server"}': 2,
  });
  expect(vectorOf(await at('group by (job) (http_requests)'))).toEqual({
    '{job="api-server"}': 1,
    '{job="app-server"}': 1,
  });
});

test('aggregations over a range query', async () => {
  const r = await engine.rangeQuery(q, 'sum by (job) (http_requests)', 0, 10 * m, 5 * m);
  expect(matrixOf(r)).toEqual({
    '{job="api-server"}': [
      [0, 0],
      [5 * m, 100],
      [10 * m, 200],
    ],
    '{job="app-server"}': [
      [0, 0],
      [5 * m, 260],
      [10 * m, 520],
    ],
  });
});

test('stddev and stdvar (population)', async () => {
  // api-server: 100, 200, 300, 400 → mean 250, variance (150² + 50² + 50² + 150²) / 4 = 12500.
  expect(approxVector(await at('stdvar by (job) (http_requests)'))).toEqual({
    '{job="api-server"}': 12500,
    '{job="app-server"}': 12500,
  });
  expect(approxVector(await at('stddev by (job) (http_requests)'))).toEqual({
    '{job="api-server"}': 111.8033989,
    '{job="app-server"}': 111.8033989,
  });
});

test('topk and bottomk keep the input labels and order by value', async () => {
  const r = await at('topk(3, http_requests)');
  expect(r.resultType === 'vector' && r.result.map((x) => [labelsToString(x.metric), x.v])).toEqual([
    ['http_requests{group="canary", instance="1", job="app-server"}', 800],
    ['http_requests{group="canary", instance="0", job="app-server"}', 700],
    ['http_requests{group="production", instance="1", job="app-server"}', 600],
  ]);
  expect(vectorOf(await at('bottomk(1, http_requests) by (job)'))).toEqual({
    'http_requests{group="production", instance="0", job="api-server"}': 100,
    'http_requests{group="production", instance="0", job="app-server"}': 500,
  });
  expect(vectorOf(await at('topk(0, http_requests)'))).toEqual({});
});

test('quantile and count_values', async () => {
  // Sorted values 100 … 800: rank 0.5 * 7 = 3.5 → between 400 and 500.
  expect(vectorOf(await at('quantile(0.5, http_requests)'))).toEqual({ '{}': 450 });
  expect(approxVector(await at('quantile(0.9, http_requests)'))).toEqual({ '{}': 730 });
  expect(vectorOf(await at('quantile(2, http_requests)'))).toEqual({ '{}': Infinity });
  const q2 = new MemoryQuerier().load(m, { 'y{a="1"}': '1', 'y{a="2"}': '1', 'y{a="3"}': '2.5' });
  expect(vectorOf(await engine.instantQuery(q2, 'count_values("value", y)', 0))).toEqual({
    '{value="1"}': 2,
    '{value="2.5"}': 1,
  });
});

test('count_values without: the value label is part of the group', async () => {
  const q2 = new MemoryQuerier().load(m, { 'y{a="1", b="x"}': '4', 'y{a="2", b="x"}': '8', 'y{a="3", b="x"}': '4' });
  expect(vectorOf(await engine.instantQuery(q2, 'count_values without (a) ("v", y)', 0))).toEqual({
    '{b="x", v="4"}': 2,
    '{b="x", v="8"}': 1,
  });
  expect(vectorOf(await engine.instantQuery(q2, 'count_values by (b) ("v", y * 1e21)', 0))).toEqual({
    '{b="x", v="4000000000000000000000"}': 2,
    '{b="x", v="8000000000000000000000"}': 1,
  });
});

test('avg handles infinities', async () => {
  const q2 = new MemoryQuerier().load(m, { 'y{a="1"}': '1', 'y{a="2"}': 'Inf', 'y{a="3"}': '5' });
  expect(vectorOf(await engine.instantQuery(q2, 'avg(y)', 0))).toEqual({ '{}': Infinity });
});
