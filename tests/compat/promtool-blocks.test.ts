/**
 * Block format compatibility with Prometheus 2.42's promtool, both ways:
 * (a) a block written by our writer is listed, analyzed and dumped by promtool, and the dump
 *     matches what we wrote sample by sample;
 * (b) blocks created by `promtool tsdb create-blocks-from openmetrics` are read by our reader and
 *     hold exactly the samples of the OpenMetrics file.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import {
  Block,
  MatchType,
  Matcher,
  STALE_HI,
  STALE_LO,
  bitsToFloat,
  compareLabels,
  isULID,
  labelsFromObject,
  labelsKey,
  newULID,
  writeBlock,
  type Labels,
} from '@strata/tsdb-core';
import { bitsSample as sample, samplesOfChunks as samplesOf, xorChunksOf as chunksOf, type BitsSample as Sample } from '../helpers/xor-chunks';

jest.setTimeout(120_000);

const run = promisify(execFile);

function findPromtool(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, 'promtool');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function promtool(...args: string[]): Promise<string> {
  const bin = findPromtool();
  if (bin === undefined) {
    throw new Error(
      'promtool is not installed (Debian package "prometheus"); the test command installs it with ' +
        '`apt-get install -y --no-install-recommends prometheus`',
    );
  }
  try {
    const { stdout } = await run(bin, args, { maxBuffer: 256 * 1024 * 1024, timeout: 60_000, env: { ...process.env, TZ: 'UTC' } });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string; stdout?: string };
    throw new Error(`promtool ${args.join(' ')} failed: ${err.message}\nstderr: ${err.stderr ?? ''}\nstdout: ${(err.stdout ?? '').slice(0, 2000)}`);
  }
}

/** Go's %g formatting of special values, parsed back. */
function parseGoFloat(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  const v = Number(s);
  if (Number.isNaN(v)) throw new Error(`not a float: ${s}`);
  return v;
}

/** Parses `{a="x", b="y"}` as Prometheus' Labels.String() prints it (values Go-quoted). */
function parseLabelSet(s: string): Labels {
  const o: Record<string, string> = {};
  let i = 1;
  if (s[0] !== '{') throw new Error(`bad label set ${s}`);
  while (s[i] !== '}') {
    const eq = s.indexOf('=', i);
    const name = s.slice(i, eq);
    let j = eq + 2;
    while (s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
    o[name] = JSON.parse(s.slice(eq + 1, j + 1)) as string;
    i = j + 1;
    if (s.startsWith(', ', i)) i += 2;
  }
  return labelsFromObject(o);
}

/** `promtool tsdb dump` lines: `{labels} value timestamp`. */
function parseDump(out: string): Map<string, { labels: Labels; samples: { t: number; v: number }[] }> {
  const m = new Map<string, { labels: Labels; samples: { t: number; v: number }[] }>();
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const sp2 = line.lastIndexOf(' ');
    const sp1 = line.lastIndexOf(' ', sp2 - 1);
    const labels = parseLabelSet(line.slice(0, sp1));
    const key = labelsKey(labels);
    let e = m.get(key);
    if (e === undefined) m.set(key, (e = { labels, samples: [] }));
    e.samples.push({ v: parseGoFloat(line.slice(sp1 + 1, sp2)), t: Number(line.slice(sp2 + 1)) });
  }
  return m;
}

async function openBlocks(dir: string): Promise<Block[]> {
  const names = (await fsp.readdir(dir)).filter(isULID).sort();
  return Promise.all(names.map((n) => Block.open(path.join(dir, n))));
}

let tmp: string;
beforeAll(async () => {
  if (findPromtool() === undefined) {
    throw new Error('promtool is not installed: the test command installs it (apt-get install -y --no-install-recommends prometheus)');
  }
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'strata-promtool-'));
});
afterAll(async () => {
  if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
});

