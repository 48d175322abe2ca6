import { Engine } from './engine/engine';
import { PromQLError } from './errors';
import { approx, m, matrixOf, vectorOf } from './testing/helpers';
import { MemoryQuerier } from './testing/memory-querier';

const q = new MemoryQuerier().load(m, {
  'node_cpu{instance="a", cpu="0"}': '10',
  'node_cpu{instance="a", cpu="1"}': '20',
  'node_cpu{instance="b", cpu="0"}': '30',
  'node_info{instance="a", version="1.0"}': '1',
  'node_info{instance="b", version="2.0"}': '2',
  'x{i="1"}': '1',
  'x{i="2"}': '5',
  'y{i="1"}': '2',
  'y{i="2"}': '10',
  'y{i="3"}': '7',
  'dup_a{i="1"}': '1',
  'dup_c{i="1"}': '2',
});
const engine = new Engine();
const vec = async (expr: string) => vectorOf(await engine.instantQuery(q, expr, 0));
const scalar = async (expr: string) => {
  const r = await engine.instantQuery(q, expr, 0);
  if (r.resultType !== 'scalar') throw new Error(`expected scalar, got ${r.resultType}`);
  return r.result.v;
};
const fails = async (expr: string, msg: string) => {
  await expect(engine.instantQuery(q, expr, 0)).rejects.toThrow(new PromQLError('execution', msg));
  await expect(engine.instantQuery(q, expr, 0)).rejects.toMatchObject({ errorType: 'execution' });
};

test('scalar arithmetic, precedence, bool comparisons', async () => {
  expect(await scalar('1 + 2 * 3')).toBe(7);
  expect(await scalar('(1 + 2) * 3')).toBe(9);
  expect(await scalar('2 ^ 3 ^ 2')).toBe(512);
  expect(await scalar('-2 ^ 2')).toBe(-4);
  expect(await scalar('-1 ^ 0.5')).toBe(-1);
  expect(await scalar('7 % 4 - 10 / 4')).toBe(0.5);
  expect(await scalar('-7 % 4')).toBe(-3); // sign of the dividend, like Go's math.Mod
  expect(await scalar('1 / 0')).toBe(Infinity);
  expect(await scalar('0 / 0')).toBeNaN();
  expect(await scalar('1 ^ NaN')).toBe(1); // Go's math.Pow
  expect(await scalar('1 == bool 1')).toBe(1);
  expect(await scalar('1 > bool 2')).toBe(0);
  expect(approx(await scalar('1 atan2 1'))).toBe(approx(Math.PI / 4));
  expect(await scalar('-(1)')).toBe(-1);
});

test('vector and scalar: arithmetic drops the name, comparisons filter', async () => {
  expect(await vec('x * 2')).toEqual({ '{i="1"}': 2, '{i="2"}': 10 });
  expect(await vec('2 - x')).toEqual({ '{i="1"}': 1, '{i="2"}': -3 });
  expect(await vec('x ^ 2')).toEqual({ '{i="1"}': 1, '{i="2"}': 25 });
  expect(await vec('-x')).toEqual({ '{i="1"}': -1, '{i="2"}': -5 });
  expect(await vec('x > 2')).toEqual({ 'x{i="2"}': 5 });
  // With the scalar on the left, the vector's value is kept.
  expect(await vec('2 < x')).toEqual({ 'x{i="2"}': 5 });
  expect(await vec('x > bool 2')).toEqual({ '{i="1"}': 0, '{i="2"}': 1 });
  expect(await vec('2 >= bool x')).toEqual({ '{i="1"}': 1, '{i="2"}': 0 });
  expect(await vec('x == 1 or x != 1')).toEqual({ 'x{i="1"}': 1, 'x{i="2"}': 5 });
});

test('vector and vector, one-to-one on all labels', async () => {
  expect(await vec('x + y')).toEqual({ '{i="1"}': 3, '{i="2"}': 15 });
  expect(await vec('x / y')).toEqual({ '{i="1"}': 0.5, '{i="2"}': 0.5 });
  expect(await vec('x % y')).toEqual({ '{i="1"}': 1, '{i="2"}': 5 });
  // Comparisons keep the left-hand side sample (and name).
  expect(await vec('x < y')).toEqual({ 'x{i="1"}': 1, 'x{i="2"}': 5 });
  expect(await vec('x == y')).toEqual({});
  expect(await vec('x < bool y')).toEqual({ '{i="1"}': 1, '{i="2"}': 1 });
});

test('on and ignoring', async () => {
  // One-to-one with on(): the result keeps only the matching labels.
  expect(await vec('node_cpu{cpu="0"} + on(instance) node_info')).toEqual({
    '{instance="a"}': 11,
    '{instance="b"}': 32,
  });
  expect(await vec('node_cpu{cpu="0"} + ignoring(cpu, version) node_info')).toEqual({
    '{instance="a"}': 11,
    '{instance="b"}': 32,
  });
  expect(await vec('x{i="1"} + on() y{i="3"}')).toEqual({ '{}': 8 });
});

