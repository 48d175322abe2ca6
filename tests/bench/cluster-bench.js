#!/usr/bin/env node
'use strict';
/**
 * Write-path benchmark: microservices mode (2 distributors → 3 ingesters, RF 3, Redis ring) against
 * one `-target=all` process, on the same machine, with the same pre-encoded load.
 *
 *   node tests/bench/cluster-bench.js                               # 100k series, 10 timed rounds
 *   node tests/bench/cluster-bench.js --series 10000 --rounds 3      # smoke run
 *   node tests/bench/cluster-bench.js --setups cluster --cpu-prof distributor-1,ingester-1
 *
 * Options: --series 100000  --rounds 10  --series-per-request 2000  --concurrency 8  --tenant bench
 *          --setups all,cluster  --distributors 2  --ingesters 3  --replication-factor 3
 *          --timeout-ms 60000  --prebuild-mb 1024  --strata-arg=-flag=value (repeatable, every process)
 *          --cpu-prof ROLE[,ROLE]  (all, distributor-N, ingester-N: run under node --cpu-prof)
 *          --wait-idle 600  (s to wait, before starting, for the machine to be under 10% busy; 0: don't)
 *          --keep-dirs  --out results.json  --json
 *
 * One run, in this order, each setup fresh (own temp dir, free loopback ports):
 *   all:     bin/strata -target=all (in-memory ring, so replication factor 1); push to its
 *            /api/v1/push; it also answers the check query.
 *   cluster: redis-server (tests/helpers/redis.ts), then the ingesters one by one
 *            (-target=ingester, -ingester.ring.instance-id=ingester-N), then the distributors
 *            (-target=distributor), all with -ingester.ring.store=redis, the Redis endpoint,
 *            -ingester.ring.replication-factor and one filesystem bucket in the run's temp dir (each
 *            process keeps its own -blocks-storage.tsdb.dir). Ready = every distributor's ring shows
 *            every ingester ACTIVE. The load generator sends the requests round-robin over the
 *            distributors. A -target=querier is started only after the timed phase (not measured)
 *            for the check query.
 * Every process gets the limits lifted (DEFAULT_ARGS) and -log.level=warn.
 *
 * The load (tests/bench/load-gen.js): k6-like series, 2000 per request, 8 requests in flight, a
 * warm-up round that creates every series, then the timed rounds; all rounds are encoded once before
 * the first setup and the same bytes go to both setups.
 *
 * Figures per setup:
 *   accepted samples/s      samples in 2xx answers / in-flight time of the timed rounds (samples as
 *                           sent by the client, not counting the RF 3 copies)
 *   p50 / p99 latency       per request, timed rounds
 *   CPU s per 1M samples    utime+stime (/proc/<pid>/stat) over the timed windows, summed over every
 *                           process of the setup (cluster: distributors, ingesters and redis-server)
 *   RSS                     VmRSS summed over the processes, after the timed phase (and its growth over
 *                           the idle processes before the warm-up)
 *   machine CPU busy        1 - idle share of /proc/stat over the timed windows (all cores), and the
 *                           busy CPU seconds not spent in the measured processes or the load
 *                           generator ("other": must be near 0, else something else shared the cores)
 * and the cluster/all ratio. Check after the load: count({job="bench"}) and sum({job="bench"}) at
 * the last round's timestamp (count = series; the sum must match between the setups: replicas
 * merged, not added), and for the cluster each ingester's cortex_ingester_memory_series and the
 * ingesters' cortex_ingester_ingested_samples_total (= RF × samples sent with RF = ingesters).
 *
 * Everything listens on 127.0.0.1; every loop and wait is bounded; every child process is stopped at
 * the end, on errors and on SIGINT/SIGTERM (SIGTERM, then SIGKILL after a grace period).
 */
require('./register-ts');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { Workload, runLoad, prebuildRounds, formatResult, parseFlags } = require('./load-gen');
const { startStrata, strataInstalled, STRATA_BIN } = require('../helpers/strata');
const { startRedis } = require('../helpers/redis');
const { readCpuSeconds, readMemory, clockTicksPerSecond } = require('../helpers/proc-stats');

const ROOT = path.resolve(__dirname, '../..');

const DEFAULT_ARGS = [
  '-distributor.ingestion-rate-limit=1e9',
  '-distributor.ingestion-burst-size=1000000000',
  '-ingester.max-global-series-per-user=0',
  '-log.level=warn',
];

