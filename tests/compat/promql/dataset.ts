/**
 * The deterministic dataset of the differential PromQL suite: two hours of samples ending at an
 * aligned time T, with the metric names of the prometheus/compliance demo service plus edge-case
 * series (gaps, stale markers, NaN and ±Inf values, unicode label values, jittered timestamps,
 * odd classic histograms).
 *
 * Everything except T comes from a seeded PRNG, so two runs differ only by a time shift. The same
 * samples are loaded into Prometheus 2.42 (remote-write receiver) and into Strata (push API), in
 * time order: both TSDB heads reject samples older than `maxT - 1h` ("out of bounds"), so the data
 * is sent in time slices across all series, never series by series.
 */
import { push, encodeWriteBody, pushSeries, staleSample, type SampleInput, type SeriesInput } from '../../helpers/remote-write';
import { mulberry32 } from '../../helpers/prng';

/** Scrape interval of the regular series. */
export const INTERVAL_MS = 15_000;
/** Length of the dataset. */
export const SPAN_MS = 2 * 3600_000;
/** Tenant the dataset is pushed to in Strata. */
export const TENANT = 'promql';
export const JOB = 'demo';
export const INSTANCES = ['demo.promlabs.com:10000', 'demo.promlabs.com:10001', 'demo.promlabs.com:10002'] as const;
/** Scrape offset (ms after the interval boundary) per instance, so timestamps are not aligned. */
const INSTANCE_OFFSET_MS = [0, 3_217, 9_874] as const;

/**
 * The end of the dataset: the start of the current minute minus one minute, so no sample is in the
 * future and the whole dataset is inside both heads' one-hour append window when loaded in order.
 */
export function alignedEnd(nowMs: number = Date.now()): number {
  return Math.floor(nowMs / 60_000) * 60_000 - 60_000;
}

export interface DatasetSeries {
  labels: Record<string, string>;
  samples: SampleInput[];
}

export interface Dataset {
  /** End of the data (ms); the last regular scrape is at or before it. */
  end: number;
  /** Start of the data (ms) = end - SPAN_MS. */
  start: number;
  series: DatasetSeries[];
  sampleCount: number;
}

