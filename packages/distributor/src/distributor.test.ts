import { Overrides, createRegistry, limitsFromConfig, defaultConfig, nopLogger } from '@strata/common';
import { labelsFromSeriesKey, type IngesterClient, type MetricMetadataEntry, type PushResult, type WriteBatch } from '@strata/tsdb-core';
import { Distributor, truncateUtf8 } from './distributor';
import { label, lenField, sample, str, varint } from '../../../tests/helpers/proto-bytes';

type S = { labels: [string | Uint8Array, string | Uint8Array][]; samples: [number, number][] };
const series = (s: S) => lenField(1, [...s.labels.flatMap(([n, v]) => label(n, v)), ...s.samples.flatMap(([t, v]) => sample(t, v))]);
const request = (ss: S[]) => Uint8Array.from(ss.flatMap(series));

const NOW = 1_700_000_000_000;

class FakeIngester implements IngesterClient {
  pushed: { tenant: string; keys: string[]; ts: number[]; metadata: MetricMetadataEntry[] }[] = [];
  result: Partial<PushResult> = {};
  async push(tenant: string, b: WriteBatch): Promise<PushResult> {
    this.pushed.push({ tenant, keys: [...b.keys], ts: Array.from(b.ts.subarray(0, b.numSamples)), metadata: [...b.metadata] });
    return { appended: b.numSamples, rejected: 0, ...this.result };
  }
  queryChunks = async () => [];
  labelNames = async () => [];
  labelValues = async () => [];
  series = async () => [];
  metricsMetadata = async () => [];
}

function setup(over: Record<string, number> = {}) {
  const reg = createRegistry(false);
  const limits = { ...limitsFromConfig(defaultConfig()), ...over };
  const ing = new FakeIngester();
  const d = new Distributor(
    { maxRecvMsgSize: 1 << 20 },
    { ingester: ing, overrides: new Overrides(limits), registry: reg, logger: nopLogger(), now: () => NOW },
  );
  return { d, ing, reg };
}

const ok: S = { labels: [['__name__', 'up'], ['job', 'a']], samples: [[NOW, 1]] };