// ---------------------------------------------------------------------------------------------
// Child processes

const live = new Set();
/** The run's temp dir (every process's data dir, the shared bucket, CPU profiles); removed at the end. */
let runRoot;
let keepRoot = false;

function removeRoot() {
  if (runRoot && !keepRoot) fs.rmSync(runRoot, { recursive: true, force: true });
}

let interrupted = false;

/** Tracks a started process; after SIGINT/SIGTERM, stops it right away and fails the caller. */
function track(x) {
  if (interrupted) {
    x.stop().catch(() => {});
    throw new Error('interrupted');
  }
  live.add(x);
  return x;
}

async function stopTracked(x) {
  if (!x) return;
  live.delete(x);
  await x.stop();
}

async function stopAll() {
  const all = [...live];
  live.clear();
  await Promise.allSettled(all.map((s) => s.stop()));
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.error(`\n${sig}: stopping servers…`);
    interrupted = true;
    stopAll()
      .then(removeRoot)
      .finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, f, timeoutMs, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await f();
      if (last === true) return;
    } catch (e) {
      last = e.message;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last: ${String(last).slice(0, 300)})` : ''}`);
}

function httpGet(url, headers = {}, timeoutMs = 120_000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url}: timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** A wrapper like bin/strata that runs the built server under `node --cpu-prof` (profile in `dir` on exit). */
function profilingBin(dir) {
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  const bin = path.join(dir, 'bin', 'strata-cpu-prof');
  fs.writeFileSync(
    bin,
    `#!/usr/bin/env bash\nexec node --cpu-prof --cpu-prof-dir=${JSON.stringify(dir)} ${JSON.stringify(path.join(ROOT, 'packages/server/lib/main.js'))} "$@"\n`,
    { mode: 0o755 },
  );
  return bin;
}

/**
 * Starts one Strata process for role `role` (all, ingester-N, distributor-N, querier) under `root`.
 * Returns {role, inst, pid}; `inst.stop()` is tracked.
 */
async function startRole(role, args, ctx) {
  const profDir = ctx.cpuProf.has(role) ? path.join(ctx.root, `cpu-prof-${role}`) : undefined;
  const inst = track(
    await startStrata({
      binary: profDir ? profilingBin(profDir) : ctx.bin,
      args: [...DEFAULT_ARGS, ...args, ...ctx.extraArgs],
      tmpRoot: ctx.root,
      keepDir: true, // the whole root is removed at the end
      readyTimeoutMs: 180_000,
      stopTimeoutMs: 90_000,
    }),
  );
  return { role, inst, pid: inst.pid, profDir };
}

// ---------------------------------------------------------------------------------------------
// /proc

function cpuOf(pid) {
  try {
    return readCpuSeconds(pid);
  } catch {
    return NaN; // gone
  }
}

function rssOf(pid) {
  try {
    return readMemory(pid).rssBytes;
  } catch {
    return NaN;
  }
}

/** [busy, total] jiffies of all cores from /proc/stat. */
function machineJiffies() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] ?? 0); // idle + iowait
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return [total - idle, total];
}

/** Share of all cores busy over `ms`. */
async function machineBusyShare(ms) {
  const a = machineJiffies();
  await sleep(ms);
  const b = machineJiffies();
  return b[1] > a[1] ? (b[0] - a[0]) / (b[1] - a[1]) : 0;
}

/**
 * Waits (at most `maxSeconds`) until the machine is idle — under 10% busy over 10 s — so that other
 * work (another benchmark) does not share the cores with the measured processes. Returns the last
 * busy share seen.
 */
async function waitIdle(maxSeconds, log) {
  const deadline = Date.now() + maxSeconds * 1000;
  let busy = await machineBusyShare(10_000);
  while (busy > 0.1 && Date.now() < deadline) {
    log(`machine ${(100 * busy).toFixed(0)}% busy before the run (other processes): waiting for it to be idle…`);
    busy = await machineBusyShare(10_000);
  }
  if (busy > 0.1) log(`WARNING: machine still ${(100 * busy).toFixed(0)}% busy; figures will be disturbed`);
  return busy;
}

// ---------------------------------------------------------------------------------------------
// Checks

