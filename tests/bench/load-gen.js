#!/usr/bin/env node
'use strict';
/**
 * Remote-write load generator (k6-style series shape, pre-encoded requests).
 *
 *   node tests/bench/load-gen.js --url http://127.0.0.1:9009/api/v1/push --tenant bench \
 *     [--series 100000] [--series-per-request 2000] [--concurrency 8] [--rounds 10 | --duration 60] \
 *     [--basic-auth user:pass] [--interval 15] [--start-offset 7200] [--prebuild-mb 1024] [--no-warmup] [--json]
 *   Several push URLs (--url repeated, or comma-separated) get the requests round-robin.
 *
 * Series `id` in [0, series) has the labels
 *   __name__=bench_metric_<floor(id/1000)>, cardinality_1e1..1e4=floor(id/10^k), instance=load-gen-<floor(id/2000)>:9100,
 *   job=bench, series_id=<id>
 * and a counter value that grows by 0..9 per round, so XOR chunks compress like real counters.
 *
 * A round gives every series one sample at the same timestamp. Virtual time starts at
 * now - start-offset (default 2 h, aligned to the interval) and advances one interval (15 s) per
 * round, so the run is not limited by the wall clock; rounds stop before the timestamp would pass
 * now + 5 min. Request i of a round carries series [i*S, (i+1)*S), one sample each; requests of a
 * round go out with `concurrency` in flight, and round r+1 starts only after round r has finished
 * (keeps every series in order for the receiver).
 *
 * Round 0 is the warm-up that creates every series; it is not timed. The timed phase is rounds
 * 1..N and its clock only runs while requests are in flight:
 *   - "prebuilt" mode (used when the compressed bodies of all rounds fit in --prebuild-mb): every
 *     round is encoded (protobuf + snappy) before the warm-up, so nothing is encoded while sending.
 *   - "per-round" mode (otherwise, and always with --duration): round r is encoded in a pre-pass
 *     right before it is sent, with the clock stopped; the generator never encodes while requests
 *     are in flight (it would steal CPU from the server on a 2-core machine).
 * Accepted samples/s = samples in 2xx responses / summed in-flight time of the timed rounds.
 *
 * Programmatic use (tests/bench/run-bench.js): `new Workload(opts)`, `runLoad(workload, target, opts, hooks)`.
 */
require('./register-ts');
const http = require('node:http');
const { WriteRequestEncoder, encodeLabels, snappyCompress } = require('../helpers/remote-write');

const DEFAULTS = {
  series: 100_000,
  seriesPerRequest: 2000,
  concurrency: 8,
  rounds: undefined,
  duration: undefined,
  intervalSec: 15,
  startOffsetSec: 7200,
  prebuildMb: 1024,
  timeoutMs: 60_000,
  warmup: true,
  maxRounds: 100_000,
};

/** The series set, its label bytes encoded once, and the counter state. */
class Workload {
  constructor(opts = {}) {
    this.series = opts.series ?? DEFAULTS.series;
    this.seriesPerRequest = opts.seriesPerRequest ?? DEFAULTS.seriesPerRequest;
    this.intervalMs = (opts.intervalSec ?? DEFAULTS.intervalSec) * 1000;
    const startOffsetMs = (opts.startOffsetSec ?? DEFAULTS.startOffsetSec) * 1000;
    this.startMs = opts.startMs ?? Math.floor((Date.now() - startOffsetMs) / this.intervalMs) * this.intervalMs;
    this.requestsPerRound = Math.ceil(this.series / this.seriesPerRequest);

    const t0 = process.hrtime.bigint();
    // All label fields in one buffer; series id's labels are labelBytes[offsets[id], offsets[id+1]).
    let cap = this.series * 220 + 1024;
    let buf = Buffer.allocUnsafe(cap);
    const offsets = new Uint32Array(this.series + 1);
    let pos = 0;
    for (let id = 0; id < this.series; id++) {
      const enc = encodeLabels(seriesLabels(id));
      if (pos + enc.length > cap) {
        cap *= 2;
        const next = Buffer.allocUnsafe(cap);
        buf.copy(next, 0, 0, pos);
        buf = next;
      }
      enc.copy(buf, pos);
      pos += enc.length;
      offsets[id + 1] = pos;
    }
    this.labelBytes = buf.subarray(0, pos);
    this.offsets = offsets;
    this.values = new Float64Array(this.series);
    this.nextRound = 0;
    this.encoder = new WriteRequestEncoder(this.seriesPerRequest * 300);
    this.labelSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  }

