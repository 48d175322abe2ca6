'use strict';
/**
 * Shared pieces of the storage and query benchmarks (tests/bench/storage-bench.js,
 * tests/bench/query-bench.js): starting and always stopping Prometheus and Strata, feeding a
 * load-gen Workload in time order, waiting for blocks, measuring block directories, timing
 * query_range calls and comparing their results.
 *
 * Everything listens on 127.0.0.1; every wait loop has a deadline.
 */
require('./register-ts');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { runLoad } = require('./load-gen');
const { findPrometheus, startPrometheus, PROMETHEUS_INSTALL_HINT } = require('../helpers/prometheus');
const { startStrata, strataInstalled, STRATA_BIN } = require('../helpers/strata');
const { readCpuSeconds, readMemory } = require('../helpers/proc-stats');

const ROOT = path.resolve(__dirname, '../..');
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const BLOCK_RANGE = 2 * H;
const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

// ---------------------------------------------------------------------------------------------
// Child processes: every server started here is stopped at the end, on errors and on signals.

const live = new Set();

function track(instance) {
  live.add(instance);
  return instance;
}

async function stopTracked(instance) {
  if (!instance) return;
  live.delete(instance);
  await instance.stop();
}

async function stopAll() {
  const all = [...live];
  live.clear();
  await Promise.allSettled(all.map((s) => s.stop()));
}

function installSignalHandlers() {
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      console.error(`\n${sig}: stopping servers…`);
      stopAll().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    });
  }
}

/** Builds the workspace if a source is newer than the build (what bin/strata does before it starts). */
function ensureBuilt() {
  execFileSync(path.join(ROOT, 'node_modules/.bin/tsc'), ['-b', 'packages/server'], { cwd: ROOT, stdio: 'inherit' });
}

/** The built @strata/tsdb-core (packages/tsdb-core/lib), the code the server runs. */
function tsdbCore() {
  return require(path.join(ROOT, 'packages/tsdb-core/lib/index.js'));
}

/**
 * Prometheus 2.42 with the remote-write receiver, no scrape configs, 2h blocks only (min = max
 * block duration, so it never compacts them into larger ones) and the given extra flags.
 */
async function startPrometheusBench(extraArgs = [], keepDir = false) {
  if (!findPrometheus()) throw new Error(`prometheus is not installed (${PROMETHEUS_INSTALL_HINT})`);
  return track(
    await startPrometheus({
      selfScrape: false,
      keepDir,
      extraArgs: ['--storage.tsdb.min-block-duration=2h', '--storage.tsdb.max-block-duration=2h', '--storage.tsdb.retention.time=60d', ...extraArgs],
    }),
  );
}

const STRATA_BENCH_ARGS = [
  '-distributor.ingestion-rate-limit=1000000000',
  '-distributor.ingestion-burst-size=1000000000',
  '-ingester.max-global-series-per-user=0',
  '-blocks-storage.tsdb.block-ranges-period=2h',
  '-log.level=warn',
];