test('group_left copies the listed labels from the "one" side', async () => {
  expect(await vec('node_cpu * on(instance) group_left(version) node_info')).toEqual({
    '{cpu="0", instance="a", version="1.0"}': 10,
    '{cpu="1", instance="a", version="1.0"}': 20,
    '{cpu="0", instance="b", version="2.0"}': 60,
  });
  expect(await vec('node_cpu * ignoring(cpu, version) group_left node_info')).toEqual({
    '{cpu="0", instance="a"}': 10,
    '{cpu="1", instance="a"}': 20,
    '{cpu="0", instance="b"}': 60,
  });
  // Comparisons keep the name and value of the left ("many") side.
  expect(await vec('node_cpu > on(instance) group_left node_info')).toEqual({
    'node_cpu{cpu="0", instance="a"}': 10,
    'node_cpu{cpu="1", instance="a"}': 20,
    'node_cpu{cpu="0", instance="b"}': 30,
  });
});

test('group_right mirrors group_left', async () => {
  expect(await vec('node_info * on(instance) group_right(version) node_cpu')).toEqual({
    '{cpu="0", instance="a", version="1.0"}': 10,
    '{cpu="1", instance="a", version="1.0"}': 20,
    '{cpu="0", instance="b", version="2.0"}': 60,
  });
  expect(await vec('node_info - on(instance) group_right node_cpu')).toEqual({
    '{cpu="0", instance="a"}': -9,
    '{cpu="1", instance="a"}': -19,
    '{cpu="0", instance="b"}': -28,
  });
  // Prometheus quirk: a filtering comparison returns the left ("one") side's value with the
  // right side's labels.
  expect(await vec('node_info < on(instance) group_right node_cpu')).toEqual({
    'node_cpu{cpu="0", instance="a"}': 1,
    'node_cpu{cpu="1", instance="a"}': 1,
    'node_cpu{cpu="0", instance="b"}': 2,
  });
});

test('cardinality errors', async () => {
  await fails(
    'node_cpu * on(instance) node_info',
    'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
  );
  await fails(
    'x + on() y{i="3"}',
    'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
  );
  await fails(
    'node_info * on(instance) node_cpu',
    'found duplicate series for the match group {instance="a"} on the right hand-side of the operation: ' +
      '[{__name__="node_cpu", cpu="1", instance="a"}, {__name__="node_cpu", cpu="0", instance="a"}]' +
      ';many-to-many matching not allowed: matching labels must be unique on one side',
  );
  await fails(
    'node_info * on(instance) group_left node_cpu',
    'found duplicate series for the match group {instance="a"} on the right hand-side of the operation: ' +
      '[{__name__="node_cpu", cpu="1", instance="a"}, {__name__="node_cpu", cpu="0", instance="a"}]' +
      ';many-to-many matching not allowed: matching labels must be unique on one side',
  );
  await fails(
    'node_cpu * on(instance) group_right node_info',
    'found duplicate series for the match group {instance="a"} on the left hand-side of the operation: ' +
      '[{__name__="node_cpu", cpu="1", instance="a"}, {__name__="node_cpu", cpu="0", instance="a"}]' +
      ';many-to-many matching not allowed: matching labels must be unique on one side',
  );
  await fails(
    '{__name__=~"dup_.*"} * on(i) group_left y',
    'multiple matches for labels: grouping labels must ensure unique matches',
  );
  await fails('{__name__=~"dup_.*"} * 2', 'vector cannot contain metrics with the same labelset');
});

test('and, or, unless', async () => {
  expect(await vec('x and y')).toEqual({ 'x{i="1"}': 1, 'x{i="2"}': 5 });
  expect(await vec('y and x')).toEqual({ 'y{i="1"}': 2, 'y{i="2"}': 10 });
  expect(await vec('y unless x')).toEqual({ 'y{i="3"}': 7 });
  expect(await vec('x or y')).toEqual({ 'x{i="1"}': 1, 'x{i="2"}': 5, 'y{i="3"}': 7 });
  expect(await vec('x unless on(i) y{i="1"}')).toEqual({ 'x{i="2"}': 5 });
  expect(await vec('x and on() y{i="3"}')).toEqual({ 'x{i="1"}': 1, 'x{i="2"}': 5 });
  expect(await vec('x and nope')).toEqual({});
  expect(await vec('nope or x')).toEqual({ 'x{i="1"}': 1, 'x{i="2"}': 5 });
});

test('binary operators over a range query follow each step', async () => {
  const q2 = new MemoryQuerier().load(m, { 'a{k="v"}': '1 2 3', 'b{k="v"}': '10 _ 30' });
  const r = await engine.rangeQuery(q2, 'a + b', 0, 2 * m, m);
  // b has no sample at 1m but its 0m sample is within the lookback.
  expect(matrixOf(r)).toEqual({
    '{k="v"}': [
      [0, 11],
      [m, 12],
      [2 * m, 33],
    ],
  });
  const r2 = await engine.rangeQuery(q2, 'a > bool 1.5', 0, 2 * m, m);
  expect(matrixOf(r2)).toEqual({
    '{k="v"}': [
      [0, 0],
      [m, 1],
      [2 * m, 1],
    ],
  });
});