  /** Timestamp (ms) of round r. */
  roundTime(r) {
    return this.startMs + r * this.intervalMs;
  }

  /** Restarts the counters at round 0 (to replay the same rounds to another server). */
  reset() {
    this.values.fill(0);
    this.nextRound = 0;
  }

  /**
   * Encodes round r (must be the next one: counters are stateful) into snappy bodies.
   * Returns {round, t, requests: [{body, samples}], rawBytes, compressedBytes, seconds}.
   */
  encodeRound(r) {
    if (r !== this.nextRound) throw new Error(`encodeRound(${r}): next round is ${this.nextRound}`);
    const t0 = process.hrtime.bigint();
    const t = this.roundTime(r);
    const { values, offsets, labelBytes, encoder } = this;
    const requests = [];
    let rawBytes = 0;
    let compressedBytes = 0;
    for (let from = 0; from < this.series; from += this.seriesPerRequest) {
      const to = Math.min(this.series, from + this.seriesPerRequest);
      for (let id = from; id < to; id++) {
        if (r > 0) values[id] += counterIncrement(id, r);
        encoder.addSeriesSample(labelBytes, offsets[id], offsets[id + 1], t, values[id]);
      }
      const raw = encoder.finish();
      const body = snappyCompress(raw);
      rawBytes += raw.length;
      compressedBytes += body.length;
      requests.push({ body, samples: to - from });
    }
    this.nextRound = r + 1;
    return { round: r, t, requests, rawBytes, compressedBytes, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
  }
}

/** Labels of series `id`, sorted by name. */
function seriesLabels(id) {
  return [
    { name: '__name__', value: `bench_metric_${Math.floor(id / 1000)}` },
    { name: 'cardinality_1e1', value: String(Math.floor(id / 10)) },
    { name: 'cardinality_1e2', value: String(Math.floor(id / 100)) },
    { name: 'cardinality_1e3', value: String(Math.floor(id / 1000)) },
    { name: 'cardinality_1e4', value: String(Math.floor(id / 10000)) },
    { name: 'instance', value: `load-gen-${Math.floor(id / 2000)}:9100` },
    { name: 'job', value: 'bench' },
    { name: 'series_id', value: String(id) },
  ];
}

/** Deterministic 0..9 increment of series id in round r. */
function counterIncrement(id, r) {
  let h = Math.imul(id ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(r, 0xc2b2ae35);
  h ^= h >>> 13;
  h = Math.imul(h, 0x27d4eb2f);
  h ^= h >>> 16;
  return (h >>> 0) % 10;
}

/** Remote-write headers for a target {tenant?, basicAuth?: 'user:pass' | {user, pass}, headers?}. */
function targetHeaders(target) {
  const h = {
    'Content-Encoding': 'snappy',
    'Content-Type': 'application/x-protobuf',
    'User-Agent': 'strata-load-gen/0.1',
    'X-Prometheus-Remote-Write-Version': '0.1.0',
  };
  if (target.tenant) h['X-Scope-OrgID'] = target.tenant;
  if (target.basicAuth) {
    const ba = typeof target.basicAuth === 'string' ? target.basicAuth : `${target.basicAuth.user}:${target.basicAuth.pass}`;
    h.Authorization = `Basic ${Buffer.from(ba).toString('base64')}`;
  }
  return Object.assign(h, target.headers);
}

function postOnce(url, headers, body, agent, timeoutMs) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const done = (status, errBody) => resolve({ status, ms: Number(process.hrtime.bigint() - start) / 1e6, errBody });
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'Content-Length': body.length } }, (res) => {
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      const chunks = [];
      let size = 0;
      res.on('data', (c) => {
        if (!ok && size < 512) {
          chunks.push(c);
          size += c.length;
        }
      });
      res.on('end', () => done(res.statusCode, ok ? undefined : Buffer.concat(chunks).toString('utf8').slice(0, 300)));
      res.on('error', (e) => done('error', e.message));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', (e) => done(e.message.startsWith('timeout') ? 'timeout' : 'error', e.message));
    req.end(body);
  });
}