const round = (v: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/** Labels of the histogram buckets, formatted as the Go client formats them. */
export const HISTOGRAM_BUCKETS = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'] as const;

/** Label values of `demo_unicode_labels{name=...}`. */
export const UNICODE_NAMES = ['ascii', 'üñí', '😀', 'Ａ', '日本語', '€uro', 'quote"back\\slash', 'new\nline', 'Zebra', 'émile'] as const;

/** Builds the dataset ending at `end` (ms). Deterministic for a given `end`; `seed` only changes values. */
export function buildDataset(end: number, seed = 0x5eed): Dataset {
  const rnd = mulberry32(seed);
  const start = end - SPAN_MS;
  const steps = SPAN_MS / INTERVAL_MS; // scrapes per series, k = 0..steps-1 (the last one ≤ end)
  const series: DatasetSeries[] = [];
  const ts = (inst: number, k: number) => start + (k + 1) * INTERVAL_MS + INSTANCE_OFFSET_MS[inst]!;
  const add = (labels: Record<string, string>, samples: SampleInput[]) => {
    series.push({ labels, samples: samples.filter((s) => Number(s.t) <= end) });
  };
  const base = (name: string, inst: number, extra: Record<string, string> = {}) => ({
    __name__: name,
    instance: INSTANCES[inst]!,
    job: JOB,
    ...extra,
  });

  // Gauges: memory usage per type, integer bytes, a slow wave plus noise.
  const memTypes = [
    ['free', 2.0e9],
    ['used', 5.5e9],
    ['buffers', 3.0e8],
    ['cached', 1.2e9],
  ] as const;
  for (let i = 0; i < INSTANCES.length; i++) {
    for (const [type, level] of memTypes) {
      const phase = rnd() * 6;
      const samples: SampleInput[] = [];
      for (let k = 0; k < steps; k++) {
        const v = Math.round(level * (1 + 0.15 * Math.sin(k / 37 + phase)) + (rnd() - 0.5) * level * 0.02);
        samples.push({ t: ts(i, k), v });
      }
      add(base('demo_memory_usage_bytes', i, { type }), samples);
    }
  }

  // Counters with resets: CPU seconds per mode.
  const resetsAt: Record<string, number[]> = { '1/user': [300], '2/idle': [200, 420], '0/system': [479] };
  const modes = [
    ['idle', 1.6],
    ['user', 0.35],
    ['system', 0.07],
  ] as const;
  for (let i = 0; i < INSTANCES.length; i++) {
    for (const [mode, perSec] of modes) {
      const resets = resetsAt[`${i}/${mode}`] ?? [];
      let v = round(rnd() * 1e5, 3);
      const samples: SampleInput[] = [];
      for (let k = 0; k < steps; k++) {
        if (resets.includes(k)) v = round(rnd() * perSec * 5, 3);
        else if (k > 0) v = round(v + perSec * 15 * (0.7 + 0.6 * rnd()), 3);
        samples.push({ t: ts(i, k), v });
      }
      add(base('demo_cpu_usage_seconds_total', i, { mode }), samples);
    }
  }

  // A classic histogram (cumulative buckets + _sum + _count); instance 2 restarts (counter reset).
  const bucketBounds = HISTOGRAM_BUCKETS.map((b) => (b === '+Inf' ? Infinity : Number(b)));
  for (let i = 0; i < INSTANCES.length; i++) {
    for (const method of ['GET', 'POST']) {
      for (const p of ['/api/foo', '/api/bar']) {
        const mean = (method === 'GET' ? 0.04 : 0.2) * (p === '/api/foo' ? 1 : 2.5);
        const counts = bucketBounds.map(() => 0);
        let sum = 0;
        let count = 0;
        const bucketSamples: SampleInput[][] = bucketBounds.map(() => []);
        const sumSamples: SampleInput[] = [];
        const countSamples: SampleInput[] = [];
        for (let k = 0; k < steps; k++) {
          if (i === 2 && k === 250) {
            counts.fill(0);
            sum = 0;
            count = 0;
          }
          const n = Math.floor(rnd() * 25);
          for (let r = 0; r < n; r++) {
            const d = round(-Math.log(1 - rnd()) * mean, 4);
            sum += d;
            count++;
            for (let b = 0; b < bucketBounds.length; b++) if (d <= bucketBounds[b]!) counts[b]!++;
          }
          const t = ts(i, k);
          for (let b = 0; b < bucketBounds.length; b++) bucketSamples[b]!.push({ t, v: counts[b]! });
          sumSamples.push({ t, v: round(sum, 4) });
          countSamples.push({ t, v: count });
        }
        const extra = { method, path: p, status: '200' };
        for (let b = 0; b < bucketBounds.length; b++) {
          add(base('demo_api_request_duration_seconds_bucket', i, { ...extra, le: HISTOGRAM_BUCKETS[b]! }), bucketSamples[b]!);
        }
        add(base('demo_api_request_duration_seconds_sum', i, extra), sumSamples);
        add(base('demo_api_request_duration_seconds_count', i, extra), countSamples);
      }
    }
  }

  // Constant-ish gauges: CPU count (instance 2 is resized once), disk usage growing linearly.
  for (let i = 0; i < INSTANCES.length; i++) {
    const cpus: SampleInput[] = [];
    const disk: SampleInput[] = [];
    const batch: SampleInput[] = [];
    const slope = [1.5e6, 4.2e5, -2.0e5][i]!;
    let lastBatch = Math.floor((start - 120_000) / 1000);
    let nextBatchK = 3 + Math.floor(rnd() * 10);
    for (let k = 0; k < steps; k++) {
      const t = ts(i, k);
      cpus.push({ t, v: i === 2 && k >= 380 ? 6 : [4, 8, 4][i]! });
      disk.push({ t, v: Math.round(1e10 + i * 3e9 + slope * k + (rnd() - 0.5) * 4e6) });
      if (k === nextBatchK) {
        lastBatch = Math.floor(t / 1000) - Math.floor(rnd() * 10);
        nextBatchK = k + 12 + Math.floor(rnd() * 24);
      }
      batch.push({ t, v: lastBatch });
    }
    add(base('demo_num_cpus', i), cpus);
    add(base('demo_disk_usage_bytes', i), disk);
    add(base('demo_batch_last_success_timestamp_seconds', i), batch);
  }

  // Intermittent series: present/absent phases ended by a stale marker (instance 0: 40 scrapes on,
  // marker, 19 off; instance 2: 60 on, one marker, back), and a gap longer than the lookback delta
  // without any marker (instance 1: 30 on, 28 off = 7 min).
  for (let i = 0; i < INSTANCES.length; i++) {
    const [cycle, on] = ([[60, 40], [58, 30], [61, 60]] as const)[i]!;
    const samples: SampleInput[] = [];
    let v = 0;
    for (let k = 0; k < steps; k++) {
      const t = ts(i, k);
      const pos = k % cycle;
      if (pos < on) {
        v = (v + 1 + Math.floor(rnd() * 3)) % 17;
        samples.push({ t, v });
      } else if (pos === on && i !== 1) samples.push(staleSample(t));
    }
    add(base('demo_intermittent_metric', i), samples);
  }

  // Special values: NaN, +Inf, -Inf, zero and a mix, on one instance.
  {
    const mixPool = [1, Number.NaN, 2.5, Infinity, -3, -Infinity, 0, 42, -0.125, 7];
    const cases: [string, (k: number) => number][] = [
      ['nan', () => Number.NaN],
      ['inf', () => Infinity],
      ['neg_inf', () => -Infinity],
      ['zero', () => 0],
      ['mixed', () => mixPool[Math.floor(rnd() * mixPool.length)]!],
      ['mostly_finite', (k) => (k % 40 === 17 ? Number.NaN : k % 55 === 3 ? Infinity : round(rnd() * 100 - 20, 2))],
    ];
    for (const [c, f] of cases) {
      const samples: SampleInput[] = [];
      for (let k = 0; k < steps; k++) samples.push({ t: ts(0, k), v: f(k) });
      add(base('demo_special_values', 0, { case: c }), samples);
    }
  }

  // Unicode (and escaping-heavy) label values, distinct values so sort() order is defined.
  UNICODE_NAMES.forEach((name, n) => {
    const samples: SampleInput[] = [];
    for (let k = 0; k < steps; k++) samples.push({ t: ts(1, k), v: n * 10 + round(rnd(), 3) });
    add(base('demo_unicode_labels', 1, { name }), samples);
  });

  // An info metric with unicode values, for group_left label copying.
  const regions = ['eu-west-1', 'üñí-région', '😀-zone'];
  const versions = ['1.2.3', '1.3.0', '2.0.0-β'];
  for (let i = 0; i < INSTANCES.length; i++) {
    const samples: SampleInput[] = [];
    for (let k = 0; k < steps; k++) samples.push({ t: ts(i, k), v: 1 });
    add(base('demo_instance_info', i, { version: versions[i]!, region: regions[i]! }), samples);
  }

  // Jittered timestamps (0–2.999 s after the scrape time), values with many digits.
  for (let i = 0; i < INSTANCES.length; i++) {
    const samples: SampleInput[] = [];
    for (let k = 0; k < steps; k++) {
      samples.push({ t: ts(i, k) + Math.floor(rnd() * 3000), v: round(Math.sin(k / 11 + i) * 1000 + rnd(), 6) });
    }
    add(base('demo_jitter_gauge', i), samples);
  }

  // Odd classic histograms: no +Inf bucket, only the +Inf bucket, non-monotonic buckets.
  {
    const cases: [string, string[], (k: number, b: number) => number][] = [
      ['no_inf', ['0.1', '1', '10'], (k, b) => k * (b + 1)],
      ['only_inf', ['+Inf'], (k) => k * 3],
      ['non_monotonic', ['0.1', '1', '10', '+Inf'], (k, b) => k * [4, 2, 5, 5][b]!],
      ['two_buckets', ['0.5', '+Inf'], (k, b) => k * (b + 1) * 2],
    ];
    for (const [c, les, f] of cases) {
      les.forEach((le, b) => {
        const samples: SampleInput[] = [];
        for (let k = 0; k < steps; k++) samples.push({ t: ts(2, k), v: f(k, b) });
        add(base('demo_odd_histogram_bucket', 2, { case: c, le }), samples);
      });
    }
  }

  let sampleCount = 0;
  for (const s of series) sampleCount += s.samples.length;
  return { end, start, series, sampleCount };
}

/**
 * Splits the dataset into time-ordered slices (each holding every series' samples in
 * [from, from + sliceMs)), so both heads see monotonically advancing max times.
 */
export function timeSlices(ds: Dataset, sliceMs = 10 * 60_000): SeriesInput[][] {
  const out: SeriesInput[][] = [];
  for (let from = ds.start; from <= ds.end; from += sliceMs) {
    const to = from + sliceMs;
    const slice: SeriesInput[] = [];
    for (const s of ds.series) {
      const samples = s.samples.filter((x) => Number(x.t) >= from && Number(x.t) < to);
      if (samples.length) slice.push({ labels: s.labels, samples });
    }
    if (slice.length) out.push(slice);
  }
  return out;
}

/** Pushes the dataset to Prometheus's remote-write receiver and to Strata's push endpoint, in time order. */
export async function loadDataset(ds: Dataset, prometheusWriteUrl: string, strataPushUrl: string): Promise<void> {
  for (const slice of timeSlices(ds)) {
    const [p, s] = await Promise.all([push(prometheusWriteUrl, encodeWriteBody(slice)), pushSeries(strataPushUrl, slice, { tenant: TENANT })]);
    if (p.status < 200 || p.status >= 300) throw new Error(`prometheus remote write: HTTP ${p.status}: ${p.body}`);
    if (s.status < 200 || s.status >= 300) throw new Error(`strata push: HTTP ${s.status}: ${s.body}`);
  }
}
