#!/usr/bin/env node
'use strict';
/**
 * PromQL benchmark: a dashboard-like set of range queries over 1h, 24h and 7d, Strata vs
 * Prometheus 2.42 (Debian) on the same data, in one run.
 *
 *   node tests/bench/query-bench.js                      # 10k series × 7 d at 5m, ~8–10 min on 2 cores
 *   node tests/bench/query-bench.js --series 1000 --days 2 --ranges 1h,24h --runs 2   # smoke
 *
 * Options: --series 10000 --days 7 --interval 300 --ranges 1h,24h,7d --runs 3 --warmup 1 --warmup-sets 1
 *          --queries name,name (subset, see QUERIES) --tenant bench --concurrency 4
 *          --cpu-prof (profile the Strata process that serves the queries)  --keep-dirs  --out FILE  --json
 *
 * Data: load-gen.js's k6-like series (bench_metric_<id/1000>: 10 metric names of 1000 series for
 * 10k series; cardinality_1e1..1e4, instance (2000 series each), job="bench", series_id) with
 * counter-like values. To keep loading time sane the scrape interval is 5 min (--interval 300):
 * 7 d = 2016 samples per series, 20.2M samples. Both systems are loaded through remote write in
 * time order (tests/bench/bench-common.js loadDataset): data starts at a 2h boundary and runs
 * `--days` plus a 1 h tail, so that Prometheus writes every 2h block of the measured range
 * (it cuts a block only when its head spans > 3 h). Both keep 2h blocks only: Prometheus runs
 * with --storage.tsdb.{min,max}-block-duration=2h (no compaction into bigger blocks; Strata has
 * no compactor yet), Strata's ingester cuts 2h blocks and ships them. Strata is then restarted on
 * the same bucket with an empty TSDB dir: every query reads blocks from the bucket through the
 * bucket store (-querier.query-store-after=0). Prometheus reads its blocks from its data dir.
 * Queries end at the end of the last full block, so neither system touches its head.
 *
 * Queries (QUERIES below) are range queries over [end - range, end - step] with
 *   1h: step 20s (180 points)   24h: step 5m (288 points)   7d: step 1h (168 points)
 * and `$__rate_interval` as Grafana computes it: max(4 × scrape interval, step + scrape interval)
 * = 20m, 20m and 65m. First the whole set (all ranges) runs --warmup-sets times untimed on both
 * systems (server warm-up); then each query runs once untimed (warm-up), then --runs times per system,
 * systems alternating run by run; the figure is the median wall time of the HTTP call (until the
 * whole JSON body arrived). Each query's last results from both systems are compared: same series
 * (label sets), same timestamps, values within 1e-6 (relative). For topk, when that fails, the
 * values of each step are compared regardless of which series carry them: Prometheus breaks ties
 * in Go map order (its rangeEval assembles the inner matrix from a map), so equal values with other
 * series are reported as "ties broken differently", not as a difference.
 *
 * Everything runs on 127.0.0.1; every loop is bounded; servers are stopped at the end, on errors
 * and on SIGINT/SIGTERM.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseFlags } = require('./load-gen');
const C = require('./bench-common');

const { H, M, S, iso, fmt, ratio, mdTable } = C;

const QUERIES = [
  { name: 'sum-rate', q: 'sum(rate(bench_metric_0[$__rate_interval]))' },
  { name: 'sum-by-1e1', q: 'sum by (cardinality_1e1) (rate(bench_metric_0[$__rate_interval]))' },
  { name: 'topk', q: 'topk(5, sum by (cardinality_1e2) (rate({job="bench"}[$__rate_interval])))' },
  { name: 'sum-all', q: 'sum(rate({job="bench"}[$__rate_interval]))' },
  { name: 'max-by-regex', q: 'max by (instance) (rate({job="bench", cardinality_1e2=~"1[0-9]"}[$__rate_interval]))' },
  { name: 'increase-name-regex', q: 'sum by (instance) (increase({__name__=~"bench_metric_[2-5]"}[$__rate_interval]))' },
  { name: 'selector', q: 'bench_metric_3{cardinality_1e2="35"}' },
];

const RANGES = {
  '1h': { range: 1 * H, step: 20 * S },
  '6h': { range: 6 * H, step: 2 * M },
  '24h': { range: 24 * H, step: 5 * M },
  '7d': { range: 7 * 24 * H, step: 1 * H },
};

const USAGE = `usage: node tests/bench/query-bench.js [--series 10000] [--days 7] [--interval 300] [--ranges 1h,24h,7d]
  [--runs 3] [--warmup 1] [--warmup-sets 1] [--queries ${QUERIES.map((q) => q.name).join(',')}] [--tenant bench] [--concurrency 4]
  [--cpu-prof] [--keep-dirs] [--out FILE] [--json]`;

function rateInterval(stepMs, scrapeMs) {
  return Math.max(4 * scrapeMs, stepMs + scrapeMs);
}

function promDuration(ms) {
  if (ms % H === 0) return `${ms / H}h`;
  if (ms % M === 0) return `${ms / M}m`;
  return `${ms / S}s`;
}

async function main() {
  const f = parseFlags(process.argv.slice(2), { booleans: ['keep-dirs', 'json', 'help', 'cpu-prof'] });
  if (f.help) {
    console.log(USAGE);
    return;
  }
  const log = f.json ? () => {} : (m) => console.log(m);
  const cfg = {
    series: C.flagNum(f, 'series', 10000),
    hours: C.flagNum(f, 'days', 7) * 24,
    intervalMs: C.flagNum(f, 'interval', 300) * S,
    tenant: f.tenant ?? 'bench',
    concurrency: C.flagNum(f, 'concurrency', 4),
  };
  const runs = C.flagNum(f, 'runs', 3);
  const warmup = f.warmup === undefined ? 1 : Number(f.warmup);
  const warmupSets = f['warmup-sets'] === undefined ? 1 : Number(f['warmup-sets']);
  const ranges = String(f.ranges ?? '1h,24h,7d').split(',');
  for (const r of ranges) {
    if (!RANGES[r]) throw new Error(`--ranges: unknown range ${r} (known: ${Object.keys(RANGES).join(', ')})`);
    if (RANGES[r].range > cfg.hours * H) throw new Error(`--ranges ${r} is longer than the data (--days ${cfg.hours / 24})`);
  }
  if (cfg.hours % 2 !== 0) throw new Error('--days × 24 must be a multiple of 2');
  const names = f.queries ? new Set(String(f.queries).split(',')) : undefined;
  const queries = QUERIES.filter((q) => !names || names.has(q.name));
  if (queries.length === 0) throw new Error(`--queries: none of ${f.queries} is known`);

  C.installSignalHandlers();
  C.ensureBuilt();
  const t0 = Date.now();
  const ds = await C.loadDataset('query', cfg, f, log, { keepPrometheus: true, prometheusArgs: ['--query.max-samples=500000000'] });
  const prom = ds.prometheusInstance;
  delete ds.prometheusInstance;
  const loadSeconds = Math.round((Date.now() - t0) / 1000);
  const profDir = path.join(ds.strataDir, 'cpu-prof');
  let strata;
  const results = [];
  let profile;
  try {
    strata = await C.startBucketOnlyStrata(ds, f['cpu-prof'] ? profDir : undefined);
    const targets = [C.queryTarget('prometheus', prom, cfg.tenant), C.queryTarget('strata', strata, cfg.tenant)];
    // Sanity: both see every series at the end of the data.
    const cnt = await Promise.all(targets.map((t) => C.queryInstant(t, 'count({job="bench"})', ds.end - cfg.intervalMs)));
    const counts = cnt.map((r) => Number(r[0]?.value?.[1] ?? 0));
    log(`[query] count({job="bench"}) at the end: prometheus ${counts[0]}, strata ${counts[1]} (expected ${cfg.series})`);
    if (counts.some((c) => c !== cfg.series)) throw new Error(`series count mismatch: ${counts.join(' vs ')}, expected ${cfg.series}`);

    // Servers warm up: one untimed pass over the whole set (every range) on both systems, so that
    // the first queries timed do not pay for Strata's JIT compiling its read path (a server that
    // has been up for a while has done that long ago); Prometheus gets the same pass.
    for (let round = 0; round < warmupSets; round++) {
      for (const rname of ranges) {
        const { range, step } = RANGES[rname];
        const w = promDuration(rateInterval(step, cfg.intervalMs));
        for (const { q } of queries) {
          for (const t of targets) await C.queryRange(t, q.replaceAll('$__rate_interval', w), ds.end - range, ds.end - step, step);
        }
      }
      log(`[query] warm-up pass ${round + 1}/${warmupSets} over the whole set done`);
    }

    for (const rname of ranges) {
      const { range, step } = RANGES[rname];
      const end = ds.end - step;
      const start = ds.end - range;
      const w = promDuration(rateInterval(step, cfg.intervalMs));
      log(`[query] range ${rname}: [${iso(start)}, ${iso(end)}] step ${promDuration(step)}, $__rate_interval=${w}`);
      for (const { name, q } of queries) {
        const query = q.replaceAll('$__rate_interval', w);
        const r = await C.timeQuery(targets, query, start, end, step, { runs, warmup });
        results.push({ range: rname, name, query, stepMs: step, ...r });
        log(
          `  ${rname} ${name}: prometheus ${r.prometheus.medianMs.toFixed(1)} ms, strata ${r.strata.medianMs.toFixed(1)} ms ` +
            `(${ratio(r.strata.medianMs, r.prometheus.medianMs)}); ${r.prometheus.series}/${r.strata.series} series; ` +
            `results ${C.describeCompare(r.compare)}`,
        );
      }
    }
  } finally {
    await C.stopTracked(strata);
    await C.stopTracked(prom);
    if (f['cpu-prof']) profile = C.reportCpuProfile(profDir, 'query-bench', log);
    if (!f['keep-dirs']) fs.rmSync(ds.strataDir, { recursive: true, force: true });
  }

  // Tables: per query and range; then the sum over the set per range (the "dashboard" time).
  const rows = results.map((r) => [
    r.range,
    `\`${r.query}\``,
    fmt(r.prometheus.medianMs, 1),
    fmt(r.strata.medianMs, 1),
    ratio(r.strata.medianMs, r.prometheus.medianMs),
    `${r.strata.series} / ${r.strata.points.toLocaleString('en-US')}`,
    C.describeCompare(r.compare),
  ]);
  const sums = ranges.map((rname) => {
    const rs = results.filter((r) => r.range === rname);
    const p = rs.reduce((a, r) => a + r.prometheus.medianMs, 0);
    const s = rs.reduce((a, r) => a + r.strata.medianMs, 0);
    const pc = rs.reduce((a, r) => a + r.prometheus.cpuSecondsPerRun, 0);
    const sc = rs.reduce((a, r) => a + r.strata.cpuSecondsPerRun, 0);
    return { range: rname, prometheusMs: p, strataMs: s, prometheusCpuS: pc, strataCpuS: sc, allEqual: rs.every((r) => r.compare.ok) };
  });
  const md = [
    `### ${cfg.series.toLocaleString('en-US')} series × ${cfg.hours / 24} d at ${cfg.intervalMs / 1000}s ` +
      `(${(ds.samplesSent / 1e6).toFixed(1)}M samples, ${ds.prometheus.blocks.length} 2h blocks each), median of ${runs} runs after ${warmupSets} untimed pass(es) over the whole set`,
    '',
    mdTable(
      ['range', 'whole set (sum of the medians)', 'Prometheus ms', 'Strata ms', 'Strata/Prometheus', 'server CPU s per set (P / S)', 'results'],
      sums.map((s) => [
        s.range,
        `${queries.length} queries, step ${promDuration(RANGES[s.range].step)}`,
        fmt(s.prometheusMs, 0),
        fmt(s.strataMs, 0),
        `**${ratio(s.strataMs, s.prometheusMs)}**`,
        `${fmt(s.prometheusCpuS, 2)} / ${fmt(s.strataCpuS, 2)}`,
        s.allEqual ? 'all equal' : 'SOME DIFFER',
      ]),
    ),
    '',
    mdTable(['range', 'query', 'Prometheus ms', 'Strata ms', 'Strata/Prometheus', 'series / points', 'results'], rows, 2),
    '',
  ];
  const summary = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cfg,
    runs,
    warmupSets,
    dataset: {
      start: ds.start,
      end: ds.end,
      samples: ds.samplesSent,
      prometheusBlocks: ds.prometheus.blocks.length,
      strataBlocks: ds.strata.allBlocks,
      ingest: { prometheus: ds.prometheus.ingest, strata: ds.strata.ingest },
    },
    loadSeconds,
    wallSeconds: Math.round((Date.now() - t0) / 1000),
    sums,
    results,
    profile,
  };
  if (f.out) fs.writeFileSync(f.out, JSON.stringify(summary, null, 2));
  if (f.json) console.log(JSON.stringify(summary));
  else {
    console.log(`\n== query benchmark (load ${loadSeconds} s, total ${summary.wallSeconds} s) ==\n`);
    console.log(md.join('\n'));
  }
  if (results.some((r) => !r.compare.ok)) process.exitCode = 1;
}

main()
  .catch((err) => {
    console.error(err.stack || String(err));
    process.exitCode = 1;
  })
  .finally(() => C.stopAll());
