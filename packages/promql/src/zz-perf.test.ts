import { Engine } from './engine/engine';
import { MemoryQuerier } from './testing/memory-querier';
import { materialize } from './engine/selectors';
import { Matcher, MatchType } from '@strata/tsdb-core';
test('perf', async () => {
  const q = new MemoryQuerier();
  const N = 1000, step = 15000, n = 24 * 240; // 1 day of 15s samples
  for (let i = 0; i < N; i++) {
    const ls = `x{job="j${i % 10}", instance="i${i}"}`;
    for (let k = 0; k < n; k++) q.add(ls, k * step, k * (i + 1));
  }
  let t0 = Date.now();
  const ser = await q.select(0, 86400000, [new Matcher(MatchType.EQ, '__name__', 'x')]);
  console.log('select', Date.now() - t0); t0 = Date.now();
  materialize(ser, 0, 86400000);
  console.log('materialize', Date.now() - t0);
  const e = new Engine();
  for (const [expr, st] of [['sum by (job) (rate(x[5m]))', 60000], ['x', 60000], ['sum(x) by (job) / on(job) group_left count(x) by (job)', 60000], ['rate(x[5m])', 15000], ['max_over_time(x[10m:1m])', 60000], ['x * 2 + 1', 60000]] as const) {
    const t0 = Date.now();
    const r = await e.rangeQuery(q, expr, 3600000, 86400000 - 1, st);
    console.log(expr, st, Date.now() - t0, 'ms', r.resultType === 'matrix' ? r.result.length : 0);
  }
}, 120000);