/**
 * The push URLs of a target: `target.urls` (array) or `target.url` (a string, possibly
 * comma-separated, or an array). Several URLs are used round-robin, request by request.
 */
function targetUrls(target) {
  const u = target.urls ?? target.url;
  const list = (Array.isArray(u) ? u : [u]).flatMap((x) => String(x).split(',')).map((x) => x.trim()).filter(Boolean);
  if (list.length === 0) throw new Error('target: no url');
  return list;
}

/**
 * Sends one encoded round with `concurrency` requests in flight; resolves when all are answered.
 * `url` is one URL, or a picker `() => url` (round-robin over several push URLs).
 */
async function sendRound(encoded, url, headers, agent, concurrency, timeoutMs, stats) {
  let next = 0;
  const pick = typeof url === 'function' ? url : () => url;
  const start = process.hrtime.bigint();
  const worker = async () => {
    while (next < encoded.requests.length) {
      const req = encoded.requests[next++];
      const u = pick();
      const res = await postOnce(u, headers, req.body, agent, timeoutMs);
      if (stats.perUrl) {
        const pu = (stats.perUrl[u] ??= { requests: 0, non2xx: 0 });
        pu.requests++;
        if (!(typeof res.status === 'number' && res.status >= 200 && res.status < 300)) pu.non2xx++;
      }
      stats.requests++;
      stats.samplesSent += req.samples;
      stats.latenciesMs.push(res.ms);
      stats.statusCounts[res.status] = (stats.statusCounts[res.status] ?? 0) + 1;
      if (typeof res.status === 'number' && res.status >= 200 && res.status < 300) stats.samplesAccepted += req.samples;
      else if (!(res.status in stats.firstErrors)) stats.firstErrors[res.status] = res.errBody;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, encoded.requests.length) }, worker));
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function newStats(perUrl = false) {
  const s = { requests: 0, samplesSent: 0, samplesAccepted: 0, latenciesMs: [], statusCounts: {}, firstErrors: {}, seconds: 0 };
  if (perUrl) s.perUrl = {};
  return s;
}

