#!/usr/bin/env node
'use strict';
/**
 * Storage-only read benchmark: BucketStore.querier().select over a filesystem bucket (e.g. the one
 * query-bench.js leaves behind with --keep-dirs), then every returned series decoded into one reused
 * SampleBuffer with readSeriesInto, as the PromQL engine does. Times select and decode separately
 * (median of --runs, after one warm-up run) and reports GC time per phase.
 *
 *   node packages/querier/bench/select-bench.js --bucket /tmp/strata-XXXX/bucket --end <ms>
 *       [--tenant bench] [--runs 5] [--ranges 7d,1h20m] [--window 65m]
 *       [--selector 'job="bench"']   (comma-separated name="value" / name=~"regex" / != / !~)
 *
 * Needs a build (tsc -b packages/server). The 7d range starts at end - 7d - window (a rate() window
 * before the first step), as the range queries of query-bench.js read.
 */
const path = require('node:path');
const { PerformanceObserver } = require('node:perf_hooks');
const ROOT = path.resolve(__dirname, '../../..');
const req = (p) => require(path.join(ROOT, 'packages', p, 'lib/index.js'));
const { FilesystemBucket } = req('objstore');
const { BucketStore } = req('querier');
const { Matcher, MatchType, SampleBuffer, readSeriesInto } = req('tsdb-core');
const { nopLogger, createRegistry } = req('common');

const M = 60_000;
const H = 60 * M;
const D = 24 * H;

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}

/** "7d", "1h20m", "65m", "30s" → ms. */
function duration(s) {
  const units = { d: D, h: H, m: M, s: 1000 };
  let ms = 0;
  const re = /(\d+)([dhms])/g;
  let m;
  let seen = '';
  while ((m = re.exec(s)) !== null) {
    ms += Number(m[1]) * units[m[2]];
    seen += m[0];
  }
  if (seen !== s || ms === 0) throw new Error(`bad duration ${s}`);
  return ms;
}

/** `a="x",b=~"y.*"` → matchers (values without commas or quotes). */
function parseSelector(sel) {
  const types = { '=': MatchType.EQ, '!=': MatchType.NEQ, '=~': MatchType.RE, '!~': MatchType.NRE };
  return sel.split(',').map((m) => {
    const x = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"\s*$/.exec(m);
    if (x === null) throw new Error(`bad matcher ${m}`);
    return new Matcher(types[x[2]], x[1], x[3]);
  });
}

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function main() {
  const bucketDir = arg('bucket');
  const end = Number(arg('end'));
  if (!bucketDir || !(end > 0)) throw new Error('usage: --bucket DIR --end MS');
  const tenant = arg('tenant', 'bench');
  const runs = Number(arg('runs', 5));
  const window = duration(arg('window', '65m'));
  const store = new BucketStore(new FilesystemBucket(bucketDir), { syncInterval: 0 }, nopLogger(), createRegistry(false));
  await store.start();
  const q = store.querier(tenant);
  const matchers = parseSelector(arg('selector', 'job="bench"'));
  const buf = new SampleBuffer();
  for (const r of arg('ranges', '7d,1h20m').split(',')) {
    const range = duration(r);
    // The 7d query reads a rate window before its first step; the short range is read as given.
    const mint = r === '7d' ? end - range - window : end - range;
    const maxt = end;
    const sel = [];
    const dec = [];
    const selGc = [];
    const decGc = [];
    let nSeries = 0;
    let nSamples = 0;
    let nStale = 0;
    for (let i = 0; i <= runs; i++) {
      let g0 = gcMs;
      let t0 = now();
      const series = await q.select(mint, maxt, matchers);
      const t1 = now();
      await new Promise((res) => setImmediate(res)); // let the GC observer report
      const g1 = gcMs;
      const t2 = now();
      let samples = 0;
      let stale = 0;
      for (const s of series) {
        buf.reset();
        readSeriesInto(s, mint, maxt, buf);
        samples += buf.n;
        stale += buf.nStale;
      }
      const t3 = now();
      await new Promise((res) => setImmediate(res));
      if (i === 0) continue; // warm-up
      sel.push(t1 - t0);
      selGc.push(g1 - g0);
      dec.push(t3 - t2);
      decGc.push(gcMs - g1);
      nSeries = series.length;
      nSamples = samples;
      nStale = stale;
      g0 = t0 = 0;
    }
    const s = median(sel);
    const d = median(dec);
    console.log(
      `${arg('selector', 'job="bench"')} ${r} [${mint}, ${maxt}]: ${nSeries} series, ${nSamples} samples (+${nStale} stale) | ` +
        `select ${s.toFixed(1)} ms (gc ${median(selGc).toFixed(1)}) | decode ${d.toFixed(1)} ms (gc ${median(decGc).toFixed(1)}) | ` +
        `decode ${(nSamples / d / 1000).toFixed(1)} M samples/s, select+decode ${(nSamples / (s + d) / 1000).toFixed(1)} M samples/s`,
    );
    console.log(`  select runs: ${sel.map((x) => x.toFixed(0)).join(' ')}; decode runs: ${dec.map((x) => x.toFixed(0)).join(' ')}`);
  }
  await store.stop();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
