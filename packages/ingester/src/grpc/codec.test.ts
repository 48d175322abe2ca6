import { join } from 'node:path';
import * as protobuf from 'protobufjs';
import { DecodeError, STALE_HI, STALE_LO, WriteBatch, labelsFromObject, seriesKeyFromLabels, type SeriesChunks } from '@strata/tsdb-core';
import { decodePushRequest, decodeQueryStreamResponse, encodePushRequest, encodeQueryStreamResponses } from './codec';
import { INGESTER_PROTO, PROTO_DIR } from './service';

// The .proto, read by protobufjs independently of our codecs: the reference for the wire format.
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
root.loadSync(INGESTER_PROTO, { keepCase: true });
const PushRequest = root.lookupType('strata.ingester.PushRequest');
const QueryStreamResponse = root.lookupType('strata.ingester.QueryStreamResponse');

const toNum = (v: unknown): number => (typeof v === 'number' ? v : (v as { toNumber(): number }).toNumber());

function sampleBatch(): WriteBatch {
  const b = new WriteBatch(2);
  const add = (labels: Record<string, string>, samples: [number, number, number][]) => {
    for (const [t, hi, lo] of samples) b.addSample(t, hi, lo);
    b.endSeries(seriesKeyFromLabels(labelsFromObject(labels)));
  };
  add({ __name__: 'up', job: 'a', 'utf8-value': 'ünïcødé ✓ 😀' }, [
    [-86_400_000, 0x3ff00000, 0], // 1.0 at a negative timestamp
    [1_700_000_000_123, STALE_HI, STALE_LO], // stale marker
    [1_700_000_015_000, 0x7ff80000, 0x00000001], // another NaN payload
  ]);
  add({ __name__: 'empty_series' }, []);
  add({ __name__: 'x', le: '+Inf' }, [[2 ** 53 - 1, 0x80000000, 0]]); // -0 at the largest safe ms
  return b;
}