async function instantQuery(base, tenant, query, tSec) {
  const q = new URLSearchParams({ query, time: String(tSec) });
  const res = await httpGet(`${base}/prometheus/api/v1/query?${q}`, { 'X-Scope-OrgID': tenant });
  let json;
  try {
    json = JSON.parse(res.body);
  } catch {
    throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 300)}`);
  }
  if (json.status !== 'success') throw new Error(`${query}: HTTP ${res.status}: ${json.error}`);
  const v = json.data.result?.[0]?.value?.[1];
  return v === undefined ? 'no result' : Number(v);
}

async function checkQueries(base, tenant, tSec) {
  const out = {};
  for (const [k, q] of [
    ['count', 'count({job="bench"})'],
    ['sum', 'sum({job="bench"})'],
  ]) {
    try {
      out[k] = await instantQuery(base, tenant, q, tSec);
    } catch (e) {
      out[k] = `query failed: ${e.message}`;
    }
  }
  return out;
}

/** Sum of a metric's samples (all label sets) on a /metrics page. */
async function metricValue(url, name) {
  const res = await httpGet(`${url}/metrics`);
  let total = 0;
  let found = false;
  for (const m of res.body.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) {
    total += Number(m[1]);
    found = true;
  }
  return found ? total : undefined;
}

async function ringActive(url) {
  const r = await httpGet(`${url}/ingester/ring?format=json`, { Accept: 'application/json' }, 10_000);
  return JSON.parse(r.body).shards.filter((s) => s.state === 'ACTIVE').length;
}

// ---------------------------------------------------------------------------------------------
// One setup

/**
 * Runs the load against `procs` (the measured processes: [{role, pid}]) through `pushUrls`.
 * Returns the load-gen result plus CPU, RSS and machine figures.
 */
async function measure(name, procs, pushUrls, workload, prebuilt, f, log) {
  const rssBefore = procs.map((p) => rssOf(p.pid));
  const cpuTimed = new Map(procs.map((p) => [p.role, 0]));
  let cpu0 = new Map();
  let mach0;
  let machBusy = 0;
  let machTotal = 0;
  let lg0;
  let lgMicros = 0;
  let warmCpu = 0;
  const windowsUs = []; // CLOCK_MONOTONIC µs, the clock of V8 CPU profiles
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  const res = await runLoad(
    workload,
    { url: pushUrls, tenant: f.tenant },
    {
      rounds: f.rounds,
      concurrency: f.concurrency,
      timeoutMs: f.timeoutMs,
      prebuildMb: f.prebuildMb,
      prebuilt,
      log: (m) => log(`  ${name}: ${m}`),
    },
    {
      beforeRound: (r) => {
        if (r === 0) cpu0 = new Map(procs.map((p) => [p.role, cpuOf(p.pid)]));
      },
      afterRound: (r) => {
        if (r === 0) for (const p of procs) warmCpu += cpuOf(p.pid) - cpu0.get(p.role);
      },
      beforeTimed: () => {
        cpu0 = new Map(procs.map((p) => [p.role, cpuOf(p.pid)]));
        mach0 = machineJiffies();
        lg0 = process.cpuUsage();
        windowsUs.push([nowUs(), 0]);
      },
      afterTimed: () => {
        windowsUs[windowsUs.length - 1][1] = nowUs();
        for (const p of procs) cpuTimed.set(p.role, cpuTimed.get(p.role) + cpuOf(p.pid) - cpu0.get(p.role));
        const m = machineJiffies();
        machBusy += m[0] - mach0[0];
        machTotal += m[1] - mach0[1];
        const d = process.cpuUsage(lg0);
        lgMicros += d.user + d.system;
      },
    },
  );
  const rssAfter = procs.map((p) => rssOf(p.pid));
  const cpuTotal = [...cpuTimed.values()].reduce((a, b) => a + b, 0);
  const mSamples = res.samplesAccepted / 1e6;
  log(formatResult(res).replace(/^/gm, '  '));
  const other = machBusy / clockTicksPerSecond() - cpuTotal - lgMicros / 1e6;
  if (other > 0.5 + 0.1 * cpuTotal) {
    log(`  ${name}: WARNING: ${other.toFixed(1)} CPU s of the timed windows went to other processes (measured: ${cpuTotal.toFixed(1)} s); figures are disturbed`);
  }
  return {
    setup: name,
    ...res,
    processes: procs.map((p, i) => ({
      role: p.role,
      pid: p.pid,
      cpuSecondsTimed: round(cpuTimed.get(p.role), 2),
      rssBytesBefore: rssBefore[i],
      rssBytesAfter: rssAfter[i],
    })),
    cpuSecondsTimed: round(cpuTotal, 2),
    cpuSecondsWarmup: round(warmCpu, 2),
    cpuSecondsPerMillionSamples: mSamples > 0 ? round(cpuTotal / mSamples, 3) : null,
    loadGenCpuSecondsTimed: round(lgMicros / 1e6, 2),
    machineBusyPct: machTotal > 0 ? round((100 * machBusy) / machTotal, 1) : null,
    // Busy CPU time of the machine not spent in the measured processes nor the load generator
    // (kernel threads, other processes): should be near 0 for figures to be trusted.
    otherCpuSecondsTimed: round(machBusy / clockTicksPerSecond() - cpuTotal - lgMicros / 1e6, 2),
    rssBytesTotal: rssAfter.reduce((a, b) => a + b, 0),
    rssBytesTotalBefore: rssBefore.reduce((a, b) => a + b, 0),
    timedWindowsUs: windowsUs,
  };
}

async function benchAll(workload, prebuilt, f, ctx, log) {
  log('all: starting bin/strata -target=all');
  const p = await startRole('all', [], ctx);
  try {
    const r = await measure('all', [p], [p.inst.pushUrl], workload, prebuilt, f, log);
    r.check = await checkQueries(p.inst.url, f.tenant, workload.roundTime(r.timedRounds) / 1000);
    r.exited = p.inst.server.hasExited();
    log(`  all: check ${JSON.stringify(r.check)}`);
    return r;
  } finally {
    await stopTracked(p.inst);
  }
}

async function benchCluster(workload, prebuilt, f, ctx, log) {
  const redis = track(await startRedis());
  const redisPid = redisServerPid(redis);
  if (!redisPid) log('cluster: redis-server PID not found; its CPU and RSS are not counted');
  const bucket = path.join(ctx.root, 'bucket');
  fs.mkdirSync(bucket, { recursive: true });
  const common = [
    '-ingester.ring.store=redis',
    `-ingester.ring.redis.endpoint=${redis.endpoint}`,
    `-ingester.ring.replication-factor=${f.rf}`,
    `-blocks-storage.filesystem.dir=${bucket}`,
  ];
  const started = [];
  try {
    log(`cluster: redis ${redis.endpoint}; starting ${f.ingesters} ingesters, ${f.distributors} distributors`);
    // One at a time: each picks its free ports right before it binds them.
    for (let i = 1; i <= f.ingesters; i++) {
      started.push(await startRole(`ingester-${i}`, ['-target=ingester', `-ingester.ring.instance-id=ingester-${i}`, ...common], ctx));
    }
    for (let i = 1; i <= f.distributors; i++) started.push(await startRole(`distributor-${i}`, ['-target=distributor', ...common], ctx));
    const dists = started.filter((p) => p.role.startsWith('distributor'));
    const ings = started.filter((p) => p.role.startsWith('ingester'));
    for (const d of dists) {
      await waitFor(`${d.role} to see ${f.ingesters} ACTIVE ingesters`, async () => (await ringActive(d.inst.url)) === f.ingesters, 60_000);
    }
    const procs = [...started, ...(redisPid ? [{ role: 'redis', pid: redisPid }] : [])];
    const r = await measure(
      'cluster',
      procs,
      dists.map((d) => d.inst.pushUrl),
      workload,
      prebuilt,
      f,
      log,
    );
    r.exited = started.filter((p) => p.inst.server.hasExited()).map((p) => p.role);
    if (r.exited.length) log(`  cluster: EXITED during the run: ${r.exited.join(', ')}`);

    // Checks: per-ingester series and samples, then a querier.
    r.ingesters = [];
    for (const p of ings) {
      r.ingesters.push({
        role: p.role,
        memorySeries: await metricValue(p.inst.url, 'cortex_ingester_memory_series').catch(() => undefined),
        ingestedSamples: await metricValue(p.inst.url, 'cortex_ingester_ingested_samples_total').catch(() => undefined),
        ingestedFailures: await metricValue(p.inst.url, 'cortex_ingester_ingested_samples_failures_total').catch(() => undefined),
      });
    }
    log(`  cluster: ingesters ${JSON.stringify(r.ingesters)}`);
    log('  cluster: starting a querier for the check query (not measured)');
    const q = await startRole('querier', ['-target=querier', ...common], ctx);
    started.push(q);
    await waitFor(`querier to see ${f.ingesters} ACTIVE ingesters`, async () => (await ringActive(q.inst.url)) === f.ingesters, 60_000);
    r.check = await checkQueries(q.inst.url, f.tenant, workload.roundTime(r.timedRounds) / 1000);
    log(`  cluster: check through the querier ${JSON.stringify(r.check)}`);
    return r;
  } finally {
    // Distributors and querier first, then the ingesters (they flush their heads on leave), then Redis.
    const t0 = Date.now();
    await Promise.allSettled(started.filter((p) => !p.role.startsWith('ingester')).map((p) => stopTracked(p.inst)));
    await Promise.allSettled(started.filter((p) => p.role.startsWith('ingester')).map((p) => stopTracked(p.inst)));
    await stopTracked(redis);
    log(`  cluster: stopped in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