function percentile(sorted, p) {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summarize(stats) {
  const sorted = Float64Array.from(stats.latenciesMs).sort();
  const non2xx = {};
  for (const [k, v] of Object.entries(stats.statusCounts)) if (!(Number(k) >= 200 && Number(k) < 300)) non2xx[k] = v;
  return {
    requests: stats.requests,
    samplesSent: stats.samplesSent,
    samplesAccepted: stats.samplesAccepted,
    seconds: round3(stats.seconds),
    acceptedSamplesPerSec: stats.seconds > 0 ? Math.round(stats.samplesAccepted / stats.seconds) : 0,
    statusCounts: stats.statusCounts,
    non2xx,
    non2xxCount: Object.values(non2xx).reduce((a, b) => a + b, 0),
    firstErrors: stats.firstErrors,
    latencyMs: {
      p50: round3(percentile(sorted, 50)),
      p90: round3(percentile(sorted, 90)),
      p99: round3(percentile(sorted, 99)),
      max: round3(sorted.length ? sorted[sorted.length - 1] : 0),
    },
    ...(stats.perUrl ? { perUrl: stats.perUrl } : {}),
  };
}

function round3(x) {
  return Math.round(x * 1000) / 1000;
}

/**
 * Runs the warm-up round and the timed rounds against one target.
 *   target: {url, tenant?, basicAuth?, headers?} — `url` may also be an array or a comma-separated
 *           list (or give `urls`): requests then go to the URLs round-robin, and the result has
 *           per-URL request and non-2xx counts in `perUrl`.
 *   opts:   {rounds?, duration?, concurrency, timeoutMs, warmup, prebuildMb, maxRounds, log?}
 *   hooks:  {beforeTimed?(), afterTimed?(), beforeRound?(r), afterRound?(r)} — before/afterTimed
 *           bracket every in-flight window of the timed phase (once per round), so a caller can
 *           sum a server's CPU over exactly the time the clock runs.
 * Also accepts `prebuilt` (the result of prebuildRounds) to reuse encoded rounds across targets.
 */
async function runLoad(workload, target, opts = {}, hooks = {}) {
  const o = { ...DEFAULTS, ...definedOnly(opts) };
  const log = o.log ?? (() => {});
  const headers = targetHeaders(target);
  const urls = targetUrls(target);
  let rr = 0;
  const url = urls.length === 1 ? urls[0] : () => urls[rr++ % urls.length];
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  const encodeStats = { mode: 'per-round', seconds: 0, rawBytes: 0, compressedBytes: 0, rounds: 0 };
  let prebuilt = opts.prebuilt;
  if (!prebuilt && o.rounds !== undefined && o.duration === undefined) prebuilt = prebuildRounds(workload, o.rounds, o.prebuildMb, log);
  if (prebuilt) encodeStats.mode = 'prebuilt';
  else workload.reset();

  const getRound = (r) => {
    if (prebuilt) return prebuilt.rounds[r];
    const e = workload.encodeRound(r);
    encodeStats.seconds += e.seconds;
    encodeStats.rawBytes += e.rawBytes;
    encodeStats.compressedBytes += e.compressedBytes;
    encodeStats.rounds++;
    return e;
  };
  if (prebuilt) Object.assign(encodeStats, { seconds: prebuilt.seconds, rawBytes: prebuilt.rawBytes, compressedBytes: prebuilt.compressedBytes, rounds: prebuilt.rounds.length });

  const maxT = Date.now() + 5 * 60_000;
  try {
    const warm = newStats(urls.length > 1);
    const round0 = getRound(0);
    if (o.warmup) {
      hooks.beforeRound?.(0);
      warm.seconds = await sendRound(round0, url, headers, agent, o.concurrency, o.timeoutMs, warm);
      hooks.afterRound?.(0);
      log(`warm-up: ${warm.samplesAccepted}/${warm.samplesSent} samples accepted in ${warm.seconds.toFixed(2)} s`);
    }

    const timed = newStats(urls.length > 1);
    const limit = o.duration === undefined ? Math.min(o.rounds ?? 10, o.maxRounds) : o.maxRounds;
    let r = 1;
    for (; r <= limit; r++) {
      if (o.duration !== undefined && timed.seconds >= o.duration) break;
      if (workload.roundTime(r) > maxT) {
        log(`stopping before round ${r}: its timestamp would pass now+5m (raise --start-offset)`);
        break;
      }
      const enc = getRound(r);
      if (!enc) break;
      hooks.beforeRound?.(r);
      hooks.beforeTimed?.();
      timed.seconds += await sendRound(enc, url, headers, agent, o.concurrency, o.timeoutMs, timed);
      hooks.afterTimed?.();
      hooks.afterRound?.(r);
    }
    return {
      target: urls.join(','),
      series: workload.series,
      seriesPerRequest: workload.seriesPerRequest,
      concurrency: o.concurrency,
      timedRounds: r - 1,
      encode: { ...encodeStats, seconds: round3(encodeStats.seconds) },
      warmup: o.warmup ? summarize(warm) : undefined,
      ...summarize(timed),
    };
  } finally {
    agent.destroy();
  }
}

/**
 * Encodes rounds 0..rounds up front if their bodies fit in `budgetMb` (judged from round 0);
 * returns undefined (→ per-round mode) if they do not.
 */
function prebuildRounds(workload, rounds, budgetMb, log = () => {}) {
  workload.reset();
  const first = workload.encodeRound(0);
  const estimate = first.compressedBytes * (rounds + 1);
  if (estimate > budgetMb * 1024 * 1024) {
    log(`not pre-building: ${rounds + 1} rounds ≈ ${(estimate / 2 ** 20).toFixed(0)} MiB > --prebuild-mb ${budgetMb}; encoding per round`);
    workload.reset();
    return undefined;
  }
  const out = { rounds: [first], seconds: first.seconds, rawBytes: first.rawBytes, compressedBytes: first.compressedBytes };
  for (let r = 1; r <= rounds; r++) {
    const e = workload.encodeRound(r);
    out.rounds.push(e);
    out.seconds += e.seconds;
    out.rawBytes += e.rawBytes;
    out.compressedBytes += e.compressedBytes;
  }
  log(
    `pre-built ${rounds + 1} rounds × ${workload.requestsPerRound} requests: ${(out.rawBytes / 2 ** 20).toFixed(1)} MiB raw, ` +
      `${(out.compressedBytes / 2 ** 20).toFixed(1)} MiB snappy, ${out.seconds.toFixed(1)} s`,
  );
  return out;
}

function definedOnly(o) {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function formatResult(res) {
  const lines = [
    `target ${res.target}: ${res.series} series, ${res.seriesPerRequest}/request, concurrency ${res.concurrency}, ` +
      `${res.timedRounds} timed rounds (encoding: ${res.encode.mode})`,
    `  accepted ${res.acceptedSamplesPerSec.toLocaleString('en-US')} samples/s ` +
      `(${res.samplesAccepted}/${res.samplesSent} samples in ${res.seconds} s in flight)`,
    `  requests ${res.requests}, non-2xx ${res.non2xxCount}${res.non2xxCount ? ' ' + JSON.stringify(res.non2xx) : ''}`,
    `  latency p50 ${res.latencyMs.p50} ms, p90 ${res.latencyMs.p90} ms, p99 ${res.latencyMs.p99} ms, max ${res.latencyMs.max} ms`,
  ];
  for (const [u, c] of Object.entries(res.perUrl ?? {})) lines.push(`  ${u}: ${c.requests} requests, ${c.non2xx} non-2xx`);
  for (const [status, body] of Object.entries(res.firstErrors)) lines.push(`  first ${status} answer: ${body}`);
  return lines.join('\n');
}

/** Minimal flag parser: --name value | --name=value | --flag | --no-flag. Repeated flags collect. */
function parseFlags(argv, { booleans = [], repeated = [] } = {}) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    let [k, v] = a.slice(2).split(/=(.*)/s, 2);
    if (v === undefined) {
      if (booleans.includes(k)) v = 'true';
      else if (k.startsWith('no-') && booleans.includes(k.slice(3))) {
        k = k.slice(3);
        v = 'false';
      } else {
        v = argv[++i];
        if (v === undefined) throw new Error(`--${k} needs a value`);
      }
    }
    if (repeated.includes(k)) (out[k] ??= []).push(v);
    else out[k] = v;
  }
  return out;
}