describe('promtool reads blocks written by Strata', () => {
  const T0 = 1700000000000;
  const STEP = 15000;
  const STALE_AT = 7;
  const series: { labels: Labels; samples: Sample[] }[] = [];
  const jobs = ['api', 'db', 'Ａ', '😀', 'straße', 'quote"and\\backslash'];
  for (let i = 0; i < 60; i++) {
    const labels = labelsFromObject({
      __name__: i % 2 === 0 ? 'strata_test_requests_total' : 'strata_test_temperature',
      job: jobs[i % jobs.length]!,
      instance: `host-${i}`,
      ...(i % 5 === 0 ? { zone: 'eu-1' } : {}),
    });
    // Some series have 400 samples (4 chunks); others fewer.
    const n = i % 4 === 0 ? 400 : 30 + i;
    const samples: Sample[] = [];
    for (let k = 0; k < n; k++) {
      const t = T0 + k * STEP + (k % 3) * 7; // irregular deltas exercise the dod encodings
      let s: Sample;
      if (k === STALE_AT) s = { t, hi: STALE_HI, lo: STALE_LO };
      else if (k === 3 && i % 3 === 0) s = sample(t, NaN);
      else if (k === 4 && i % 3 === 0) s = sample(t, Infinity);
      else if (k === 5 && i % 3 === 0) s = sample(t, -Infinity);
      else s = sample(t, i % 2 === 0 ? i * 1000 + k : Math.sin(k / 10) * 37.5 + i);
      samples.push(s);
    }
    series.push({ labels, samples });
  }
  series.sort((a, b) => compareLabels(a.labels, b.labels));
  const minTime = T0;
  const maxTime = Math.max(...series.map((s) => s.samples[s.samples.length - 1]!.t)) + 1;
  const numSamples = series.reduce((a, s) => a + s.samples.length, 0);
  const numChunks = series.reduce((a, s) => a + Math.ceil(s.samples.length / 120), 0);
  let dataDir: string;
  let ulid: string;

  beforeAll(async () => {
    dataDir = path.join(tmp, 'ours');
    await fsp.mkdir(path.join(dataDir, 'wal'), { recursive: true });
    ulid = newULID(T0);
    await writeBlock(dataDir, series.map((s) => ({ labels: s.labels, chunks: chunksOf(s.samples) })), {
      minTime,
      maxTime,
      ulid,
    });
    expect(numChunks).toBeGreaterThan(60);
  });

  test('tsdb list -r (and without -r)', async () => {
    const human = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('T', ' ').replace('.000Z', ' +0000 UTC');
    const out = await promtool('tsdb', 'list', '-r', dataDir);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/BLOCK ULID\s+MIN TIME\s+MAX TIME\s+DURATION\s+NUM SAMPLES\s+NUM CHUNKS\s+NUM SERIES\s+SIZE/);
    expect(lines).toHaveLength(2);
    const m = /^(\S+)\s+(\S+ \S+ \+0000 UTC)\s+(\S+ \S+ \+0000 UTC)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)$/.exec(lines[1]!.trim());
    expect(m).not.toBeNull();
    expect(m!.slice(1, 4)).toEqual([ulid, human(minTime), human(maxTime)]);
    expect(m!.slice(5, 8)).toEqual([String(numSamples), String(numChunks), String(series.length)]);

    const raw = (await promtool('tsdb', 'list', dataDir)).trim().split('\n');
    const cols = raw[1]!.trim().split(/\s+/);
    expect(cols.slice(0, 3)).toEqual([ulid, String(minTime), String(maxTime)]);
    expect(cols.slice(4, 7)).toEqual([String(numSamples), String(numChunks), String(series.length)]);
    // SIZE is the sum of the block's files.
    const files = ['index', 'meta.json', 'tombstones', ...(await fsp.readdir(path.join(dataDir, ulid, 'chunks'))).map((c) => `chunks/${c}`)];
    let size = 0;
    for (const f of files) size += (await fsp.stat(path.join(dataDir, ulid, f))).size;
    expect(Number(cols[7])).toBe(size);
  });

  test('tsdb analyze', async () => {
    const out = await promtool('tsdb', 'analyze', dataDir, ulid);
    expect(out).toContain(`Block ID: ${ulid}`);
    expect(out).toMatch(new RegExp(`Series: ${series.length}\\b`));
    // Label names: __name__, instance, job, zone.
    expect(out).toMatch(/Label names: 4\b/);
    // Unique label pairs: 2 names + 6 jobs + 60 instances + 1 zone.
    expect(out).toMatch(/Postings \(unique label pairs\): 69\b/);
    // Total label pairs: 3 per series + zone on 12.
    expect(out).toMatch(/Postings entries \(total label pairs\): 192\b/);
    expect(out).toContain('strata_test_requests_total');
  });

  test('tsdb analyze --extended reads every chunk', async () => {
    const out = await promtool('tsdb', 'analyze', '--extended', dataDir, ulid);
    expect(out).toContain(`Block ID: ${ulid}`);
    // The fullness histogram comes from the sample counts of the chunks: full 120-sample chunks exist.
    expect(out).toContain('Compaction analysis:');
    expect(out).toMatch(/ 100%: #+/);
  });

  test('tsdb dump matches sample by sample; exact bits through our reader', async () => {
    const out = await promtool('tsdb', 'dump', dataDir);
    const dumped = parseDump(out);
    expect(dumped.size).toBe(series.length);
    let staleSeen = 0;
    for (const s of series) {
      const d = dumped.get(labelsKey(s.labels));
      if (d === undefined) throw new Error(`series ${JSON.stringify(s.labels)} missing from the dump`);
      expect(d.samples.map((x) => x.t)).toEqual(s.samples.map((x) => x.t));
      for (let k = 0; k < s.samples.length; k++) {
        const want = bitsToFloat(s.samples[k]!.hi, s.samples[k]!.lo);
        const got = d.samples[k]!.v;
        if (Number.isNaN(want)) {
          expect([k, Number.isNaN(got)]).toEqual([k, true]);
          if (s.samples[k]!.hi === STALE_HI && s.samples[k]!.lo === STALE_LO) staleSeen++;
        } else {
          expect([k, got]).toEqual([k, want]);
        }
      }
    }
    expect(staleSeen).toBe(series.length);
    expect(out).toContain('+Inf');
    expect(out).toContain('-Inf');

    // The stale marker and NaN payloads, bit for bit, through our reader.
    const [block] = await openBlocks(dataDir);
    try {
      const got = await block!.select(-Infinity, Infinity, []);
      expect(got.map((s) => s.labels)).toEqual(series.map((s) => s.labels));
      for (let i = 0; i < got.length; i++) {
        const back = samplesOf(got[i]!.chunks);
        expect(back).toEqual(series[i]!.samples);
        expect([back[STALE_AT]!.hi, back[STALE_AT]!.lo]).toEqual([STALE_HI, STALE_LO]);
      }
    } finally {
      await block!.close();
    }
  });
  test('a block split over many small chunk segments dumps the same', async () => {
    const dir2 = path.join(tmp, 'ours-segments');
    await fsp.mkdir(path.join(dir2, 'wal'), { recursive: true });
    const ulid2 = newULID(T0 + 1);
    const meta = await writeBlock(dir2, series.map((s) => ({ labels: s.labels, chunks: chunksOf(s.samples) })), {
      minTime,
      maxTime,
      ulid: ulid2,
      segmentSize: 4096,
    });
    const segs = meta.thanos!.files!.filter((f) => f.rel_path.startsWith('chunks/'));
    expect(segs.length).toBeGreaterThan(5);
    const [a, b] = await Promise.all([promtool('tsdb', 'dump', dataDir), promtool('tsdb', 'dump', dir2)]);
    expect(b.split('\n').length).toBe(numSamples + 1);
    expect(b === a).toBe(true);
  });
});

