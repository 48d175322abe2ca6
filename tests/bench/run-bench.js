#!/usr/bin/env node
'use strict';
/**
 * Ingest benchmark: Strata vs Prometheus 2.42 (Debian) as remote-write receivers, same load.
 *
 *   node tests/bench/run-bench.js                          # 100k and 1M series, 10 timed rounds each
 *   node tests/bench/run-bench.js --series 10000 --rounds 3  # smoke run
 *
 * Options: --series 100000,1000000  --rounds 10  --series-per-request 2000  --concurrency 8
 *          --systems prometheus,strata  --tenant bench  --prebuild-mb 1024  --timeout-ms 60000
 *          --strata-bin bin/strata  --strata-arg=-flag=value (repeatable)  --no-strata-default-args
 *          --strata-ready-path /ready  --strata-ready-timeout 180 (s)  --keep-dirs  --out results.json  --json
 *
 * For each series count, and for each system in turn, it starts a fresh server on free loopback
 * ports with a fresh temp dir:
 *   - Prometheus: `prometheus --web.enable-remote-write-receiver`, no scrape configs (its own
 *     scrape samples at wall-clock time would put the head's max time at now, and the bench's
 *     virtual time, starting at now-2h, would then be out of bounds); push to /api/v1/write.
 *   - Strata: `bin/strata -server.http-listen-port=P -server.grpc-listen-port=G
 *     -blocks-storage.tsdb.dir=T/tsdb -blocks-storage.filesystem.dir=T/bucket` plus limits raised
 *     for the bench (see STRATA_DEFAULT_ARGS); push to /api/v1/push with X-Scope-OrgID.
 * Then: one untimed warm-up round that creates every series, then the timed rounds (see load-gen.js
 * for the request shape and when encoding happens; the same encoded bytes go to both systems).
 *
 * Figures per system:
 *   accepted samples/s       samples in 2xx answers / in-flight time of the timed rounds
 *   CPU s per 1M samples     server utime+stime (/proc/<pid>/stat) summed over the timed windows
 *   RSS bytes per series     VmRSS (/proc/<pid>/status) after the timed phase / active series;
 *                            also the growth over the RSS measured just before the warm-up
 *   p50 / p99 latency        per request, timed rounds
 * bin/strata is a bash wrapper that `exec`s node, so the child PID is the node process; if it is
 * not, the first `node` descendant is measured instead.
 *
 * Everything runs on 127.0.0.1; every loop is bounded; children are stopped at the end, on errors
 * and on SIGINT/SIGTERM (SIGTERM, then SIGKILL after 10 s).
 */
require('./register-ts');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { Workload, runLoad, prebuildRounds, formatResult, parseFlags } = require('./load-gen');
const { findPrometheus, startPrometheus, PROMETHEUS_INSTALL_HINT } = require('../helpers/prometheus');
const { startStrata, strataInstalled, STRATA_BIN } = require('../helpers/strata');
const { readCpuSeconds, readMemory } = require('../helpers/proc-stats');

const STRATA_DEFAULT_ARGS = [
  '-distributor.ingestion-rate-limit=1000000000',
  '-distributor.ingestion-burst-size=1000000000',
  '-ingester.max-global-series-per-user=0',
  '-log.level=warn',
];

const live = new Set();

async function stopAll() {
  await Promise.allSettled([...live].map((s) => s.stop()));
  live.clear();
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.error(`\n${sig}: stopping servers…`);
    stopAll().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}