function num(v, name) {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: not a number: ${v}`);
  return n;
}

const USAGE = `usage: node tests/bench/load-gen.js --url URL[,URL…] [--url URL]… [--tenant T] [--basic-auth user:pass]
  [--series 100000] [--series-per-request 2000] [--concurrency 8] [--rounds N | --duration SECONDS]
  [--interval 15] [--start-offset 7200] [--prebuild-mb 1024] [--timeout-ms 60000] [--no-warmup] [--json]
  (default: --rounds 10)`;

async function main() {
  const f = parseFlags(process.argv.slice(2), { booleans: ['warmup', 'json', 'help'], repeated: ['url'] });
  if (f.help || !f.url) {
    console.error(USAGE);
    process.exitCode = f.help ? 0 : 2;
    return;
  }
  const urls = targetUrls({ url: f.url });
  for (const u of urls) {
    const url = new URL(u);
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) throw new Error(`--url must be a loopback address, got ${url.hostname}`);
  }
  const duration = num(f.duration, 'duration');
  const opts = {
    series: num(f.series, 'series'),
    seriesPerRequest: num(f['series-per-request'], 'series-per-request'),
    concurrency: num(f.concurrency, 'concurrency'),
    rounds: num(f.rounds, 'rounds') ?? (duration === undefined ? 10 : undefined),
    duration,
    intervalSec: num(f.interval, 'interval'),
    startOffsetSec: num(f['start-offset'], 'start-offset'),
    prebuildMb: num(f['prebuild-mb'], 'prebuild-mb'),
    timeoutMs: num(f['timeout-ms'], 'timeout-ms'),
    warmup: f.warmup !== 'false',
    log: f.json ? () => {} : (m) => console.log(m),
  };
  const workload = new Workload(definedOnly(opts));
  opts.log(`labels for ${workload.series} series encoded in ${workload.labelSeconds.toFixed(1)} s`);
  const res = await runLoad(workload, { url: urls, tenant: f.tenant, basicAuth: f['basic-auth'] }, opts);
  if (!f.json) console.log(formatResult(res));
  console.log(JSON.stringify(res));
  if (res.non2xxCount > 0) process.exitCode = 1;
}

module.exports = { Workload, runLoad, prebuildRounds, seriesLabels, counterIncrement, formatResult, parseFlags, summarize, targetUrls, DEFAULTS };

if (require.main === module) {
  main().catch((err) => {
    console.error(err.stack || String(err));
    process.exit(1);
  });
}