describe('PushRequest codec', () => {
  test('round-trips keys, sample ranges, timestamps and value bits exactly', () => {
    const b = sampleBatch();
    const d = decodePushRequest(encodePushRequest(b));
    expect(d.keys).toEqual(b.keys);
    expect(d.sampleStart).toEqual([0, 3, 3, 4]);
    expect(d.numSamples).toBe(4);
    expect(Array.from(d.ts.subarray(0, 4))).toEqual(Array.from(b.ts.subarray(0, 4)));
    expect(Array.from(d.vhi.subarray(0, 4))).toEqual([0x3ff00000, STALE_HI, 0x7ff80000, 0x80000000]);
    expect(Array.from(d.vlo.subarray(0, 4))).toEqual([0, STALE_LO, 1, 0]);
    // The batch stays appendable.
    d.addSample(1, 2, 3);
    d.endSeries('k');
    expect(d.numSeries).toBe(4);
  });

  test('the bytes are the PushRequest of the .proto', () => {
    const b = sampleBatch();
    const m = PushRequest.toObject(PushRequest.decode(encodePushRequest(b))) as {
      series: Uint8Array[];
      sample_start: Uint8Array;
      timestamps: Uint8Array;
      values: Uint8Array;
    };
    expect(m.series.map((k) => Buffer.from(k).toString('latin1'))).toEqual(b.keys);
    const starts = Buffer.from(m.sample_start);
    expect([0, 1, 2, 3].map((i) => starts.readUInt32LE(4 * i))).toEqual([0, 3, 3, 4]);
    const ts = Buffer.from(m.timestamps);
    expect([0, 1, 2, 3].map((i) => ts.readDoubleLE(8 * i))).toEqual([-86_400_000, 1_700_000_000_123, 1_700_000_015_000, 2 ** 53 - 1]);
    const v = Buffer.from(m.values);
    expect([v.readUInt32LE(8), v.readUInt32LE(12)]).toEqual([STALE_LO, STALE_HI]);
    // And a protobufjs-encoded request decodes with our codec.
    const again = decodePushRequest(PushRequest.encode(PushRequest.fromObject(m)).finish());
    expect(again.keys).toEqual(b.keys);
    expect(Array.from(again.vhi.subarray(0, 4))).toEqual(Array.from(b.vhi.subarray(0, 4)));
  });

  test('empty batch', () => {
    const d = decodePushRequest(encodePushRequest(new WriteBatch()));
    expect(d.numSeries).toBe(0);
    expect(d.numSamples).toBe(0);
    expect(decodePushRequest(Buffer.alloc(0)).numSeries).toBe(0);
  });

  const metadata = [
    { type: 1, metricFamilyName: 'http_requests_total', help: 'Total HTTP requests.', unit: 'requests' },
    { type: 0, metricFamilyName: '', help: '', unit: '' }, // every field at its default: an empty message
    { type: 7, metricFamilyName: 'ünïcødé_metric', help: 'Hilfe: Größe ✓ 😀 — 日本語\nsecond line', unit: 'µs' },
    { type: 2, metricFamilyName: 'g', help: 'h'.repeat(300) + 'é'.repeat(100), unit: '' },
    { type: 0xffffffff, metricFamilyName: 'odd_type', help: '', unit: 'x' },
  ];

  test('metadata round-trips (unicode, empty strings, long help), alone and with series', () => {
    const only = new WriteBatch(1);
    only.metadata = metadata;
    const d = decodePushRequest(encodePushRequest(only));
    expect(d.numSeries).toBe(0);
    expect(d.numSamples).toBe(0);
    expect(d.metadata).toEqual(metadata);

    const mixed = sampleBatch();
    mixed.metadata = metadata.slice(2);
    const m = decodePushRequest(encodePushRequest(mixed));
    expect(m.keys).toEqual(mixed.keys);
    expect(m.sampleStart).toEqual([0, 3, 3, 4]);
    expect(Array.from(m.vlo.subarray(0, 4))).toEqual(Array.from(mixed.vlo.subarray(0, 4)));
    expect(m.metadata).toEqual(metadata.slice(2));

    // Without metadata the bytes are exactly those of a series-only request.
    expect(decodePushRequest(encodePushRequest(sampleBatch())).metadata).toEqual([]);
  });

  test('metadata bytes are the PushRequest of the .proto, both ways', () => {
    const b = sampleBatch();
    b.metadata = metadata;
    const enc = encodePushRequest(b);
    const m = PushRequest.toObject(PushRequest.decode(enc), { defaults: true }) as { metadata: { type: number; metric_family_name: string; help: string; unit: string }[] };
    expect(m.metadata.map((x) => ({ type: x.type, metricFamilyName: x.metric_family_name, help: x.help, unit: x.unit }))).toEqual(metadata);
    // protobufjs' own encoding (default values written or not) decodes with ours, also without the sample columns.
    const ref = Buffer.from(
      PushRequest.encode(PushRequest.fromObject({ metadata: metadata.map((x) => ({ type: x.type, metric_family_name: x.metricFamilyName, help: x.help, unit: x.unit })) })).finish(),
    );
    expect(decodePushRequest(ref).metadata).toEqual(metadata);
    expect(decodePushRequest(ref).numSeries).toBe(0);
    // Unknown fields inside a MetricMetadata (e.g. from a newer sender) are skipped; field 3 is unused.
    const withUnknown = Buffer.from([0x2a, 0x0a, 0x08, 0x02, 0x1a, 0x01, 0x78, 0x12, 0x01, 0x67, 0x38, 0x05]);
    expect(decodePushRequest(withUnknown).metadata).toEqual([{ type: 2, metricFamilyName: 'g', help: '', unit: '' }]);
    // So are unknown length-delimited fields of the PushRequest itself (field 6 here).
    const again = decodePushRequest(Buffer.concat([Buffer.from([0x32, 0x02, 0x0a, 0x0a]), enc, Buffer.from([0x32, 0x00])]));
    expect(again.keys).toEqual(b.keys);
    expect(again.metadata).toEqual(metadata);
    // A truncated MetricMetadata is an error.
    expect(() => decodePushRequest(Buffer.from([0x2a, 0x03, 0x12, 0x05, 0x61]))).toThrow(DecodeError);
  });

  test('inconsistent columns are rejected', () => {
    const enc = (o: object) => Buffer.from(PushRequest.encode(PushRequest.fromObject(o)).finish());
    const u32 = (...xs: number[]) => Buffer.from(new Uint32Array(xs).buffer);
    expect(() => decodePushRequest(enc({ series: [Buffer.from('k')], sample_start: u32(0) }))).toThrow(DecodeError);
    expect(() => decodePushRequest(enc({ series: [Buffer.from('k')], sample_start: u32(0, 2), timestamps: Buffer.alloc(8), values: Buffer.alloc(16) }))).toThrow(
      /2 samples but 8 bytes of timestamps/,
    );
    expect(() =>
      decodePushRequest(enc({ series: [Buffer.from('k'), Buffer.from('l')], sample_start: u32(0, 2, 1), timestamps: Buffer.alloc(8), values: Buffer.alloc(8) })),
    ).toThrow(/not ascending/);
    expect(() => decodePushRequest(Buffer.from([0x0a, 0x05, 0x01]))).toThrow(DecodeError);
  });
});

function series(name: string, chunks: [number, number, number][]): SeriesChunks {
  return {
    labels: labelsFromObject({ __name__: name, pod: `pod-${name}` }),
    chunks: chunks.map(([mint, maxt, len], i) => ({ mint, maxt, encoding: 1, data: Buffer.alloc(len, i + 1) })),
  };
}

function reassemble(msgs: Buffer[]): { key: string; chunks: { mint: number; maxt: number; encoding: number; data: number[] }[] }[] {
  const out: { key: string; chunks: { mint: number; maxt: number; encoding: number; data: number[] }[] }[] = [];
  for (const m of msgs) {
    for (const e of decodeQueryStreamResponse(m)) {
      const chunks = e.chunks.map((c) => ({ mint: c.mint, maxt: c.maxt, encoding: c.encoding, data: Array.from(c.data) }));
      const last = out[out.length - 1];
      if (last !== undefined && last.key === e.key) last.chunks.push(...chunks);
      else out.push({ key: e.key, chunks });
    }
  }
  return out;
}