/** The redis-server PID behind the helper (it does not expose it: find the child listening as `redis-server`). */
function redisServerPid(redis) {
  // tests/helpers/redis.ts spawns redis-server directly from this process: look among our children.
  try {
    const kids = fs
      .readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    for (const k of kids) {
      // redis-server rewrites its title: cmdline reads "/usr/bin/redis-server 127.0.0.1:PORT".
      const cmd = fs.readFileSync(`/proc/${k}/cmdline`, 'utf8');
      if (cmd.includes('redis-server') && new RegExp(`[: ]${redis.port}\\b`).test(cmd)) return k;
    }
  } catch {
    // not found
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// CPU profiles

/**
 * Self time by function and by area (package) of a V8 .cpuprofile, counting only the samples taken
 * inside `windowsUs` ([start, end] µs of CLOCK_MONOTONIC, V8's profile clock on Linux) if given.
 */
function summarizeCpuProfile(file, windowsUs, n = 20) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((nd) => [nd.id, nd]));
  const dts = prof.timeDeltas ?? [];
  const self = new Map();
  const areas = new Map();
  let total = 0;
  let idle = 0;
  let t = prof.startTime;
  let w = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    t += dts[i] ?? 0;
    const nd = byId.get(prof.samples[i]);
    const dt = (dts[i + 1] ?? dts[i] ?? 0) / 1000;
    if (!nd) continue;
    if (windowsUs?.length) {
      while (w < windowsUs.length && t > windowsUs[w][1]) w++;
      if (w >= windowsUs.length || t < windowsUs[w][0]) continue;
    }
    total += dt;
    const cf = nd.callFrame;
    if (cf.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    const url = cf.url.replace(/^file:\/\//, '');
    const where = url ? `${path.relative(ROOT, url)}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'}\t${where}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    const area = areaOf(url, cf.functionName);
    areas.set(area, (areas.get(area) ?? 0) + dt);
  }
  const busy = total - idle;
  const pct = (ms) => Math.round((1000 * ms) / busy) / 10;
  return {
    file,
    busyMs: Math.round(busy),
    totalMs: Math.round(total),
    top: [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, ms]) => {
        const [fn, where] = k.split('\t');
        return { fn, where, ms: Math.round(ms), pct: pct(ms) };
      }),
    areas: [...areas.entries()].sort((a, b) => b[1] - a[1]).map(([area, ms]) => ({ area, ms: Math.round(ms), pct: pct(ms) })),
  };
}

function areaOf(url, fn) {
  if (!url) return fn || '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  const pkg = /packages\/([^/]+)\//.exec(url);
  if (pkg) return `@strata/${pkg[1]}`;
  return path.relative(ROOT, url);
}

function reportProfiles(ctx, results, log) {
  const out = {};
  for (const role of ctx.cpuProf) {
    const dir = path.join(ctx.root, `cpu-prof-${role}`);
    const files = fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .filter((x) => x.endsWith('.cpuprofile'))
          .map((x) => path.join(dir, x))
          .sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)
      : [];
    if (!files.length) {
      log(`${role}: no CPU profile in ${dir}`);
      continue;
    }
    const keep = path.join(os.tmpdir(), `cluster-bench-${role}-${Date.now()}.cpuprofile`);
    fs.copyFileSync(files[0], keep);
    const windows = (role === 'all' ? results.all : results.cluster)?.timedWindowsUs;
    const s = summarizeCpuProfile(keep, windows);
    out[role] = s;
    log(
      `${role}: CPU profile ${keep}; ${windows ? 'timed windows only' : 'whole run'}: ` +
        `busy ${(s.busyMs / 1000).toFixed(1)} s of ${(s.totalMs / 1000).toFixed(1)} s`,
    );
    log(`  by area: ${s.areas.slice(0, 10).map((a) => `${a.area} ${a.pct}%`).join(', ')}`);
    for (const t of s.top) log(`  ${String(t.pct).padStart(5)}%  ${t.fn}  ${t.where}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Output

function round(x, d) {
  const m = 10 ** d;
  return Math.round(x * m) / m;
}

const MB = 2 ** 20;
const ROWS = [
  ['accepted samples/s', (r) => r.acceptedSamplesPerSec, (x) => x.toLocaleString('en-US')],
  ['push latency p50 ms', (r) => r.latencyMs.p50, (x) => x.toFixed(1)],
  ['push latency p99 ms', (r) => r.latencyMs.p99, (x) => x.toFixed(1)],
  ['push latency max ms', (r) => r.latencyMs.max, (x) => x.toFixed(1)],
  ['requests / non-2xx', (r) => `${r.requests} / ${r.non2xxCount + (r.warmup?.non2xxCount ?? 0)}`, (x) => x, false],
  ['CPU s per 1M samples (all processes)', (r) => r.cpuSecondsPerMillionSamples, (x) => x.toFixed(2)],
  ['RSS total MiB (after)', (r) => r.rssBytesTotal / MB, (x) => x.toFixed(0)],
  ['RSS total MiB (idle, before warm-up)', (r) => r.rssBytesTotalBefore / MB, (x) => x.toFixed(0)],
  ['warm-up s (series creation)', (r) => r.warmup?.seconds, (x) => x.toFixed(2)],
  ['machine CPU busy % (timed)', (r) => r.machineBusyPct, (x) => x.toFixed(0), false],
  ['load-gen CPU s (timed)', (r) => r.loadGenCpuSecondsTimed, (x) => x.toFixed(2), false],
  ['other CPU s on the machine (timed)', (r) => r.otherCpuSecondsTimed, (x) => x.toFixed(2), false],
  ['count({job="bench"})', (r) => r.check?.count, (x) => String(x), false],
];

function mdTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(3, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

function table(all, cluster, f) {
  const cell = (r, get, fmt) => {
    if (!r) return '—';
    if (r.error) return 'failed';
    const v = get(r);
    return v === null || v === undefined || Number.isNaN(v) ? 'n/a' : fmt(v);
  };
  const rows = [['', '-target=all', `${f.distributors} distributors → ${f.ingesters} ingesters (RF ${f.rf})`, 'cluster/all']];
  for (const [label, get, fmt, ratio = true] of ROWS) {
    let q = '';
    if (ratio && all && cluster && !all.error && !cluster.error) {
      const a = get(all);
      const b = get(cluster);
      if (typeof a === 'number' && typeof b === 'number' && a !== 0) q = `${(b / a).toFixed(2)}×`;
    }
    rows.push([label, cell(all, get, fmt), cell(cluster, get, fmt), q]);
  }
  return mdTable(rows);
}

function breakdown(r) {
  if (!r || r.error) return '';
  return r.processes
    .map((p) => `${p.role} ${p.cpuSecondsTimed.toFixed(1)} CPU s, ${(p.rssBytesAfter / MB).toFixed(0)} MiB`)
    .join('; ');
}

const USAGE = `usage: node tests/bench/cluster-bench.js [--series 100000] [--rounds 10] [--series-per-request 2000]
  [--concurrency 8] [--tenant bench] [--setups all,cluster] [--distributors 2] [--ingesters 3]
  [--replication-factor 3] [--timeout-ms 60000] [--prebuild-mb 1024] [--strata-arg=-flag=value]...
  [--cpu-prof ROLE[,ROLE]] [--wait-idle 600] [--keep-dirs] [--out FILE] [--json]`;

function intFlag(f, name, def, min, max) {
  const v = f[name] === undefined ? def : Number(f[name]);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`--${name} must be an integer in ${min}..${max}`);
  return v;
}

async function main() {
  const raw = parseFlags(process.argv.slice(2), { booleans: ['keep-dirs', 'json', 'help'], repeated: ['strata-arg'] });
  if (raw.help) {
    console.log(USAGE);
    return;
  }
  const f = {
    series: intFlag(raw, 'series', 100_000, 1, 10_000_000),
    rounds: intFlag(raw, 'rounds', 10, 1, 400),
    seriesPerRequest: intFlag(raw, 'series-per-request', 2000, 1, 1_000_000),
    concurrency: intFlag(raw, 'concurrency', 8, 1, 1000),
    distributors: intFlag(raw, 'distributors', 2, 1, 16),
    ingesters: intFlag(raw, 'ingesters', 3, 1, 16),
    rf: intFlag(raw, 'replication-factor', 3, 1, 16),
    timeoutMs: intFlag(raw, 'timeout-ms', 60_000, 1000, 600_000),
    prebuildMb: intFlag(raw, 'prebuild-mb', 1024, 0, 65_536),
    tenant: raw.tenant ?? 'bench',
    setups: String(raw.setups ?? 'all,cluster').split(','),
    waitIdle: intFlag(raw, 'wait-idle', 600, 0, 3600),
  };
  for (const s of f.setups) if (!['all', 'cluster'].includes(s)) throw new Error(`--setups: unknown setup ${s}`);
  const log = raw.json ? () => {} : (m) => console.log(m);
  const bin = STRATA_BIN;
  if (!strataInstalled(bin)) throw new Error(`${bin} not found`);
  // Build once up front (bin/strata would otherwise run tsc in several processes at once).
  execFileSync(path.join(ROOT, 'node_modules/.bin/tsc'), ['-b', 'packages/server'], { cwd: ROOT, stdio: 'inherit' });

  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-cluster-bench-'));
  runRoot = root;
  keepRoot = !!raw['keep-dirs'];
  const ctx = {
    root,
    bin,
    extraArgs: raw['strata-arg'] ?? [],
    cpuProf: new Set(raw['cpu-prof'] ? String(raw['cpu-prof']).split(',') : []),
  };
  const results = {};
  try {
    log(`== ${f.series.toLocaleString('en-US')} series, ${f.seriesPerRequest}/request, concurrency ${f.concurrency}, ${f.rounds} timed rounds ==`);
    const workload = new Workload({ series: f.series, seriesPerRequest: f.seriesPerRequest });
    log(`labels encoded in ${workload.labelSeconds.toFixed(1)} s`);
    const prebuilt = prebuildRounds(workload, f.rounds, f.prebuildMb, log);
    const busyBefore = f.waitIdle > 0 ? await waitIdle(f.waitIdle, log) : undefined;
    for (const s of f.setups) {
      try {
        results[s] = s === 'all' ? await benchAll(workload, prebuilt, f, ctx, log) : await benchCluster(workload, prebuilt, f, ctx, log);
      } catch (err) {
        log(`${s}: FAILED — ${err.stack || err.message}`);
        results[s] = { setup: s, error: err.message.split('\n')[0], detail: err.message };
        process.exitCode = 1;
      }
    }
    const profiles = ctx.cpuProf.size ? reportProfiles(ctx, results, log) : undefined;
    const summary = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      options: f,
      machineBusyBefore: busyBefore,
      results,
      profiles,
    };
    if (raw.out) fs.writeFileSync(raw.out, JSON.stringify(summary, null, 2));
    if (raw.json) console.log(JSON.stringify(summary));
    else {
      console.log('');
      console.log(table(results.all, results.cluster, f));
      for (const s of f.setups) console.log(`\n${s}: ${breakdown(results[s])}`);
      const a = results.all?.check;
      const c = results.cluster?.check;
      if (a && c) console.log(`\ncheck: all ${JSON.stringify(a)}, cluster ${JSON.stringify(c)}; sums ${a.sum === c.sum ? 'equal' : 'DIFFER'}`);
      if (raw.out) console.log(`\nJSON written to ${raw.out}`);
    }
    for (const r of Object.values(results)) {
      if (r.error || r.non2xxCount > 0 || r.check?.count !== f.series) process.exitCode = 1;
    }
  } finally {
    await stopAll();
    removeRoot();
    if (keepRoot) log(`kept ${root}`);
  }
}

main().catch(async (err) => {
  console.error(err.stack || String(err));
  process.exitCode = 1;
  await stopAll();
});