describe('Strata reads blocks created by promtool', () => {
  const T0s = 1700000000; // seconds; not aligned to 2 h, so the data spans several blocks
  const STEP_S = 60;
  const N = 200; // 200 minutes > 3 h
  interface OmSeries {
    name: string;
    labels: Record<string, string>;
    samples: { t: number; v: string }[];
  }
  const om: OmSeries[] = [];
  for (const code of ['200', '404', '500']) {
    for (const path_ of ['/api', '/ünïcode/😀']) {
      const samples: { t: number; v: string }[] = [];
      let c = 0;
      for (let k = 0; k < N; k++) {
        c += (k * 7 + code.length) % 13;
        samples.push({ t: T0s + k * STEP_S, v: String(c) });
      }
      om.push({ name: 'http_requests_total', labels: { code, path: path_ }, samples });
    }
  }
  for (const room of ['kitchen', 'Ａ', 'straße']) {
    const samples: { t: number; v: string }[] = [];
    for (let k = 0; k < N; k++) {
      let v = (20 + Math.sin(k / 9) * 3).toFixed(3);
      if (k === 10) v = 'NaN';
      if (k === 11) v = '+Inf';
      if (k === 12) v = '-Inf';
      if (k === 13) v = '1.5e-7';
      samples.push({ t: T0s + k * STEP_S + 1, v });
    }
    om.push({ name: 'room_temperature_celsius', labels: { room }, samples });
  }

  function omText(): string {
    const lines: string[] = ['# HELP http_requests Requests served.', '# TYPE http_requests counter'];
    const fmt = (s: OmSeries): string =>
      `${s.name}{${Object.entries(s.labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(',')}}`;
    for (const s of om.filter((x) => x.name === 'http_requests_total')) for (const p of s.samples) lines.push(`${fmt(s)} ${p.v} ${p.t}`);
    lines.push('# HELP room_temperature_celsius Temperature.', '# TYPE room_temperature_celsius gauge');
    for (const s of om.filter((x) => x.name === 'room_temperature_celsius')) for (const p of s.samples) lines.push(`${fmt(s)} ${p.v} ${p.t}`);
    lines.push('# EOF');
    return lines.join('\n') + '\n';
  }

  test('create-blocks-from openmetrics → our reader returns identical samples', async () => {
    const dir = path.join(tmp, 'theirs');
    await fsp.mkdir(dir);
    const file = path.join(tmp, 'data.om');
    await fsp.writeFile(file, omText());
    await promtool('tsdb', 'create-blocks-from', 'openmetrics', file, dir);
    const blocks = await openBlocks(dir);
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    try {
      const got = new Map<string, { t: number; v: number; hi: number; lo: number }[]>();
      let total = 0;
      for (const b of blocks) {
        expect(b.meta.version).toBe(1);
        expect(b.meta.compaction.level).toBe(1);
        const ss = await b.select(-Infinity, Infinity, []);
        let inBlock = 0;
        for (const s of ss) {
          const key = labelsKey(s.labels);
          const list = got.get(key) ?? [];
          for (const x of samplesOf(s.chunks)) {
            expect(x.t).toBeGreaterThanOrEqual(b.minTime);
            expect(x.t).toBeLessThan(b.maxTime);
            list.push({ t: x.t, v: bitsToFloat(x.hi, x.lo), hi: x.hi, lo: x.lo });
            inBlock++;
          }
          got.set(key, list);
        }
        expect(inBlock).toBe(b.meta.stats.numSamples);
        total += inBlock;
      }
      expect(total).toBe(om.length * N);
      expect(got.size).toBe(om.length);
      for (const s of om) {
        const key = labelsKey(labelsFromObject({ __name__: s.name, ...s.labels }));
        const list = (got.get(key) ?? []).sort((a, b) => a.t - b.t);
        expect([key, list.length]).toEqual([key, s.samples.length]);
        for (let k = 0; k < s.samples.length; k++) {
          const want = s.samples[k]!;
          const have = list[k]!;
          expect(have.t).toBe(want.t * 1000);
          const wv = parseGoFloat(want.v);
          if (Number.isNaN(wv)) expect(Number.isNaN(have.v)).toBe(true);
          else expect([key, k, have.v]).toEqual([key, k, wv]);
        }
      }
      // Label values and matchers over promtool's index.
      const vals = new Set<string>();
      for (const b of blocks) for (const v of await b.labelValues('room')) vals.add(v);
      expect([...vals]).toEqual(['kitchen', 'straße', 'Ａ']);
      const sel = await Promise.all(blocks.map((b) => b.select(-Infinity, Infinity, [new Matcher(MatchType.RE, 'room', 'k.*|Ａ'), new Matcher(MatchType.EQ, 'code', '')])));
      expect([...new Set(sel.flat().map((s) => s.labels.find((l) => l.name === 'room')!.value))].sort()).toEqual(['kitchen', 'Ａ']);
      const bad = await Promise.all(blocks.map((b) => b.select(-Infinity, Infinity, [new Matcher(MatchType.NEQ, 'path', '')])));
      expect(new Set(bad.flat().map((s) => labelsKey(s.labels))).size).toBe(6);
    } finally {
      await Promise.all(blocks.map((b) => b.close()));
    }
  });
});