const plain = (ss: SeriesChunks[]) =>
  ss.map((s) => ({
    key: seriesKeyFromLabels(s.labels),
    chunks: s.chunks.map((c) => ({ mint: c.mint, maxt: c.maxt, encoding: c.encoding, data: Array.from(c.data) })),
  }));

describe('QueryStreamResponse codec', () => {
  test('int64 timestamps of every size, and the .proto agrees', () => {
    const edge = [0, 1, 127, 128, 2 ** 32 - 1, 2 ** 32, 1_700_000_000_000, 2 ** 53 - 1, -1, -128, -(2 ** 32), -1_700_000_000_000, -(2 ** 53) + 1];
    const neg = (t: number) => (t === 0 ? 0 : -t);
    const src = [series('a', edge.map((t) => [t, neg(t), 3]))];
    const msgs = [...encodeQueryStreamResponses(src)];
    expect(msgs).toHaveLength(1);
    expect(reassemble(msgs)).toEqual(plain(src));

    const m = QueryStreamResponse.decode(msgs[0]!) as unknown as {
      series: { labels: Uint8Array; chunks: { mint: unknown; maxt: unknown; encoding: number; data: Uint8Array }[] }[];
    };
    expect(m.series).toHaveLength(1);
    expect(Buffer.from(m.series[0]!.labels).toString('latin1')).toBe(seriesKeyFromLabels(src[0]!.labels));
    expect(m.series[0]!.chunks.map((c) => [toNum(c.mint), toNum(c.maxt), c.encoding, c.data.length])).toEqual(edge.map((t) => [t, neg(t), 1, 3]));

    // protobufjs' encoding (which omits zero fields) decodes with ours.
    const back = decodeQueryStreamResponse(QueryStreamResponse.encode(m).finish());
    expect(back.map((e) => e.chunks.map((c) => [c.mint, c.maxt]))).toEqual([edge.map((t) => [t, neg(t)])]);
  });

  test('clamps out-of-range timestamps to int64', () => {
    const src = [series('a', [[-9.3e18, 9.3e18, 1], [-9223309901257974000, 9223309901257974000, 1]])];
    const got = reassemble([...encodeQueryStreamResponses(src)]);
    expect(got[0]!.chunks.map((c) => [c.mint, c.maxt])).toEqual([
      [-9223372036854775808, 9223372036854775807],
      [-9223309901257974000, 9223309901257974000],
    ]);
  });

  test('batches under the byte budget; a series larger than one message continues in the next', () => {
    const budget = 4096;
    const src: SeriesChunks[] = [];
    for (let i = 0; i < 50; i++) src.push(series(`s${String(i).padStart(3, '0')}`, [[i, i + 1, 100 + i], [i + 2, i + 3, 50]]));
    src.push(series('t_big', Array.from({ length: 100 }, (_, j): [number, number, number] => [j * 10, j * 10 + 9, 120])));
    src.push(series('u_empty', []));
    src.push(series('v_huge_chunk', [[0, 1, 10_000]]));
    src.push(series('w_last', [[5, 6, 7]]));
    const msgs = [...encodeQueryStreamResponses(src, budget)];
    expect(msgs.length).toBeGreaterThan(5);
    for (const m of msgs) if (m.length > budget) expect(reassemble([m])[0]!.chunks[0]!.data.length).toBe(10_000);
    expect(msgs.filter((m) => m.length > budget)).toHaveLength(1);
    expect(reassemble(msgs)).toEqual(plain(src));
    // Every message is a valid QueryStreamResponse for protobufjs too.
    for (const m of msgs) expect(() => QueryStreamResponse.decode(m)).not.toThrow();
  });

  test('series keys are written exactly as seriesKeyFromLabels writes them', () => {
    const long = 'v'.repeat(200) + 'é'.repeat(100);
    const ls = ([
      { __name__: 'ascii', job: 'x' },
      { __name__: 'ü', zone: 'é✓😀' },
      { __name__: 'lone', a: 'x\ud800', b: '\udc00y', c: '\ud83d' },
      { __name__: 'long', ['n'.repeat(130)]: long },
      { __name__: 'empty_chunks' },
    ] as Record<string, string>[]).map((o) => ({ labels: labelsFromObject(o), chunks: [{ mint: 1, maxt: 2, encoding: 1, data: Buffer.from([1]) }] }));
    const got = decodeQueryStreamResponse([...encodeQueryStreamResponses(ls)][0]!).map((e) => e.key);
    expect(got).toEqual(ls.map((s) => seriesKeyFromLabels(s.labels)));
  });

  test('no series, no messages', () => {
    expect([...encodeQueryStreamResponses([])]).toEqual([]);
  });
});
