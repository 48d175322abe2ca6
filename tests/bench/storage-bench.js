#!/usr/bin/env node
'use strict';
/**
 * Storage benchmark: Strata vs Prometheus 2.42 (Debian) on the same remote-written data.
 *
 *   node tests/bench/storage-bench.js                    # defaults below, ~6–8 min on 2 cores
 *   node tests/bench/storage-bench.js --series 2000 --hours 4 --query-series 200 --query-hours 26 --runs 2   # smoke
 *
 * Options: --series 20000 --hours 4 --interval 15        (part a/b dataset)
 *          --query-series 2000 --query-hours 26 --query-step 60 --runs 5   (part c dataset and timing)
 *          --write-runs 5  --parts a,b,c  --tenant bench  --concurrency 4
 *          --cpu-prof (profile the Strata process that serves part c)  --keep-dirs  --out results.json  --json
 *
 * Workload: load-gen.js's k6-like series (bench_metric_<id/1000>, cardinality_1e1..1e4, instance,
 * job, series_id), counter-like values (+0..9 per sample), one sample per series every
 * --interval seconds, sent in time order (round r+1 only after every request of round r was
 * answered) through remote write: Prometheus on /api/v1/write (`--web.enable-remote-write-receiver`),
 * Strata on /api/v1/push. The data starts at a 2h boundary and runs `--hours` plus a tail of 1 h and
 * 2 intervals: Prometheus cuts a 2h block only once its head spans more than 3 h, so the tail makes
 * it write every full block of the measured range. Both systems write 2h blocks only (Prometheus
 * with --storage.tsdb.{min,max}-block-duration=2h; Strata with -blocks-storage.tsdb.block-ranges-period=2h,
 * head compaction every 1 s, the idle head forced into blocks after 10 s, shipping every 1 s).
 *
 * (a) Bytes per sample of the 2h blocks covering [start, start + hours): Prometheus's blocks in its
 *     data dir vs the blocks Strata shipped to its (filesystem) bucket. Whole block dirs (index,
 *     chunks, meta.json, tombstones) / numSamples from meta.json; also chunks/ only and index only.
 * (b) Strata block write time, in process (packages/tsdb-core/lib, the code the server runs): the
 *     first 2h block's data is appended to a tsdb-core Head exactly as the ingester does (untimed
 *     apart from the XOR-append figure), then `head.cutBlock()` (collect + sort by labels) and
 *     `writeBlock()` (chunk segments + index + meta.json, with fsyncs) are timed, median of
 *     --write-runs; plus writeBlock() alone rewriting the series read back from Strata's first
 *     shipped block. Prometheus's own "write block" durations (from its log, written while the
 *     ingest was running) are shown for scale.
 * (c) query_range latency over 24 h read from blocks: a second dataset (--query-series series over
 *     --query-hours + tail). Prometheus holds the queried range in 2h blocks (its head only has the
 *     tail); Strata is restarted on the same bucket with an empty -blocks-storage.tsdb.dir, so every
 *     sample comes from the bucket (head empty), with -querier.query-store-after=0. Queries run at
 *     step --query-step over [end - 24h, end - step], systems alternating run by run, 1 warm-up run,
 *     median of --runs; results are checked to be equal (series count, values within 1e-6).
 *
 * Everything runs on 127.0.0.1; every loop is bounded; servers are stopped at the end, on errors
 * and on SIGINT/SIGTERM.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseFlags, seriesLabels, counterIncrement } = require('./load-gen');
const C = require('./bench-common');

const { H, S, BLOCK_RANGE, iso, fmt, ratio, mdTable } = C;

const USAGE = `usage: node tests/bench/storage-bench.js [--series 20000] [--hours 4] [--interval 15]
  [--query-series 2000] [--query-hours 26] [--query-step 60] [--runs 5] [--write-runs 5]
  [--parts a,b,c] [--tenant bench] [--concurrency 4] [--cpu-prof] [--keep-dirs] [--out FILE] [--json]`;

// ---------------------------------------------------------------------------------------------
// (a)

function partA(ds) {
  const p = C.blockTotals(ds.prometheus.blocks);
  const s = C.blockTotals(ds.strata.blocks);
  const perBlock = ds.prometheus.blocks.map((pb) => {
    const sb = ds.strata.blocks.find((b) => b.minTime === pb.minTime);
    return { minTime: pb.minTime, prometheus: pb, strata: sb };
  });
  return { prometheus: p, strata: s, perBlock, samplesMatch: p.numSamples === s.numSamples && p.numSeries === s.numSeries };
}

// ---------------------------------------------------------------------------------------------
// (b)

async function partB(cfg, ds, f, log) {
  C.ensureBuilt();
  const core = C.tsdbCore();
  const { Head, writeBlock, Block, Matcher, MatchType, floatToBits, seriesKeyFromLabels, XorAppender, labelsFromObject } = core;
  const runs = C.flagNum(f, 'write-runs', 5);
  const mint = ds?.start ?? C.alignedStart(cfg.hours * H + C.tailMs(cfg.intervalMs));
  const maxt = mint + BLOCK_RANGE;
  const perSeries = BLOCK_RANGE / cfg.intervalMs;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-writebench-'));
  const out = { series: cfg.series, samplesPerSeries: perSeries, samples: cfg.series * perSeries, runs };
  try {
    // The same series and values as rounds 0..perSeries-1 of the ingested workload.
    const labels = [];
    for (let id = 0; id < cfg.series; id++) {
      const o = {};
      for (const l of seriesLabels(id)) o[l.name] = l.value;
      labels.push(labelsFromObject(o));
    }
    const bits = new Uint32Array(2);
    const hi = new Uint32Array(cfg.series * perSeries);
    const lo = new Uint32Array(cfg.series * perSeries);
    const vals = new Float64Array(cfg.series);
    for (let r = 0; r < perSeries; r++) {
      for (let id = 0; id < cfg.series; id++) {
        if (r > 0) vals[id] += counterIncrement(id, r);
        floatToBits(vals[id], bits);
        hi[id * perSeries + r] = bits[0];
        lo[id * perSeries + r] = bits[1];
      }
    }
    const cut = [];
    const write = [];
    const append = [];
    let sizes;
    for (let run = 0; run < runs; run++) {
      const head = new Head({ chunkRange: BLOCK_RANGE });
      const ms = [];
      for (let id = 0; id < cfg.series; id++) ms.push(head.create(seriesKeyFromLabels(labels[id]), labels[id]));
      // Appended round by round, as remote write delivers them.
      let t0 = process.hrtime.bigint();
      for (let r = 0; r < perSeries; r++) {
        const t = mint + r * cfg.intervalMs;
        for (let id = 0; id < cfg.series; id++) ms[id].append(t, hi[id * perSeries + r], lo[id * perSeries + r], BLOCK_RANGE);
      }
      append.push(Number(process.hrtime.bigint() - t0) / 1e6);
      head.updateTimes(mint, mint + (perSeries - 1) * cfg.intervalMs);
      t0 = process.hrtime.bigint();
      const series = head.cutBlock(mint, maxt);
      cut.push(Number(process.hrtime.bigint() - t0) / 1e6);
      t0 = process.hrtime.bigint();
      const meta = await writeBlock(tmp, series, { minTime: mint, maxTime: maxt, thanos: { labels: {}, resolution: 0, source: 'ingester' } });
      write.push(Number(process.hrtime.bigint() - t0) / 1e6);
      sizes = C.listBlocks(tmp)[0];
      if (meta.stats.numSamples !== out.samples) throw new Error(`wrote ${meta.stats.numSamples} samples, expected ${out.samples}`);
      fs.rmSync(path.join(tmp, meta.ulid), { recursive: true, force: true });
      log(`  [b] run ${run + 1}: append ${append.at(-1).toFixed(0)} ms, cutBlock ${cut.at(-1).toFixed(0)} ms, writeBlock ${write.at(-1).toFixed(0)} ms`);
    }
    const mS = out.samples / 1e6;
    out.appendMsMedian = C.median(append);
    out.cutMsMedian = C.median(cut);
    out.writeMsMedian = C.median(write);
    out.appendMsPerMillion = out.appendMsMedian / mS;
    out.cutMsPerMillion = out.cutMsMedian / mS;
    out.writeMsPerMillion = out.writeMsMedian / mS;
    out.cutWriteMsPerMillion = (out.cutMsMedian + out.writeMsMedian) / mS;
    out.blockBytes = sizes?.totalBytes;

    // writeBlock alone, rewriting the series of Strata's first shipped block.
    const shipped = ds?.strata?.blocks?.find((b) => b.minTime === mint);
    if (shipped) {
      const blk = await Block.open(shipped.dir);
      const series = await blk.select(mint, maxt - 1, [new Matcher(MatchType.RE, '__name__', '.+')]);
      await blk.close();
      // Detach chunk bytes from the reader's buffers.
      for (const s of series) for (const c of s.chunks) c.data = Uint8Array.from(c.data);
      const times = [];
      for (let run = 0; run < runs; run++) {
        const t0 = process.hrtime.bigint();
        const meta = await writeBlock(tmp, series, { minTime: mint, maxTime: maxt });
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
        fs.rmSync(path.join(tmp, meta.ulid), { recursive: true, force: true });
      }
      out.rewrite = { samples: shipped.numSamples, msMedian: C.median(times), msPerMillion: C.median(times) / (shipped.numSamples / 1e6) };
      out.sameBytesAsShipped = sizes ? sizes.chunkBytes === shipped.chunkBytes && sizes.indexBytes === shipped.indexBytes : undefined;
    }
    const pw = ds?.prometheus?.writeBlockLog?.filter((w) => w.mint >= mint && w.mint < ds.end);
    if (pw?.length) out.prometheusWriteBlockMs = pw.map((w) => Math.round(w.ms));
    // XorAppender alone: encode all samples into fresh chunks (120 samples max, as the head).
    {
      const t0 = process.hrtime.bigint();
      let n = 0;
      for (let id = 0; id < cfg.series; id++) {
        let app = new XorAppender();
        for (let r = 0; r < perSeries; r++) {
          if (r % 120 === 0) app = new XorAppender();
          app.append(mint + r * cfg.intervalMs, hi[id * perSeries + r], lo[id * perSeries + r]);
          n++;
        }
      }
      out.xorAppendMsPerMillion = Number(process.hrtime.bigint() - t0) / 1e6 / (n / 1e6);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// (c)

function partCQueries() {
  return [
    { name: 'sum(rate)', q: 'sum(rate(bench_metric_0[5m]))' },
    { name: 'sum by (cardinality_1e3)(rate)', q: 'sum by (cardinality_1e3) (rate({job="bench"}[5m]))' },
    { name: 'regex selector', q: '{__name__=~"bench_metric_1", series_id=~"10[0-4][0-9]"}' },
  ];
}

async function partC(cfg, f, log) {
  const runs = C.flagNum(f, 'runs', 5);
  const stepMs = C.flagNum(f, 'query-step', 60) * 1000;
  const ds = await C.loadDataset('c', { ...cfg, series: cfg.querySeries, hours: cfg.queryHours }, f, log, { keepPrometheus: true });
  const prom = ds.prometheusInstance;
  delete ds.prometheusInstance;
  let strata;
  const profDir = path.join(ds.strataDir, 'cpu-prof');
  try {
    strata = await C.startBucketOnlyStrata(ds, f['cpu-prof'] ? profDir : undefined);
    const targets = [C.queryTarget('prometheus', prom, cfg.tenant), C.queryTarget('strata', strata, cfg.tenant)];
    const end = ds.end - stepMs;
    const start = ds.end - 24 * H;
    log(`[c] query_range [${iso(start)}, ${iso(end)}] step ${stepMs / 1000}s, ${runs} runs (+1 warm-up), ${ds.series} series`);
    const results = [];
    for (const { name, q } of partCQueries()) {
      const r = await C.timeQuery(targets, q, start, end, stepMs, { runs, warmup: 1 });
      results.push({ name, query: q, ...r });
      log(
        `  ${q}: prometheus ${r.prometheus.medianMs.toFixed(1)} ms, strata ${r.strata.medianMs.toFixed(1)} ms ` +
          `(${ratio(r.strata.medianMs, r.prometheus.medianMs)}); ${r.strata.series} series; ` +
          `results ${C.describeCompare(r.compare)}`,
      );
    }
    return { dataset: { ...ds, prometheus: undefined, strata: undefined, promBlocks: ds.prometheus.blocks.length, strataBlocks: ds.strata.allBlocks }, start, end, stepMs, runs, results, profDir };
  } finally {
    await C.stopTracked(strata);
    await C.stopTracked(prom);
    if (f['cpu-prof']) partC.profile = C.reportCpuProfile(profDir, 'storage-bench-c', log);
    if (!f['keep-dirs']) fs.rmSync(ds.strataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const f = parseFlags(process.argv.slice(2), { booleans: ['keep-dirs', 'json', 'help', 'cpu-prof'] });
  if (f.help) {
    console.log(USAGE);
    return;
  }
  const log = f.json ? () => {} : (m) => console.log(m);
  const cfg = {
    series: C.flagNum(f, 'series', 20000),
    hours: C.flagNum(f, 'hours', 4),
    intervalMs: C.flagNum(f, 'interval', 15) * S,
    querySeries: C.flagNum(f, 'query-series', 2000),
    queryHours: C.flagNum(f, 'query-hours', 26),
    tenant: f.tenant ?? 'bench',
    concurrency: C.flagNum(f, 'concurrency', 4),
  };
  if (cfg.hours % 2 !== 0 || cfg.queryHours % 2 !== 0) throw new Error('--hours and --query-hours must be multiples of 2');
  if (cfg.queryHours < 24) throw new Error('--query-hours must be at least 24');
  const parts = new Set(String(f.parts ?? 'a,b,c').split(','));
  C.installSignalHandlers();
  C.ensureBuilt();
  const t0 = Date.now();
  const summary = { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cfg };
  const md = [];

  let ds;
  if (parts.has('a')) {
    ds = await C.loadDataset('a', cfg, f, log);
    try {
      const a = partA(ds);
      summary.a = { start: ds.start, end: ds.end, ...a, perBlock: a.perBlock.map((b) => ({ minTime: b.minTime, prometheus: strip(b.prometheus), strata: strip(b.strata) })) };
      summary.a.ingest = { prometheus: ds.prometheus.ingest, strata: ds.strata.ingest };
      const p = a.prometheus;
      const s = a.strata;
      md.push(
        `### (a) 2h blocks: ${cfg.series.toLocaleString('en-US')} series × ${cfg.hours} h at ${cfg.intervalMs / 1000}s ` +
          `(${p.blocks} blocks each, ${(p.numSamples / 1e6).toFixed(2)}M samples${a.samplesMatch ? ', same sample and series counts' : ', COUNTS DIFFER'})`,
        '',
        mdTable(
          ['', 'Prometheus 2.42', 'Strata', 'Strata/Prometheus'],
          [
            ['bytes/sample (block dirs)', fmt(p.bytesPerSample, 3), fmt(s.bytesPerSample, 3), ratio(s.bytesPerSample, p.bytesPerSample)],
            ['bytes/sample (chunks/ only)', fmt(p.chunkBytesPerSample, 3), fmt(s.chunkBytesPerSample, 3), ratio(s.chunkBytesPerSample, p.chunkBytesPerSample)],
            ['bytes/sample (index only)', fmt(p.indexBytesPerSample, 3), fmt(s.indexBytesPerSample, 3), ratio(s.indexBytesPerSample, p.indexBytesPerSample)],
            ['block bytes (sum)', p.totalBytes.toLocaleString('en-US'), s.totalBytes.toLocaleString('en-US'), ratio(s.totalBytes, p.totalBytes)],
            ['chunks (sum)', p.numChunks.toLocaleString('en-US'), s.numChunks.toLocaleString('en-US'), ratio(s.numChunks, p.numChunks)],
            ['remote-write ingest samples/s (info)', ds.prometheus.ingest.samplesPerSec.toLocaleString('en-US'), ds.strata.ingest.samplesPerSec.toLocaleString('en-US'), ratio(ds.strata.ingest.samplesPerSec, ds.prometheus.ingest.samplesPerSec)],
          ],
        ),
        '',
      );
      log(md.slice(-2).join('\n'));
      if (parts.has('b')) {
        const b = await partB(cfg, ds, f, log);
        summary.b = b;
        md.push(...partBMarkdown(b, cfg));
        log(md.slice(-2).join('\n'));
      }
    } finally {
      if (!f['keep-dirs']) fs.rmSync(ds.strataDir, { recursive: true, force: true });
    }
  } else if (parts.has('b')) {
    summary.b = await partB(cfg, undefined, f, log);
    md.push(...partBMarkdown(summary.b, cfg));
  }

  if (parts.has('c')) {
    const c = await partC(cfg, f, log);
    summary.c = { ...c, profile: partC.profile };
    const rows = c.results.map((r) => [
      `\`${r.query}\``,
      fmt(r.prometheus.medianMs, 1),
      fmt(r.strata.medianMs, 1),
      ratio(r.strata.medianMs, r.prometheus.medianMs),
      `${r.strata.series} / ${r.strata.points.toLocaleString('en-US')}`,
      `${C.describeCompare(r.compare)}${r.compare.ok ? ` (max rel diff ${r.compare.maxRelDiff.toExponential(1)})` : ''}`,
    ]);
    md.push(
      `### (c) query_range over 24 h from blocks: ${cfg.querySeries.toLocaleString('en-US')} series, step ${c.stepMs / 1000}s, median of ${c.runs} runs`,
      '',
      mdTable(['query', 'Prometheus ms', 'Strata ms', 'Strata/Prometheus', 'series / points', 'results'], rows),
      '',
    );
    log(md.slice(-2).join('\n'));
  }
  summary.wallSeconds = Math.round((Date.now() - t0) / 1000);
  if (f.out) fs.writeFileSync(f.out, JSON.stringify(summary, null, 2));
  if (f.json) console.log(JSON.stringify(summary));
  else {
    console.log(`\n== storage benchmark (${summary.wallSeconds} s) ==\n`);
    console.log(md.join('\n'));
  }
}

function strip(b) {
  if (!b) return b;
  const { dir, ...rest } = b;
  return rest;
}

function partBMarkdown(b, cfg) {
  const rows = [
    ['append into a Head (ingest path; not part of the block write)', fmt(b.appendMsMedian, 0), fmt(b.appendMsPerMillion, 1)],
    ['head.cutBlock (collect + sort by labels)', fmt(b.cutMsMedian, 0), fmt(b.cutMsPerMillion, 1)],
    ['writeBlock (chunks + index + meta, fsync)', fmt(b.writeMsMedian, 0), fmt(b.writeMsPerMillion, 1)],
    ['**cutBlock + writeBlock**', fmt(b.cutMsMedian + b.writeMsMedian, 0), `**${fmt(b.cutWriteMsPerMillion, 1)}**`],
  ];
  if (b.rewrite) rows.push(['writeBlock rewriting a shipped block read back', fmt(b.rewrite.msMedian, 0), fmt(b.rewrite.msPerMillion, 1)]);
  if (b.prometheusWriteBlockMs) {
    const med = C.median(b.prometheusWriteBlockMs);
    rows.push([`Prometheus "write block" (its log, during ingest; ${b.prometheusWriteBlockMs.join(', ')} ms)`, fmt(med, 0), fmt(med / (b.samples / 1e6), 1)]);
  }
  rows.push(['XorAppender alone (fresh chunks of 120)', '', fmt(b.xorAppendMsPerMillion, 1)]);
  return [
    `### (b) Strata block write, in process: one 2h block, ${cfg.series.toLocaleString('en-US')} series × ${b.samplesPerSeries} samples ` +
      `(${(b.samples / 1e6).toFixed(2)}M), median of ${b.runs}${b.sameBytesAsShipped === undefined ? '' : b.sameBytesAsShipped ? '; same bytes as the shipped block' : '; SIZE DIFFERS from the shipped block'}`,
    '',
    mdTable(['step', 'ms', 'ms per 1M samples'], rows),
    '',
  ];
}

main()
  .catch((err) => {
    console.error(err.stack || String(err));
    process.exitCode = 1;
  })
  .finally(() => C.stopAll());
