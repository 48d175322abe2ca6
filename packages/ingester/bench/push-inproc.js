'use strict';
// In-process write-path benchmark: snappy decode + distributor validation + ingester append + WAL
// group commit, without HTTP. Needs a build (`npx tsc -b packages/server`).
// node packages/ingester/bench/push-inproc.js [series=100000] [rounds=10] [concurrency=8]
require('../../../tests/bench/register-ts.js');
const os = require('node:os');
const fs = require('node:fs');
const path = require('node:path');
const { uncompress } = require('snappyjs');
const { Overrides, createRegistry, defaultConfig, limitsFromConfig, nopLogger } = require('@strata/common');
const { Distributor } = require('../../distributor/lib/index.js');
const { Ingester } = require('../lib/index.js');
const { Workload } = require('../../../tests/bench/load-gen.js');

async function main() {
  const [series = 100000, rounds = 10, concurrency = 8] = process.argv.slice(2).map(Number);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'push-bench-'));
  const limits = { ...limitsFromConfig(defaultConfig()), ingestionRate: 1e12, ingestionBurstSize: 1e12, maxGlobalSeriesPerUser: 0 };
  const overrides = new Overrides(limits);
  const registry = createRegistry(false);
  const ing = new Ingester({ tsdbDir: dir, blockRange: 2 * 3600e3 }, { overrides, registry, logger: nopLogger() });
  await ing.start();
  const d = new Distributor({ maxRecvMsgSize: 100 << 20 }, { ingester: ing, overrides, registry, logger: nopLogger() });
  const w = new Workload({ series });
  const all = [];
  for (let r = 0; r <= rounds; r++) all.push(w.encodeRound(r).requests.map((q) => q.body));
  const run = async (bodies) => {
    let i = 0;
    const worker = async () => {
      while (i < bodies.length) {
        const body = bodies[i++];
        const out = await d.push('bench', uncompress(body));
        if (out.status !== 200) throw new Error(out.message);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  };
  let t = process.hrtime.bigint();
  await run(all[0]);
  const warm = Number(process.hrtime.bigint() - t) / 1e9;
  const rss0 = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  t = process.hrtime.bigint();
  for (let r = 1; r <= rounds; r++) await run(all[r]);
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  global.gc?.();
  const mem = process.memoryUsage();
  console.log(JSON.stringify({
    series, rounds, warmupSeconds: +warm.toFixed(2),
    samplesPerSec: Math.round((series * rounds) / secs),
    cpuSecPerMillion: +(((cpu.user + cpu.system) / 1e6) / ((series * rounds) / 1e6)).toFixed(2),
    rssBytes: mem.rss, heapUsed: mem.heapUsed, rssPerSeries: Math.round(mem.rss / series), rssAfterWarmup: rss0,
  }));
  await ing.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
main().catch((e) => { console.error(e); process.exit(1); });