/** bin/strata -target=all with the bench limits and `args`; `dir` reuses a data directory (kept). */
async function startStrataBench(args = [], opts = {}) {
  const bin = path.resolve(opts.binary ?? STRATA_BIN);
  if (!strataInstalled(bin)) throw new Error(`${bin} not found`);
  return track(
    await startStrata({
      binary: bin,
      args: [...STRATA_BENCH_ARGS, ...args],
      readyTimeoutMs: 180_000,
      dir: opts.dir,
      keepDir: opts.keepDir,
      env: opts.env,
      stopTimeoutMs: 60_000,
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Time

/** A block-range-aligned start time such that `totalMs` of data ends at least `marginMs` before now. */
function alignedStart(totalMs, marginMs = 10 * M, range = BLOCK_RANGE) {
  return Math.floor((Date.now() - totalMs - marginMs) / range) * range;
}

function iso(ms) {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

async function sleep(ms) {
  await new Promise((r) => setTimeout(r, ms));
}

/** Polls `f` (sync or async) every `everyMs` until it returns a truthy value; throws after `timeoutMs`. */
async function waitFor(what, f, timeoutMs, everyMs = 500) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await f();
      if (last) return last;
    } catch (e) {
      last = e.message;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last: ${String(last).slice(0, 300)})` : ''}`);
}

// ---------------------------------------------------------------------------------------------
// Feeding

/**
 * Sends rounds 0..rounds-1 of `workload` (one sample per series per round, in time order) to
 * `target` and fails if any request was refused. Returns the load-gen result plus server CPU.
 */
async function feed(workload, target, rounds, { concurrency = 4, log = () => {}, pid } = {}) {
  const cpu0 = pid ? readCpuSeconds(pid) : 0;
  const t0 = Date.now();
  let nextLog = Date.now() + 15_000;
  const res = await runLoad(
    workload,
    target,
    { rounds: rounds - 1, concurrency, prebuildMb: 0, timeoutMs: 120_000, log },
    {
      afterRound: (r) => {
        if (Date.now() >= nextLog) {
          nextLog = Date.now() + 15_000;
          log(`round ${r + 1}/${rounds} (${iso(workload.roundTime(r))})`);
        }
      },
    },
  );
  const wall = (Date.now() - t0) / 1000;
  const refused = res.non2xxCount + (res.warmup?.non2xxCount ?? 0);
  const samples = res.samplesAccepted + (res.warmup?.samplesAccepted ?? 0);
  if (res.timedRounds !== rounds - 1) throw new Error(`only ${res.timedRounds + 1} of ${rounds} rounds were sent`);
  if (refused > 0) {
    throw new Error(`${refused} requests refused by ${target.url}: ${JSON.stringify(res.firstErrors ?? res.warmup?.firstErrors)}`);
  }
  return {
    samples,
    wallSeconds: wall,
    samplesPerSec: Math.round(samples / wall),
    serverCpuSeconds: pid ? readCpuSeconds(pid) - cpu0 : undefined,
    rssBytes: pid ? readMemory(pid).rssBytes : undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// Blocks on disk

function dirBytes(dir) {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n += dirBytes(p);
    else if (e.isFile()) n += fs.statSync(p).size;
  }
  return n;
}

/** Complete blocks (ULID dirs with a meta.json) under `dir`, with their sizes, sorted by minTime. */
function listBlocks(dir) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const name of fs.readdirSync(dir)) {
    if (!ULID_RE.test(name)) continue;
    const bdir = path.join(dir, name);
    let meta;
    try {
      meta = JSON.parse(fs.readFileSync(path.join(bdir, 'meta.json'), 'utf8'));
    } catch {
      continue; // being written or uploaded
    }
    const chunksDir = path.join(bdir, 'chunks');
    const chunkBytes = fs.existsSync(chunksDir) ? dirBytes(chunksDir) : 0;
    const indexBytes = fs.statSync(path.join(bdir, 'index')).size;
    out.push({
      ulid: name,
      dir: bdir,
      minTime: meta.minTime,
      maxTime: meta.maxTime,
      level: meta.compaction?.level,
      numSamples: meta.stats?.numSamples ?? 0,
      numSeries: meta.stats?.numSeries ?? 0,
      numChunks: meta.stats?.numChunks ?? 0,
      indexBytes,
      chunkBytes,
      totalBytes: dirBytes(bdir),
    });
  }
  return out.sort((a, b) => a.minTime - b.minTime);
}

/** Waits until `dir` holds complete blocks starting at every time in `minTimes`; returns them. */
async function waitForBlocks(what, dir, minTimes, timeoutMs) {
  return waitFor(
    `${what}: blocks starting at ${minTimes.map(iso).join(', ')} in ${dir}`,
    () => {
      const blocks = listBlocks(dir);
      const have = new Set(blocks.map((b) => b.minTime));
      return minTimes.every((t) => have.has(t)) ? blocks : false;
    },
    timeoutMs,
    1000,
  );
}

/** Sums block figures: bytes per sample of the whole dirs, of chunks only and of the index only. */
function blockTotals(blocks) {
  const t = { blocks: blocks.length, numSamples: 0, numSeries: 0, numChunks: 0, indexBytes: 0, chunkBytes: 0, totalBytes: 0 };
  for (const b of blocks) {
    t.numSamples += b.numSamples;
    t.numSeries += b.numSeries;
    t.numChunks += b.numChunks;
    t.indexBytes += b.indexBytes;
    t.chunkBytes += b.chunkBytes;
    t.totalBytes += b.totalBytes;
  }
  t.bytesPerSample = t.totalBytes / t.numSamples;
  t.chunkBytesPerSample = t.chunkBytes / t.numSamples;
  t.indexBytesPerSample = t.indexBytes / t.numSamples;
  return t;
}

// ---------------------------------------------------------------------------------------------
// HTTP / PromQL

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/** GET; resolves {status, body, ms} where ms runs until the whole body has arrived. */
function httpGet(url, headers = {}, timeoutMs = 300_000) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const req = http.get(url, { headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8'), ms: Number(process.hrtime.bigint() - start) / 1e6 }),
      );
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url.slice(0, 200)}: timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** A system to query: {name, base (…/api/v1 parent), headers, pid}. */
function queryTarget(name, instance, tenant) {
  if (name === 'prometheus') return { name, base: instance.url, headers: {}, pid: instance.pid };
  return { name, base: `${instance.url}/prometheus`, headers: { 'X-Scope-OrgID': tenant }, pid: instance.pid };
}

/** One query_range call (times in ms); resolves {ms, result} or throws on an error answer. */
async function queryRange(target, query, startMs, endMs, stepMs) {
  const q = new URLSearchParams({ query, start: String(startMs / 1000), end: String(endMs / 1000), step: String(stepMs / 1000) });
  const res = await httpGet(`${target.base}/api/v1/query_range?${q}`, target.headers);
  let json;
  try {
    json = JSON.parse(res.body);
  } catch {
    throw new Error(`${target.name}: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
  }
  if (res.status !== 200 || json.status !== 'success') {
    throw new Error(`${target.name}: ${query}: HTTP ${res.status} ${json.errorType ?? ''}: ${json.error ?? res.body.slice(0, 300)}`);
  }
  return { ms: res.ms, result: json.data.result };
}

/** An instant query; resolves the result vector. */
async function queryInstant(target, query, tMs) {
  const q = new URLSearchParams({ query, time: String(tMs / 1000) });
  const res = await httpGet(`${target.base}/api/v1/query?${q}`, target.headers);
  const json = JSON.parse(res.body);
  if (json.status !== 'success') throw new Error(`${target.name}: ${query}: ${json.error}`);
  return json.data.result;
}

function metricKey(metric) {
  return JSON.stringify(Object.keys(metric).sort().map((k) => [k, metric[k]]));
}

/**
 * Compares two matrix results: same series (label sets), same timestamps, values equal within a
 * relative (or, near 0, absolute) tolerance. Returns {ok, series, points, maxRelDiff, problem}.
 */
function compareMatrices(a, b, tol = 1e-6) {
  const out = { ok: true, series: [a.length, b.length], points: 0, maxRelDiff: 0, problem: undefined };
  const fail = (p) => {
    if (out.ok) out.problem = p;
    out.ok = false;
  };
  if (a.length !== b.length) fail(`series count ${a.length} vs ${b.length}`);
  const byKey = new Map(b.map((s) => [metricKey(s.metric), s]));
  for (const sa of a) {
    const k = metricKey(sa.metric);
    const sb = byKey.get(k);
    if (!sb) {
      fail(`series ${k} missing in the second result`);
      continue;
    }
    if (sa.values.length !== sb.values.length) fail(`${k}: ${sa.values.length} vs ${sb.values.length} points`);
    const n = Math.min(sa.values.length, sb.values.length);
    for (let i = 0; i < n; i++) {
      const [ta, va] = sa.values[i];
      const [tb, vb] = sb.values[i];
      out.points++;
      if (ta !== tb) {
        fail(`${k}: point ${i} at ${ta} vs ${tb}`);
        break;
      }
      if (va === vb) continue;
      const x = Number(va);
      const y = Number(vb);
      if (Number.isNaN(x) && Number.isNaN(y)) continue;
      const d = Math.abs(x - y) / Math.max(1, Math.abs(x), Math.abs(y));
      if (d > out.maxRelDiff) out.maxRelDiff = d;
      if (!(d <= tol)) fail(`${k}: value at ${ta}: ${va} vs ${vb}`);
    }
  }
  return out;
}

/**
 * For topk/bottomk: compares, step by step, the sorted values of two matrix results, ignoring which
 * series carry them. Equal values with different series mean ties were broken differently
 * (Prometheus breaks them in Go map order: rangeEval assembles the inner matrix from a map).
 * Returns {ok, steps, stepsWithOtherSeries, problem}.
 */
function compareValuesByStep(a, b, tol = 1e-6) {
  const byStep = (m) => {
    const out = new Map();
    for (const s of m) {
      const k = metricKey(s.metric);
      for (const [t, v] of s.values) {
        let e = out.get(t);
        if (!e) out.set(t, (e = { vals: [], keys: [] }));
        e.vals.push(Number(v));
        e.keys.push(k);
      }
    }
    return out;
  };
  const A = byStep(a);
  const B = byStep(b);
  const out = { ok: true, steps: A.size, stepsWithOtherSeries: 0, problem: undefined };
  if (A.size !== B.size) return { ...out, ok: false, problem: `${A.size} vs ${B.size} steps` };
  for (const [t, ea] of A) {
    const eb = B.get(t);
    if (!eb || ea.vals.length !== eb.vals.length) return { ...out, ok: false, problem: `step ${t}: ${ea.vals.length} vs ${eb?.vals.length ?? 0} values` };
    const va = [...ea.vals].sort((x, y) => x - y);
    const vb = [...eb.vals].sort((x, y) => x - y);
    for (let i = 0; i < va.length; i++) {
      const d = Math.abs(va[i] - vb[i]) / Math.max(1, Math.abs(va[i]), Math.abs(vb[i]));
      if (!(d <= tol) && !(Number.isNaN(va[i]) && Number.isNaN(vb[i]))) return { ...out, ok: false, problem: `step ${t}: values ${va} vs ${vb}` };
    }
    if ([...ea.keys].sort().join() !== [...eb.keys].sort().join()) out.stepsWithOtherSeries++;
  }
  return out;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Runs `query` `runs` times (after `warmup` untimed runs) against each target, alternating
 * between targets run by run so that machine noise hits both alike. Returns per-target
 * {medianMs, minMs, runsMs, series, points, cpuSeconds} and the comparison of the results.
 */
async function timeQuery(targets, query, startMs, endMs, stepMs, { runs = 5, warmup = 1 } = {}) {
  const res = {};
  for (const t of targets) res[t.name] = { runsMs: [], cpuSeconds: 0, result: undefined };
  for (let i = 0; i < warmup; i++) {
    for (const t of targets) res[t.name].result = (await queryRange(t, query, startMs, endMs, stepMs)).result;
  }
  for (let i = 0; i < runs; i++) {
    for (const t of targets) {
      const cpu0 = t.pid ? readCpuSeconds(t.pid) : 0;
      const r = await queryRange(t, query, startMs, endMs, stepMs);
      if (t.pid) res[t.name].cpuSeconds += readCpuSeconds(t.pid) - cpu0;
      res[t.name].runsMs.push(r.ms);
      res[t.name].result = r.result;
    }
  }
  const out = {};
  for (const t of targets) {
    const r = res[t.name];
    out[t.name] = {
      medianMs: median(r.runsMs),
      minMs: Math.min(...r.runsMs),
      runsMs: r.runsMs.map((x) => Math.round(x * 10) / 10),
      cpuSecondsPerRun: runs ? r.cpuSeconds / runs : 0,
      series: r.result.length,
      points: r.result.reduce((n, s) => n + s.values.length, 0),
    };
  }
  if (targets.length === 2) {
    const [a, b] = [res[targets[0].name].result, res[targets[1].name].result];
    out.compare = compareMatrices(a, b);
    if (!out.compare.ok && /\b(topk|bottomk)\s*\(/.test(query)) {
      const ties = compareValuesByStep(a, b);
      out.compare.tieAware = ties;
      if (ties.ok) {
        out.compare.ok = true;
        out.compare.tiesBrokenDifferently = ties.stepsWithOtherSeries;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Output

/** A markdown table from a header row and rows (first column left-aligned, others right). */
function mdTable(header, rows, leftColumns = 1) {
  const all = [header, ...rows].map((r) => r.map((c) => String(c)));
  const widths = header.map((_, i) => Math.max(3, ...all.map((r) => r[i].length)));
  const left = (i) => i < leftColumns;
  const line = (r) => `| ${r.map((c, i) => (left(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(all[0]), `|${widths.map((w, i) => (left(i) ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`, ...all.slice(1).map(line)].join(
    '\n',
  );
}

function fmt(x, d = 2) {
  if (x === undefined || x === null || Number.isNaN(x)) return 'n/a';
  return x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

function ratio(strata, prom) {
  return prom > 0 && strata !== undefined ? `${(strata / prom).toFixed(2)}×` : 'n/a';
}

/** Reads --name value / --name=value flags (see load-gen.js parseFlags). */
function flagNum(f, name, def) {
  if (f[name] === undefined) return def;
  const n = Number(f[name]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: not a positive number: ${f[name]}`);
  return n;
}

module.exports = {
  ROOT,
  S,
  M,
  H,
  BLOCK_RANGE,
  track,
  stopTracked,
  stopAll,
  installSignalHandlers,
  ensureBuilt,
  tsdbCore,
  startPrometheusBench,
  startStrataBench,
  alignedStart,
  iso,
  sleep,
  waitFor,
  feed,
  dirBytes,
  listBlocks,
  waitForBlocks,
  blockTotals,
  httpGet,
  queryTarget,
  queryRange,
  queryInstant,
  compareMatrices,
  compareValuesByStep,
  median,
  timeQuery,
  mdTable,
  fmt,
  ratio,
  flagNum,
};

// ---------------------------------------------------------------------------------------------
// CPU profiles (node --cpu-prof of the Strata process)

/**
 * Self time by function of a .cpuprofile (V8 format): [{fn, where, ms, pct}] for the top `n`,
 * plus `totalMs`. `(idle)`, `(program)` and `(garbage collector)` are reported like functions.
 */
function summarizeCpuProfile(file, n = 15) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((nd) => [nd.id, nd]));
  const self = new Map();
  const dts = prof.timeDeltas ?? [];
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const nd = byId.get(prof.samples[i]);
    const dt = (dts[i + 1] ?? dts[i] ?? 0) / 1000; // µs → ms; a sample's time is the gap to the next one
    if (!nd) continue;
    const cf = nd.callFrame;
    const where = cf.url ? `${path.relative(ROOT, cf.url.replace(/^file:\/\//, ''))}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'}\t${where}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  const busy = total - (self.get('(idle)\t') ?? 0);
  const rows = [...self.entries()]
    .filter(([k]) => !k.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, ms]) => {
      const [fn, where] = k.split('\t');
      return { fn, where, ms: Math.round(ms), pct: Math.round((1000 * ms) / busy) / 10 };
    });
  return { totalMs: Math.round(total), busyMs: Math.round(busy), top: rows };
}

/** The newest .cpuprofile in `dir`, or undefined. */
function newestCpuProfile(dir) {
  if (!fs.existsSync(dir)) return undefined;
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => ({ f: path.join(dir, f), size: fs.statSync(path.join(dir, f)).size, mtime: fs.statSync(path.join(dir, f)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  // The biggest recent one is the server (a rebuild by bin/strata may add a small tsc profile).
  files.sort((a, b) => b.size - a.size);
  return files[0]?.f;
}

module.exports.summarizeCpuProfile = summarizeCpuProfile;
module.exports.newestCpuProfile = newestCpuProfile;

/**
 * A wrapper that runs the built server like bin/strata but under `node --cpu-prof` (Node refuses
 * --cpu-prof in NODE_OPTIONS); the profile is written to `profDir` when the server exits.
 */
function profilingStrataBin(profDir) {
  fs.mkdirSync(path.join(profDir, 'bin'), { recursive: true });
  const bin = path.join(profDir, 'bin', 'strata-cpu-prof');
  fs.writeFileSync(
    bin,
    `#!/usr/bin/env bash\nexec node --cpu-prof --cpu-prof-dir=${JSON.stringify(profDir)} ${JSON.stringify(path.join(ROOT, 'packages/server/lib/main.js'))} "$@"\n`,
    { mode: 0o755 },
  );
  return bin;
}
module.exports.profilingStrataBin = profilingStrataBin;

// ---------------------------------------------------------------------------------------------
// Loading one dataset into both systems

/**
 * Tail after the measured range: Prometheus cuts a 2h block only once its head spans more than
 * 3 h (1.5 block ranges), so data must run 1 h (and a bit) past the last block to be written.
 */
function tailMs(intervalMs) {
  return H + 2 * intervalMs;
}

/**
 * Feeds the same Workload, in time order, to a fresh Prometheus and then to a fresh Strata, and
 * waits until both have written every 2h block of [start, start + hours) (Strata: also the tail
 * block its idle head is forced into, all shipped to the bucket).
 *   cfg: {series, hours, intervalMs, tenant, concurrency}
 *   opts.keepPrometheus: leave Prometheus running and return it as `prometheusInstance`.
 * Strata's data dir is kept (out.strataDir); the caller removes it.
 */
async function loadDataset(name, cfg, f, log, { keepPrometheus = false, prometheusArgs = [] } = {}) {
  const { series, hours, intervalMs, tenant } = cfg;
  const total = hours * H + tailMs(intervalMs);
  const start = alignedStart(total);
  const rounds = Math.floor(total / intervalMs) + 1;
  const fullBlocks = Array.from({ length: Math.floor(hours / 2) }, (_, i) => start + i * BLOCK_RANGE);
  const spr = Math.min(2000, Math.max(250, Math.ceil(series / 4)));
  const { Workload } = require('./load-gen');
  const workload = new Workload({ series, seriesPerRequest: spr, intervalSec: intervalMs / 1000, startMs: start });
  log(
    `[${name}] ${series} series × ${rounds} samples every ${intervalMs / 1000}s (${hours} h + ${(tailMs(intervalMs) / M).toFixed(1)} min tail) ` +
      `from ${iso(start)}: ${((series * rounds) / 1e6).toFixed(1)}M samples per system`,
  );
  const out = { start, end: start + hours * H, rounds, series, intervalMs, samplesSent: series * rounds };

  const prom = await startPrometheusBench(prometheusArgs, !!f['keep-dirs']);
  try {
    const r = await feed(workload, { url: prom.writeUrl }, rounds, { concurrency: cfg.concurrency, log: (m) => log(`  prometheus: ${m}`), pid: prom.pid });
    log(`  prometheus: ingested ${r.samples} samples in ${r.wallSeconds.toFixed(1)} s (${r.samplesPerSec.toLocaleString('en-US')}/s)`);
    const blocks = await waitForBlocks('prometheus', prom.dataDir, fullBlocks, 900_000);
    out.prometheus = { ingest: r, blocks: blocks.filter((b) => b.minTime >= start && b.maxTime <= out.end), allBlocks: blocks.length };
    out.prometheus.writeBlockLog = prometheusWriteBlockDurations(prom.log(4 << 20));
    log(`  prometheus: ${out.prometheus.blocks.length} full 2h blocks in ${prom.dataDir}`);
  } catch (e) {
    await stopTracked(prom);
    throw e;
  }
  if (keepPrometheus) out.prometheusInstance = prom;
  else await stopTracked(prom);

  const strata = await startStrataBench(
    [
      '-blocks-storage.tsdb.head-compaction-interval=1s',
      '-blocks-storage.tsdb.head-compaction-idle-timeout=10s',
      '-blocks-storage.tsdb.ship-interval=1s',
      '-blocks-storage.bucket-store.sync-interval=1s',
    ],
    { keepDir: true },
  );
  out.strataDir = strata.dir;
  try {
    const r = await feed(workload, { url: strata.pushUrl, tenant }, rounds, { concurrency: cfg.concurrency, log: (m) => log(`  strata: ${m}`), pid: strata.pid });
    log(`  strata: ingested ${r.samples} samples in ${r.wallSeconds.toFixed(1)} s (${r.samplesPerSec.toLocaleString('en-US')}/s)`);
    const want = [...fullBlocks];
    for (let t = out.end; t < start + total; t += BLOCK_RANGE) want.push(t);
    const bucketDir = path.join(strata.dir, 'bucket', tenant);
    const blocks = await waitForBlocks('strata bucket', bucketDir, want, 900_000);
    out.strata = { ingest: r, blocks: blocks.filter((b) => b.minTime >= start && b.maxTime <= out.end), allBlocks: blocks.length, bucketDir };
    log(`  strata: ${out.strata.blocks.length} full 2h blocks (+${blocks.length - out.strata.blocks.length} tail) shipped to ${bucketDir}`);
  } catch (e) {
    if (keepPrometheus) await stopTracked(prom);
    await stopTracked(strata);
    if (!f['keep-dirs']) fs.rmSync(strata.dir, { recursive: true, force: true });
    throw e;
  } finally {
    await stopTracked(strata);
  }
  return out;
}

/**
 * Restarts Strata for querying `ds`: same bucket, an empty -blocks-storage.tsdb.dir (no head, no
 * local blocks), -querier.query-store-after=0; waits until the bucket store has loaded every block.
 * With `profDir`, the server runs under `node --cpu-prof`.
 */
async function startBucketOnlyStrata(ds, profDir) {
  fs.rmSync(path.join(ds.strataDir, 'tsdb'), { recursive: true, force: true });
  const strata = await startStrataBench(
    ['-querier.query-store-after=0', '-querier.query-ingesters-within=0', '-querier.max-samples=500000000', '-blocks-storage.tsdb.ship-interval=0'],
    { dir: ds.strataDir, keepDir: true, binary: profDir ? profilingStrataBin(profDir) : undefined },
  );
  const n = ds.strata.allBlocks;
  await waitFor(
    `strata to load ${n} blocks`,
    async () => {
      const m = await httpGet(`${strata.url}/metrics`);
      const v = /^cortex_bucket_store_blocks_loaded(?:\{[^}]*\})? (\d+)/m.exec(m.body);
      return v && Number(v[1]) >= n;
    },
    120_000,
  );
  return strata;
}

/** Prometheus's "write block" log lines: [{mint, ms}]. */
function prometheusWriteBlockDurations(log) {
  const out = [];
  for (const line of log.split('\n')) {
    if (!/msg="write block"/i.test(line)) continue;
    const mint = /mint=(\d+)/.exec(line);
    const dur = /duration=([0-9.]+)(ms|s|µs|us|m)\b/.exec(line);
    if (!mint || !dur) continue;
    const mult = { ms: 1, s: 1000, µs: 0.001, us: 0.001, m: 60000 }[dur[2]];
    out.push({ mint: Number(mint[1]), ms: Number(dur[1]) * mult });
  }
  return out;
}

/** Copies the server's newest CPU profile out of `profDir`, logs its top self times; returns the summary. */
function reportCpuProfile(profDir, label, log, n = 15) {
  const file = newestCpuProfile(profDir);
  if (!file) {
    log(`${label}: no CPU profile found in ${profDir}`);
    return undefined;
  }
  const keep = path.join(require('node:os').tmpdir(), `${label.replace(/[^A-Za-z0-9-]/g, '')}-strata-${Date.now()}.cpuprofile`);
  fs.copyFileSync(file, keep);
  const sum = summarizeCpuProfile(keep, n);
  log(`${label}: Strata CPU profile ${keep}: busy ${(sum.busyMs / 1000).toFixed(1)} s; top self time:`);
  for (const r of sum.top) log(`  ${String(r.pct).padStart(5)}%  ${r.fn}  ${r.where}`);
  return { file: keep, ...sum };
}

Object.assign(module.exports, { tailMs, loadDataset, startBucketOnlyStrata, prometheusWriteBlockDurations, reportCpuProfile });

/** One-line verdict of a timeQuery comparison. */
function describeCompare(c) {
  if (!c) return 'n/a';
  if (!c.ok) return `DIFFER: ${c.problem}`;
  if (c.tiesBrokenDifferently) return `equal values; ties broken differently at ${c.tiesBrokenDifferently}/${c.tieAware.steps} steps`;
  return 'equal';
}
module.exports.describeCompare = describeCompare;
