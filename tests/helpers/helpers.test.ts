import * as net from 'node:net';
import { freePort, freePorts } from './ports';
import { findPrometheus, startPrometheus, type PrometheusInstance } from './prometheus';
import { readCpuSeconds, readMemory } from './proc-stats';
import {
  NORMAL_NAN_BITS,
  STALE_NAN_BITS,
  WriteRequestEncoder,
  decodeWriteBody,
  decodeWriteRequest,
  encodeLabels,
  encodeWriteBody,
  encodeWriteRequest,
  float64Bits,
  labelsToRecord,
  protoRoot,
  push,
  pushSeries,
  snappyCompress,
  snappyUncompress,
  staleSample,
} from './remote-write';

describe('remote-write encoder', () => {
  const series = [
    {
      labels: { job: 'j', __name__: 'm_total', instance: 'ü-€-😀' },
      samples: [
        { t: 1_700_000_000_000, v: 1.5 },
        { t: 1_700_000_015_000, v: -0 },
        { t: -5, v: 3 },
        staleSample(1_700_000_030_000),
      ],
      exemplars: [{ labels: { trace_id: 'abc' }, t: 1_700_000_000_001, v: 7 }],
    },
    { labels: [{ name: 'b', value: '2' }, { name: 'a', value: '1' }], samples: [{ t: 0, v: Number.NaN, bits: NORMAL_NAN_BITS }] },
  ];
  const metadata = [{ type: 'counter' as const, metricFamilyName: 'm_total', help: 'Help.', unit: 'seconds' }];

  it('produces bytes protobufjs decodes with the Prometheus field numbers', () => {
    const WriteRequest = protoRoot().lookupType('prometheus.WriteRequest');
    const msg = WriteRequest.toObject(WriteRequest.decode(encodeWriteRequest(series, metadata)), { longs: Number, enums: String });
    expect(msg.timeseries[0].labels).toEqual([
      { name: '__name__', value: 'm_total' },
      { name: 'instance', value: 'ü-€-😀' },
      { name: 'job', value: 'j' },
    ]);
    expect(msg.timeseries[0].samples.map((s: { timestamp: number }) => s.timestamp)).toEqual([
      1_700_000_000_000, 1_700_000_015_000, -5, 1_700_000_030_000,
    ]);
    expect(msg.timeseries[0].samples[0].value).toBe(1.5);
    expect(msg.timeseries[0].exemplars[0]).toEqual({ labels: [{ name: 'trace_id', value: 'abc' }], value: 7, timestamp: 1_700_000_000_001 });
    // Arrays keep their order (so tests can send unsorted labels on purpose).
    expect(msg.timeseries[1].labels.map((l: { name: string }) => l.name)).toEqual(['b', 'a']);
    expect(msg.metadata).toEqual([{ type: 'COUNTER', metricFamilyName: 'm_total', help: 'Help.', unit: 'seconds' }]);
  });

  it('round-trips exact value bits through the hand-rolled decoder', () => {
    const decoded = decodeWriteBody(encodeWriteBody(series, metadata));
    const s0 = decoded.timeseries[0]!;
    expect(labelsToRecord(s0.labels)).toEqual({ __name__: 'm_total', instance: 'ü-€-😀', job: 'j' });
    expect(s0.samples.map((s) => s.t)).toEqual([1_700_000_000_000, 1_700_000_015_000, -5, 1_700_000_030_000]);
    expect(s0.samples[1]!.bits).toBe(float64Bits(-0));
    expect(s0.samples[3]!.bits).toBe(STALE_NAN_BITS);
    expect(Number.isNaN(s0.samples[3]!.v)).toBe(true);
    expect(decoded.timeseries[1]!.samples[0]!.bits).toBe(NORMAL_NAN_BITS);
    expect(s0.exemplars[0]).toMatchObject({ t: 1_700_000_000_001, v: 7, labels: [{ name: 'trace_id', value: 'abc' }] });
    expect(decoded.metadata).toEqual([{ type: 1, metricFamilyName: 'm_total', help: 'Help.', unit: 'seconds' }]);
  });

  it('writes the stale marker as raw little-endian fixed64', () => {
    const bytes = encodeWriteRequest([{ labels: { __name__: 'x' }, samples: [staleSample(1)] }]);
    expect(bytes.includes(Buffer.from('09020000000000f07f', 'hex'))).toBe(true);
  });

  it('encodes the generator hot path identically to addSeries', () => {
    const labels = { __name__: 'bench_metric_0', series_id: '7' };
    const enc = new WriteRequestEncoder(16);
    const lb = encodeLabels(labels);
    enc.addSeriesSample(lb, 0, lb.length, 1_700_000_000_000, 42);
    expect(enc.finish()).toEqual(encodeWriteRequest([{ labels, samples: [{ t: 1_700_000_000_000, v: 42 }] }]));
  });

  it('decodes native histograms with protobufjs and skips unknown fields', () => {
    const root = protoRoot();
    const WriteRequest = root.lookupType('prometheus.WriteRequest');
    const raw = WriteRequest.encode(
      WriteRequest.fromObject({
        timeseries: [
          {
            labels: [{ name: '__name__', value: 'h' }],
            histograms: [{ countInt: 3, sum: 1.5, schema: -1, positiveSpans: [{ offset: -2, length: 2 }], positiveDeltas: [1, 1], timestamp: 9 }],
          },
        ],
      }),
    ).finish();
    const withUnknown = Buffer.concat([Buffer.from(raw), Buffer.from([0x10, 0x01, 0xfa, 0x3e, 0x01, 0x00])]); // field 2 varint, field 1000 bytes
    const h = decodeWriteRequest(withUnknown).timeseries[0]!.histograms[0]!;
    expect(h).toMatchObject({ countInt: 3, sum: 1.5, schema: -1, positiveSpans: [{ offset: -2, length: 2 }], positiveDeltas: [1, 1], timestamp: 9 });
  });

  it('snappy round-trips and honours maxLength', () => {
    const data = Buffer.alloc(10_000, 7);
    expect(snappyUncompress(snappyCompress(data))).toEqual(data);
    expect(() => snappyUncompress(snappyCompress(data), 100)).toThrow();
  });
});