describe('distributor validation', () => {
  const cases: [string, S, number, string, string][] = [
    ['missing metric name', { labels: [['job', 'a']], samples: [[NOW, 1]] }, 400, 'missing-metric-name', 'received series has no metric name'],
    ['empty metric name', { labels: [['__name__', ''], ['job', 'a']], samples: [[NOW, 1]] }, 400, 'missing-metric-name', 'no metric name'],
    ['invalid metric name', { labels: [['__name__', '1up']], samples: [[NOW, 1]] }, 400, 'metric-name-invalid', "invalid metric name: '1up'"],
    ['invalid label name', { labels: [['__name__', 'up'], ['a-b', 'x']], samples: [[NOW, 1]] }, 400, 'label-invalid', "invalid label: 'a-b'"],
    ['label name too long', { labels: [['__name__', 'up'], ['a'.repeat(11), 'x']], samples: [[NOW, 1]] }, 400, 'label-name-too-long', '-validation.max-length-label-name'],
    ['label value too long', { labels: [['__name__', 'up'], ['a', 'x'.repeat(21)]], samples: [[NOW, 1]] }, 400, 'label-value-too-long', '-validation.max-length-label-value'],
    ['metric name too long', { labels: [['__name__', 'u'.repeat(21)]], samples: [[NOW, 1]] }, 400, 'label-value-too-long', 'label value length exceeds'],
    ['invalid utf-8 value', { labels: [['__name__', 'up'], ['a', Uint8Array.of(0xff, 0xfe)]], samples: [[NOW, 1]] }, 400, 'label-value-invalid', "invalid value in label 'a'"],
    ['too many labels', { labels: [['__name__', 'up'], ['a', '1'], ['b', '1'], ['c', '1']], samples: [[NOW, 1]] }, 400, 'max-label-names-per-series', '(actual: 4, limit: 3)'],
    ['duplicate label names', { labels: [['__name__', 'up'], ['a', '1'], ['a', '2']], samples: [[NOW, 1]] }, 400, 'duplicate-label-names', "duplicate label name, label: 'a'"],
    ['too far in future', { labels: [['__name__', 'up']], samples: [[NOW + 601_000, 1]] }, 400, 'too-far-in-future', 'too far in the future, timestamp: 1700000601000'],
  ];
  test.each(cases)('%s → %s %s', async (_n, bad, status, id, text) => {
    const { d, ing, reg } = setup({ maxLabelNamesPerSeries: 3, maxLabelNameLength: 10, maxLabelValueLength: 20 });
    const out = await d.push('t1', request([ok, bad]));
    expect(out.status).toBe(status);
    expect(out.message).toContain(`(err-strata-${id})`);
    expect(out.message).toContain(text);
    // Partial ingestion: the valid series is still stored.
    expect(ing.pushed).toHaveLength(1);
    expect(ing.pushed[0]!.keys.map((k) => labelsFromSeriesKey(k))).toEqual([[{ name: '__name__', value: 'up' }, { name: 'job', value: 'a' }]]);
    const m = await reg.getSingleMetric('cortex_discarded_samples_total')!.get();
    expect(m.values).toEqual([{ labels: { reason: id.replace(/-/g, '_'), user: 't1' }, value: 1 }]);
  });

  test('valid request → 200 and samples counted', async () => {
    const { d, ing, reg } = setup();
    const out = await d.push('t1', request([ok, { labels: [['__name__', 'x']], samples: [[NOW - 1000, 1], [NOW, 2]] }]));
    expect(out).toEqual({ status: 200, message: '' });
    expect(ing.pushed[0]!.ts).toEqual([NOW, NOW - 1000, NOW]);
    const m = await reg.getSingleMetric('cortex_distributor_received_samples_total')!.get();
    expect(m.values[0]!.value).toBe(3);
  });

  test('unsorted labels are sorted and empty values dropped, giving the canonical key', async () => {
    const { d, ing } = setup();
    await d.push('t', request([{ labels: [['job', 'a'], ['empty', ''], ['__name__', 'up']], samples: [[NOW, 1]] }, ok]));
    const [k1, k2] = ing.pushed[0]!.keys;
    expect(k1).toBe(k2);
    expect(labelsFromSeriesKey(k1!)).toEqual([{ name: '__name__', value: 'up' }, { name: 'job', value: 'a' }]);
  });

  test('malformed protobuf → 400, nothing pushed', async () => {
    const { d, ing } = setup();
    const body = request([ok]);
    const out = await d.push('t', body.subarray(0, body.length - 3));
    expect(out.status).toBe(400);
    expect(out.message).toContain('failed to parse');
    expect(ing.pushed).toHaveLength(0);
  });

  test('negative timestamps and stale-marker bits pass through exactly', async () => {
    const { d } = setup();
    let got: WriteBatch | undefined;
    (d as unknown as { deps: { ingester: IngesterClient } }).deps.ingester.push = async (_t, b) => {
      got = b;
      return { appended: 1, rejected: 0 };
    };
    const body = Uint8Array.from(
      lenField(1, [...label('__name__', 'up'), ...lenField(2, [0x09, 0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f, 0x10, ...varint(-5000)])]),
    );
    expect((await d.push('t', body)).status).toBe(200);
    expect(got!.ts[0]).toBe(-5000);
    expect(got!.vhi[0]).toBe(0x7ff00000);
    expect(got!.vlo[0]).toBe(2);
  });

  test('ingestion rate limit → 429 with the Mimir-style message', async () => {
    const { d, ing } = setup({ ingestionRate: 1, ingestionBurstSize: 2 });
    const three: S = { labels: [['__name__', 'up']], samples: [[NOW - 2, 1], [NOW - 1, 1], [NOW, 1]] };
    const out = await d.push('t', request([three]));
    expect(out.status).toBe(429);
    expect(out.message).toContain('-distributor.ingestion-rate-limit');
    expect(ing.pushed).toHaveLength(0);
  });

  test('ingester soft errors come back as 400', async () => {
    const { d, ing } = setup();
    ing.result = { firstError: { id: 'sample-out-of-order', status: 400, message: 'ooo (err-strata-sample-out-of-order)' } };
    expect(await d.push('t', request([ok]))).toEqual({ status: 400, message: 'ooo (err-strata-sample-out-of-order)' });
  });

  test('message size is checked from the declared length', () => {
    const { d } = setup();
    expect(() => d.checkSize(2 << 20)).toThrow('larger than the allowed limit of 1048576 bytes');
  });
});

