import { labelsFromObject, labelsToString } from '@strata/tsdb-core';
import { aggregate, aggregateMatrix, groupingKeyFunc } from './engine/aggregations';
import { Engine } from './engine/engine';
import type { AggregateOp } from './parser/ast';
import type { Matrix, Vector } from './engine/types';
import { m } from './testing/helpers';
import { MemoryQuerier } from './testing/memory-querier';
import { mulberry32 as prng } from '../../../tests/helpers/prng';

// aggregateMatrix (whole-matrix evaluation) must give what `aggregate` gives step by step.

const START = 1_000_000;
const INTERVAL = 15_000;

function randomMatrix(rnd: () => number, nSeries: number, nSteps: number): Matrix {
  const special = [NaN, Infinity, -Infinity, 0, -0, 1e308, -1e308];
  const out: Matrix = [];
  for (let i = 0; i < nSeries; i++) {
    const ts: number[] = [];
    const vs: number[] = [];
    for (let k = 0; k < nSteps; k++) {
      if (rnd() < 0.2) continue; // gaps
      ts.push(START + k * INTERVAL);
      const r = rnd();
      vs.push(r < 0.05 ? special[Math.floor(rnd() * special.length)]! : (rnd() - 0.3) * 1000);
    }
    const metric = labelsFromObject({
      __name__: `m${i % 2}`,
      a: String(Math.floor(rnd() * 3)),
      b: String(Math.floor(rnd() * 4)),
      id: String(i),
    });
    out.push({ metric, ts, vs });
  }
  return out;
}

/** The step-by-step reference: one `aggregate` call per step over that step's vector. */
function stepwise(op: AggregateOp, grouping: string[], without: boolean, input: Matrix, nSteps: number): Map<string, Map<number, number>> {
  const keyFn = groupingKeyFunc(grouping, without);
  const res = new Map<string, Map<number, number>>();
  for (let k = 0; k < nSteps; k++) {
    const t = START + k * INTERVAL;
    const vec: Vector = [];
    const keys: string[] = [];
    for (const s of input) {
      const j = s.ts.indexOf(t);
      if (j < 0) continue;
      vec.push({ metric: s.metric, t, v: s.vs[j]! });
      keys.push(keyFn(s.metric));
    }
    for (const smp of aggregate(op, grouping, without, 0, vec, keys)) {
      const key = labelsToString(smp.metric);
      if (!res.has(key)) res.set(key, new Map());
      res.get(key)!.set(t, smp.v);
    }
  }
  return res;
}

const OPS: AggregateOp[] = ['sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar'];

test.each(OPS)('aggregateMatrix(%s) equals the step-wise aggregation, also when sliced into step ranges', (op) => {
  const rnd = prng(OPS.indexOf(op) + 7);
  for (const [grouping, without] of [
    [[], false],
    [['a'], false],
    [['a', 'b'], false],
    [['id'], true],
    [['a'], true],
  ] as [string[], boolean][]) {
    const nSteps = 37;
    const input = randomMatrix(rnd, 40, nSteps);
    const want = stepwise(op, grouping, without, input, nSteps);
    // maxCells 5 forces slices of a few steps (or one step per slice with many groups).
    for (const maxCells of [undefined, 5]) {
      const { out, inPerStep, outPerStep } = aggregateMatrix(op, grouping, without, input, START, INTERVAL, nSteps, () => {}, maxCells);
      const got = new Map<string, Map<number, number>>();
      for (const s of out) got.set(labelsToString(s.metric), new Map(s.ts.map((t, i) => [t, s.vs[i]!])));
      expect(got.size).toBe(want.size);
      for (const [key, pts] of want) {
        const g = got.get(key);
        expect(g).toBeDefined();
        expect([...g!.keys()]).toEqual([...pts.keys()]);
        for (const [t, v] of pts) expect(Object.is(g!.get(t), v) || (Number.isNaN(v) && Number.isNaN(g!.get(t)))).toBe(true);
      }
      let inTotal = 0;
      for (const s of input) inTotal += s.ts.length;
      expect(inPerStep.reduce((a, b) => a + b, 0)).toBe(inTotal);
      expect(outPerStep.reduce((a, b) => a + b, 0)).toBe(out.reduce((a, s) => a + s.ts.length, 0));
    }
  }
});

test('max-samples accounting of an aggregation is rangeEval-exact (Prometheus peak)', async () => {
  // Two series with a point at each of 3 steps: the selector holds 6 samples; at the last step
  // the evaluation holds 6 + 2 earlier results + 2 inputs + 1 result = 11.
  const q = new MemoryQuerier().load(m, { 'x{i="1"}': '1 2 3', 'x{i="2"}': '4 5 6' });
  const ok = new Engine({ maxSamples: 11 });
  const res = await ok.rangeQuery(q, 'sum(x)', 0, 2 * m, m);
  expect(res.resultType).toBe('matrix');
  const tight = new Engine({ maxSamples: 10 });
  await expect(tight.rangeQuery(q, 'sum(x)', 0, 2 * m, m)).rejects.toThrow(/too many samples/);
});

test('max-samples accounting of quantile counts its parameter like rangeEval', async () => {
  // 6 samples of x and 3 of the parameter are held; at the last step 2 + 1 inputs and 3 results.
  const q = new MemoryQuerier().load(m, { 'x{i="1"}': '1 2 3', 'x{i="2"}': '4 5 6' });
  const res = await new Engine({ maxSamples: 15 }).rangeQuery(q, 'quantile(0.5, x)', 0, 2 * m, m);
  expect(res.resultType === 'matrix' && res.result[0]!.vs).toEqual([2.5, 3.5, 4.5]);
  await expect(new Engine({ maxSamples: 14 }).rangeQuery(q, 'quantile(0.5, x)', 0, 2 * m, m)).rejects.toThrow(/too many samples/);
});

test('quantile with more group × step cells than the cap goes step by step, with the same results', async () => {
  // 1,100 groups × 1,000 steps > MAX_CELLS: each group holds one series, whose value it returns.
  const data: Record<string, string> = {};
  for (let i = 0; i < 1100; i++) data[`x{i="${i}"}`] = `${i}+1x999`;
  const q = new MemoryQuerier().load(m, data);
  const res = await new Engine().rangeQuery(q, 'quantile by (i) (0.5, x)', 0, 999 * m, m);
  if (res.resultType !== 'matrix') throw new Error(`got ${res.resultType}`);
  const result = res.result;
  expect(result).toHaveLength(1100);
  for (const s of result.slice(0, 50)) {
    const i = Number(s.metric[0]!.value);
    expect(s.vs[0]).toBe(i);
    expect(s.vs[999]).toBe(i + 999);
  }
});
