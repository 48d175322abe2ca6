#!/usr/bin/env node
'use strict';
/**
 * In-process PromQL timing over a bucket that query-bench.js left behind (--keep-dirs): opens the
 * filesystem bucket with the querier's BucketStore and runs the query-bench query set through the
 * engine, without HTTP. For quick iteration on the engine; the figures that count are
 * query-bench.js's (side by side with Prometheus).
 *
 *   node packages/promql/bench/query-inproc.js --bucket /tmp/strata-XXXX/bucket --end <ms> [--tenant bench]
 *       [--ranges 1h,24h,7d] [--runs 3] [--queries name,...] [--interval 300]
 *
 * Needs a build (tsc -b packages/server). --end is query-bench's dataset end (the end of the last
 * full 2h block); run with `node --cpu-prof` to profile.
 */
const path = require('node:path');
const ROOT = path.resolve(__dirname, '../../..');
const req = (p) => require(path.join(ROOT, 'packages', p, 'lib/index.js'));
const { FilesystemBucket } = req('objstore');
const { BucketStore } = req('querier');
const { Engine } = req('promql');
const { nopLogger, createRegistry } = req('common');

const H = 3600_000;
const M = 60_000;
const S = 1000;
const QUERIES = [
  ['sum-rate', 'sum(rate(bench_metric_0[$w]))'],
  ['sum-by-1e1', 'sum by (cardinality_1e1) (rate(bench_metric_0[$w]))'],
  ['topk', 'topk(5, sum by (cardinality_1e2) (rate({job="bench"}[$w])))'],
  ['sum-all', 'sum(rate({job="bench"}[$w]))'],
  ['max-by-regex', 'max by (instance) (rate({job="bench", cardinality_1e2=~"1[0-9]"}[$w]))'],
  ['increase-name-regex', 'sum by (instance) (increase({__name__=~"bench_metric_[2-5]"}[$w]))'],
  ['selector', 'bench_metric_3{cardinality_1e2="35"}'],
];
const RANGES = { '1h': [H, 20 * S], '24h': [24 * H, 5 * M], '7d': [7 * 24 * H, H] };

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}

async function main() {
  const bucketDir = arg('bucket');
  const end = Number(arg('end'));
  if (!bucketDir || !(end > 0)) throw new Error('usage: --bucket DIR --end MS');
  const tenant = arg('tenant', 'bench');
  const runs = Number(arg('runs', 3));
  const scrape = Number(arg('interval', 300)) * S;
  const names = arg('queries') ? new Set(arg('queries').split(',')) : null;
  const store = new BucketStore(new FilesystemBucket(bucketDir), { syncInterval: 0 }, nopLogger(), createRegistry(false));
  await store.start();
  const q = store.querier(tenant);
  const engine = new Engine({ maxSamples: 500_000_000 });
  for (const r of arg('ranges', '1h,24h,7d').split(',')) {
    const [range, step] = RANGES[r];
    const w = Math.max(4 * scrape, step + scrape) / M + 'm';
    let total = 0;
    for (const [name, tmpl] of QUERIES) {
      if (names && !names.has(name)) continue;
      const query = tmpl.replace('$w', w);
      const times = [];
      let res;
      for (let i = 0; i <= runs; i++) {
        const t0 = process.hrtime.bigint();
        res = await engine.rangeQuery(q, query, end - range, end - step, step);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (i > 0) times.push(ms);
      }
      times.sort((a, b) => a - b);
      const med = times[times.length >> 1];
      total += med;
      let points = 0;
      for (const s of res.result) points += s.ts.length;
      console.log(`${r} ${name}: ${med.toFixed(1)} ms (${res.result.length} series, ${points} points)`);
    }
    console.log(`${r} total: ${total.toFixed(1)} ms`);
  }
  await store.stop();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