describe('ports and /proc', () => {
  it('hands out bindable distinct loopback ports', async () => {
    const ports = await freePorts(3);
    expect(new Set(ports).size).toBe(3);
    const port = await freePort();
    const srv = net.createServer();
    await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve));
    await new Promise((resolve) => srv.close(resolve));
  });

  it('reads CPU seconds and RSS of this process', () => {
    expect(readCpuSeconds(process.pid)).toBeGreaterThan(0);
    expect(readMemory(process.pid).rssBytes).toBeGreaterThan(10 << 20);
  });
});

const describeProm = findPrometheus() ? describe : describe.skip;

describeProm('Prometheus 2.42 as a remote-write receiver', () => {
  let prom: PrometheusInstance;
  beforeAll(async () => {
    prom = await startPrometheus({ selfScrape: false });
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
  }, 20_000);

  it('accepts what push() sends and answers queries with it', async () => {
    const t = Date.now() - 60_000;
    const res = await pushSeries(prom.writeUrl, [
      { labels: { __name__: 'helper_test_total', job: 'helpers', instance: 'a' }, samples: [{ t, v: 11 }, { t: t + 15_000, v: 12 }] },
    ]);
    expect(res.status).toBe(204);
    const q = await prom.query('helper_test_total', (t + 15_000) / 1000);
    expect(q.status).toBe('success');
    expect(q.data!.result).toEqual([
      { metric: { __name__: 'helper_test_total', job: 'helpers', instance: 'a' }, value: [(t + 15_000) / 1000, '12'] },
    ]);
  });

  it('rejects a corrupt snappy body with 400', async () => {
    const res = await push(prom.writeUrl, Buffer.from('not snappy at all'));
    expect(res.status).toBe(400);
  });
});

describeProm('Prometheus 2.42 as a remote-write sender', () => {
  it('sends its self-scrape with basic auth and the cluster external label', async () => {
    const received: { auth?: string; body: Buffer }[] = [];
    const http = await import('node:http');
    const srv = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ auth: req.headers.authorization, body: Buffer.concat(chunks) });
        res.writeHead(204).end();
      });
    });
    const port = await freePort();
    await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve));
    const prom = await startPrometheus({
      remoteWrite: { url: `http://127.0.0.1:${port}/api/v1/push`, basicAuth: { user: 'tenant-1', pass: 'secret' } },
    });
    try {
      const deadline = Date.now() + 25_000;
      while (!received.some((r) => decodeWriteBody(r.body).timeseries.length) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
      const batch = received.map((r) => decodeWriteBody(r.body)).find((w) => w.timeseries.length)!;
      expect(batch).toBeDefined();
      expect(received[0]!.auth).toBe(`Basic ${Buffer.from('tenant-1:secret').toString('base64')}`);
      expect(labelsToRecord(batch.timeseries[0]!.labels)).toMatchObject({ cluster: 'test', job: 'prometheus', instance: `127.0.0.1:${prom.port}` });
    } finally {
      await prom.stop();
      await new Promise((resolve) => srv.close(resolve));
    }
  }, 40_000);
});