function getJson(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        try {
          resolve(JSON.parse(body));
        } catch {
          reject(new Error(`HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
        }
      });
    });
    req.setTimeout(60_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** count({job="bench"}) at the last timed round's timestamp; should equal the series count. */
async function countSeries(queryBase, headers, tSec) {
  try {
    const q = new URLSearchParams({ query: 'count({job="bench"})', time: String(tSec) });
    const res = await getJson(`${queryBase}/api/v1/query?${q}`, headers);
    const v = res?.data?.result?.[0]?.value?.[1];
    return v === undefined ? `no result (${res.status}${res.error ? ': ' + res.error : ''})` : Number(v);
  } catch (err) {
    return `query failed: ${err.message}`;
  }
}

async function startSystem(name, f) {
  if (name === 'prometheus') {
    if (!findPrometheus()) return { skipped: `prometheus not installed (${PROMETHEUS_INSTALL_HINT})` };
    const p = await startPrometheus({ selfScrape: false, keepDir: !!f['keep-dirs'] });
    return { instance: p, pid: p.pid, target: { url: p.writeUrl }, queryBase: p.url, queryHeaders: {} };
  }
  if (name === 'strata') {
    const bin = path.resolve(f['strata-bin'] ?? STRATA_BIN);
    if (!strataInstalled(bin)) return { skipped: `${path.relative(process.cwd(), bin) || bin} not found` };
    const args = [...(f['strata-default-args'] === 'false' ? [] : STRATA_DEFAULT_ARGS), ...(f['strata-arg'] ?? [])];
    const s = await startStrata({
      binary: bin,
      args,
      readyPath: f['strata-ready-path'],
      // The first start of bin/strata may build the workspace (tsc -b) before it listens.
      readyTimeoutMs: Number(f['strata-ready-timeout'] ?? 180) * 1000,
      keepDir: !!f['keep-dirs'],
    });
    const tenant = f.tenant ?? 'bench';
    return {
      instance: s,
      pid: s.pid,
      target: { url: s.pushUrl, tenant },
      queryBase: `${s.url}/prometheus`,
      queryHeaders: { 'X-Scope-OrgID': tenant },
    };
  }
  throw new Error(`unknown system ${name}`);
}

/** Benchmarks one system; a system that fails to start or errors is reported, not fatal. */
async function benchOne(name, workload, prebuilt, f, log) {
  try {
    return await benchSystem(name, workload, prebuilt, f, log);
  } catch (err) {
    log(`${name}: FAILED — ${err.message}`);
    return { system: name, error: err.message.split('\n')[0], detail: err.message };
  }
}

async function benchSystem(name, workload, prebuilt, f, log) {
  const started = await startSystem(name, f);
  if (started.skipped) {
    log(`${name}: skipped — ${started.skipped}`);
    return { system: name, skipped: started.skipped };
  }
  const { instance, pid } = started;
  live.add(instance);
  try {
    const baseline = readMemory(pid);
    let cpuTimed = 0;
    let cpuWarmup = 0;
    let lgTimedMicros = 0;
    let cpu0 = 0;
    let lg0;
    const res = await runLoad(
      workload,
      started.target,
      {
        rounds: Number(f.rounds ?? 10),
        concurrency: Number(f.concurrency ?? 8),
        timeoutMs: Number(f['timeout-ms'] ?? 60_000),
        prebuildMb: Number(f['prebuild-mb'] ?? 1024),
        prebuilt,
        log: (m) => log(`  ${name}: ${m}`),
      },
      {
        beforeRound: (r) => {
          if (r === 0) cpu0 = readCpuSeconds(pid);
        },
        afterRound: (r) => {
          if (r === 0) cpuWarmup = readCpuSeconds(pid) - cpu0;
        },
        beforeTimed: () => {
          cpu0 = readCpuSeconds(pid);
          lg0 = process.cpuUsage();
        },
        afterTimed: () => {
          cpuTimed += readCpuSeconds(pid) - cpu0;
          const d = process.cpuUsage(lg0);
          lgTimedMicros += d.user + d.system;
        },
      },
    );
    const mem = readMemory(pid);
    const lastT = workload.roundTime(res.timedRounds) / 1000;
    const seriesCount = await countSeries(started.queryBase, started.queryHeaders, lastT);
    log(formatResult(res).replace(/^/gm, '  '));
    const mSamples = res.samplesAccepted / 1e6;
    return {
      system: name,
      pid,
      ...res,
      serverCpuSecondsTimed: round(cpuTimed, 2),
      serverCpuSecondsWarmup: round(cpuWarmup, 2),
      cpuSecondsPerMillionSamples: mSamples > 0 ? round(cpuTimed / mSamples, 3) : null,
      loadGenCpuSecondsTimed: round(lgTimedMicros / 1e6, 2),
      rssBytesBefore: baseline.rssBytes,
      rssBytesAfter: mem.rssBytes,
      peakRssBytes: mem.peakRssBytes,
      rssBytesPerSeries: Math.round(mem.rssBytes / workload.series),
      rssGrowthBytesPerSeries: Math.round((mem.rssBytes - baseline.rssBytes) / workload.series),
      seriesCountQueried: seriesCount,
    };
  } finally {
    await instance.stop();
    live.delete(instance);
  }
}

function round(x, d) {
  const m = 10 ** d;
  return Math.round(x * m) / m;
}

const ROWS = [
  ['accepted samples/s', (r) => r.acceptedSamplesPerSec, (x) => x.toLocaleString('en-US')],
  ['CPU s per 1M samples', (r) => r.cpuSecondsPerMillionSamples, (x) => x.toFixed(3)],
  ['RSS bytes per series', (r) => r.rssBytesPerSeries, (x) => x.toLocaleString('en-US')],
  ['RSS growth bytes/series', (r) => r.rssGrowthBytesPerSeries, (x) => x.toLocaleString('en-US')],
  ['latency p50 ms', (r) => r.latencyMs.p50, (x) => x.toFixed(1)],
  ['latency p99 ms', (r) => r.latencyMs.p99, (x) => x.toFixed(1)],
  ['requests / non-2xx', (r) => `${r.requests} / ${r.non2xxCount}`, (x) => x, false],
  ['warm-up s (series creation)', (r) => r.warmup?.seconds, (x) => x.toFixed(2)],
  ['server CPU s (timed)', (r) => r.serverCpuSecondsTimed, (x) => x.toFixed(2)],
  ['load-gen CPU s (timed)', (r) => r.loadGenCpuSecondsTimed, (x) => x.toFixed(2), false],
  ['series counted by query', (r) => r.seriesCountQueried, (x) => String(x), false],
];

function table(seriesCount, prom, strata) {
  const cell = (r, get, fmt) => {
    if (!r) return '—';
    if (r.skipped) return 'skipped';
    if (r.error) return 'failed';
    const v = get(r);
    return v === null || v === undefined ? 'n/a' : fmt(v);
  };
  const rows = [['', 'Prometheus 2.42', 'Strata', 'Strata/Prometheus']];
  for (const [label, get, fmt, ratio = true] of ROWS) {
    let q = '';
    if (ratio && prom && strata && !prom.skipped && !strata.skipped && !prom.error && !strata.error) {
      const a = get(prom);
      const b = get(strata);
      if (typeof a === 'number' && typeof b === 'number' && a !== 0) q = `${(b / a).toFixed(2)}×`;
    }
    rows.push([label, cell(prom, get, fmt), cell(strata, get, fmt), q]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
  return [
    `### ${seriesCount.toLocaleString('en-US')} active series`,
    line(rows[0]),
    `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

const USAGE = `usage: node tests/bench/run-bench.js [--series 100000,1000000] [--rounds 10] [--series-per-request 2000]
  [--concurrency 8] [--systems prometheus,strata] [--tenant bench] [--prebuild-mb 1024] [--timeout-ms 60000]
  [--strata-bin bin/strata] [--strata-arg=-flag=value]... [--no-strata-default-args] [--strata-ready-path /ready]
  [--strata-ready-timeout 180]
  [--keep-dirs] [--out FILE] [--json]`;

async function main() {
  const f = parseFlags(process.argv.slice(2), {
    booleans: ['keep-dirs', 'json', 'help', 'strata-default-args'],
    repeated: ['strata-arg'],
  });
  if (f.help) {
    console.log(USAGE);
    return;
  }
  const log = f.json ? () => {} : (m) => console.log(m);
  const counts = String(f.series ?? '100000,1000000')
    .split(',')
    .map((s) => Number(s.trim()));
  if (counts.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--series: bad list ${f.series}`);
  const systems = String(f.systems ?? 'prometheus,strata').split(',');
  const rounds = Number(f.rounds ?? 10);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 400) throw new Error('--rounds must be 1..400');

  const results = [];
  const tables = [];
  for (const n of counts) {
    log(`== ${n.toLocaleString('en-US')} series, ${rounds} timed rounds ==`);
    const workload = new Workload({
      series: n,
      seriesPerRequest: f['series-per-request'] === undefined ? undefined : Number(f['series-per-request']),
    });
    log(`  labels encoded in ${workload.labelSeconds.toFixed(1)} s`);
    // Encode once, send the same bytes to every system (unless it does not fit: then per round).
    const prebuilt = prebuildRounds(workload, rounds, Number(f['prebuild-mb'] ?? 1024), (m) => log(`  ${m}`));
    const byName = {};
    for (const sys of systems) byName[sys] = await benchOne(sys, workload, prebuilt, f, log);
    results.push({ series: n, rounds, results: byName });
    tables.push(table(n, byName.prometheus, byName.strata));
    for (const r of Object.values(byName)) if (r.error) process.exitCode = 1;
    log('');
    log(tables[tables.length - 1]);
    log('');
  }
  const summary = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: require('node:os').cpus().length,
    seriesPerRequest: f['series-per-request'] ? Number(f['series-per-request']) : 2000,
    concurrency: Number(f.concurrency ?? 8),
    runs: results,
  };
  if (f.out) fs.writeFileSync(f.out, JSON.stringify(summary, null, 2));
  if (f.json) console.log(JSON.stringify(summary));
  else {
    if (tables.length > 1) console.log(`== summary ==\n\n${tables.join('\n\n')}`);
    if (f.out) console.log(`\nJSON written to ${f.out}`);
  }
}

main()
  .catch(async (err) => {
    console.error(err.stack || String(err));
    process.exitCode = 1;
  })
  .finally(stopAll);