describe('metric metadata', () => {
  // prometheus.MetricMetadata: type = 1 (varint), metric_family_name = 2, help = 4, unit = 5.
  const md = (type: number, name: string, help: string, unit: string) =>
    lenField(3, [0x08, type, ...(name ? str(2, name) : []), ...(help ? str(4, help) : []), ...(unit ? str(5, unit) : [])]);
  const discardedMetadata = async (reg: ReturnType<typeof createRegistry>) =>
    (await reg.getSingleMetric('cortex_discarded_metadata_total')!.get()).values.map((v) => [v.labels.reason, v.value]);

  test('a metadata-only request reaches the ingester with every field, UTF-8 included', async () => {
    const { d, ing } = setup();
    const body = Uint8Array.from([...md(1, 'http_requests_total', 'Requests — all of them.', ''), ...md(2, 'temp', 'Temperature', 'celsius')]);
    expect(await d.push('t', body)).toEqual({ status: 200, message: '' });
    expect(ing.pushed).toHaveLength(1);
    expect(ing.pushed[0]!.keys).toEqual([]);
    expect(ing.pushed[0]!.metadata).toEqual([
      { type: 1, metricFamilyName: 'http_requests_total', help: 'Requests — all of them.', unit: '' },
      { type: 2, metricFamilyName: 'temp', help: 'Temperature', unit: 'celsius' },
    ]);
  });

  test('series and metadata in one request travel together', async () => {
    const { d, ing } = setup();
    const body = Uint8Array.from([...request([ok]), ...md(2, 'up', 'Up.', '')]);
    expect((await d.push('t', body)).status).toBe(200);
    expect(ing.pushed[0]!.keys).toHaveLength(1);
    expect(ing.pushed[0]!.metadata.map((m) => m.metricFamilyName)).toEqual(['up']);
  });

  test("invalid metadata is dropped with Mimir's errors; the rest is kept", async () => {
    const { d, ing, reg } = setup({ maxMetadataLength: 10 });
    const body = Uint8Array.from([
      ...md(1, '', 'no name', ''),
      ...md(1, 'a_very_long_metric_name', '', ''),
      ...md(1, 'm', '', 'a_very_long_unit'),
      ...md(1, 'good', 'help that is far too long', 'u'),
    ]);
    const r = await d.push('t', body);
    expect(r).toEqual({ status: 400, message: 'received a metric metadata with no metric name (err-strata-metadata-missing-metric-name)' });
    expect(ing.pushed[0]!.metadata).toEqual([{ type: 1, metricFamilyName: 'good', help: 'help that ', unit: 'u' }]);
    expect(await discardedMetadata(reg)).toEqual([
      ['missing_metric_name', 1],
      ['metric_name_too_long', 1],
      ['unit_too_long', 1],
    ]);
    const r2 = await d.push('t', Uint8Array.from(md(1, 'a_very_long_metric_name', '', '')));
    expect(r2.message).toBe(
      "received a metric metadata whose metric name length exceeds the limit, metric name: 'a_very_long_metric_name' (err-strata-metric-name-too-long). To adjust the related per-tenant limit, configure -validation.max-metadata-length, or contact your service administrator.",
    );
    const r3 = await d.push('t', Uint8Array.from(md(1, 'm', '', 'a_very_long_unit')));
    expect(r3.message).toBe(
      "received a metric metadata whose unit name length exceeds the limit, unit: 'a_very_long_unit' metric name: 'm' (err-strata-unit-too-long). To adjust the related per-tenant limit, configure -validation.max-metadata-length, or contact your service administrator.",
    );
  });

  test('a missing metric name is accepted when not enforced', async () => {
    const { d, ing } = setup({ enforceMetadataMetricName: false } as unknown as Record<string, number>);
    expect((await d.push('t', Uint8Array.from(md(1, '', 'h', '')))).status).toBe(200);
    expect(ing.pushed[0]!.metadata).toHaveLength(1);
  });

  test('metadata counts against the ingestion rate limit', async () => {
    const { d, reg } = setup({ ingestionRate: 1, ingestionBurstSize: 2 });
    const body = Uint8Array.from([...md(1, 'a', '', ''), ...md(1, 'b', '', ''), ...md(1, 'c', '', '')]);
    expect((await d.push('t', body)).status).toBe(429);
    expect(await discardedMetadata(reg)).toEqual([['rate_limited', 3]]);
  });

  test('help texts are cut at a character boundary within the byte limit', () => {
    expect(truncateUtf8('abcdef', 3)).toBe('abc');
    expect(truncateUtf8('aé', 2)).toBe('a'); // é is 2 bytes
    expect(truncateUtf8('aé', 3)).toBe('aé');
    expect(truncateUtf8('a😀b', 4)).toBe('a');
    expect(truncateUtf8('a😀b', 5)).toBe('a😀');
  });
});
