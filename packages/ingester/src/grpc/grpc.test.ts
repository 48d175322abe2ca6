import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Overrides, StrataError, createRegistry, defaultConfig, limitsFromConfig, nopLogger } from '@strata/common';
import {
  MatchType,
  Matcher,
  STALE_HI,
  STALE_LO,
  WriteBatch,
  labelsFromObject,
  seriesKeyFromLabels,
  type IngesterClient,
  type Labels,
  type MetricMetadataEntry,
  type PushResult,
  type SeriesChunks,
} from '@strata/tsdb-core';
import { Ingester } from '../ingester';
import { IngesterGrpcClient } from './client';
import { IngesterClientPool } from './client-pool';
import { decodeQueryStreamResponse } from './codec';
import { IngesterGrpcError } from './errors';
import { startIngesterGrpcServer, type IngesterGrpcServer, type IngesterServiceImpl } from './server';
import { ingesterServiceDefinition } from './service';

/** A fake ingester: records what it receives and answers with what the test sets. */
class FakeIngester implements IngesterClient {
  pushes: { tenant: string; batch: WriteBatch }[] = [];
  calls: { op: string; tenant: string; args: unknown[] }[] = [];
  pushResult: PushResult = { appended: 0, rejected: 0 };
  pushImpl?: (tenant: string, b: WriteBatch) => Promise<PushResult>;
  data: SeriesChunks[] = [];
  queryError?: unknown;
  userStats?: (tenant: string) => Promise<{ numSeries: number; ingestionRate?: number }>;

  async push(tenant: string, batch: WriteBatch): Promise<PushResult> {
    if (this.pushImpl) return this.pushImpl(tenant, batch);
    this.pushes.push({ tenant, batch });
    return this.pushResult;
  }
  async queryChunks(tenant: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<SeriesChunks[]> {
    this.calls.push({ op: 'queryChunks', tenant, args: [mint, maxt, matchers.map(String)] });
    if (this.queryError !== undefined) throw this.queryError;
    return this.data;
  }
  async labelNames(tenant: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
    this.calls.push({ op: 'labelNames', tenant, args: [mint, maxt, matchers.map(String)] });
    return ['__name__', 'job'];
  }
  async labelValues(tenant: string, name: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
    this.calls.push({ op: 'labelValues', tenant, args: [name, mint, maxt, matchers.map(String)] });
    return ['a', 'b', 'ü'];
  }
  async series(tenant: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<Labels[]> {
    this.calls.push({ op: 'series', tenant, args: [mint, maxt, matchers.map(String)] });
    return this.data.map((s) => s.labels);
  }
  metadata: MetricMetadataEntry[] = [];
  async metricsMetadata(tenant: string): Promise<MetricMetadataEntry[]> {
    this.calls.push({ op: 'metricsMetadata', tenant, args: [] });
    if (this.queryError !== undefined) throw this.queryError;
    return this.metadata;
  }
}

const METADATA: MetricMetadataEntry[] = [
  { type: 1, metricFamilyName: 'http_requests_total', help: 'Total HTTP requests.', unit: 'requests' },
  { type: 2, metricFamilyName: 'temperature_ünï', help: 'Temperatur in °C ✓ 😀\nzweite Zeile', unit: '' },
  { type: 0, metricFamilyName: 'untyped', help: '', unit: '' },
  { type: 1, metricFamilyName: 'http_requests_total', help: 'Requests, as another target says.', unit: 'requests' },
];

const L = labelsFromObject;

function testBatch(): WriteBatch {
  const b = new WriteBatch(2);
  b.addSample(-5000, 0x3ff00000, 0); // 1.0 before the epoch
  b.addSample(1_700_000_000_000, STALE_HI, STALE_LO);
  b.addSample(1_700_000_015_000, 0x7ff80000, 0xdeadbeef);
  b.endSeries(seriesKeyFromLabels(L({ __name__: 'up', job: 'a', zone: 'é✓' })));
  b.endSeries(seriesKeyFromLabels(L({ __name__: 'no_samples' })));
  b.addSample(2 ** 53 - 1, 0x80000000, 0);
  b.endSeries(seriesKeyFromLabels(L({ __name__: 'up', job: 'b' })));
  return b;
}

/** A batch like a distributor's: `n` series with one sample each. */
function bigBatch(n: number, t: number): WriteBatch {
  const b = new WriteBatch(n);
  for (let i = 0; i < n; i++) {
    b.addSample(t, 0x40000000 + i, i);
    b.endSeries(
      seriesKeyFromLabels(L({ __name__: 'http_requests_total', instance: `10.0.${i >> 8}.${i & 255}:9100`, job: 'node', method: 'GET', status: '200' })),
    );
  }
  return b;
}

/** `n` series of `chunks` chunks of `size` bytes each, sorted by labels. */
function chunkData(n: number, chunks: number, size: number): SeriesChunks[] {
  const out: SeriesChunks[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      labels: L({ __name__: 'm', i: String(i).padStart(6, '0') }),
      chunks: Array.from({ length: chunks }, (_, j) => {
        const data = Buffer.alloc(size);
        for (let k = 0; k < size; k++) data[k] = (i * 31 + j * 7 + k) & 255;
        return { mint: j * 7_200_000 - 3_600_000, maxt: j * 7_200_000 + 3_599_999, encoding: 1, data };
      }),
    });
  }
  return out;
}

const plain = (ss: SeriesChunks[]) => ss.map((s) => ({ labels: s.labels, chunks: s.chunks.map((c) => ({ ...c, data: Buffer.from(c.data).toString('hex') })) }));

/** The first series that differs (cheaper than a deep toEqual over tens of thousands of chunks). */
function firstDifference(got: SeriesChunks[], want: SeriesChunks[]): string | null {
  const str = (s: SeriesChunks) =>
    JSON.stringify(s.labels) + '|' + s.chunks.map((c) => `${c.mint},${c.maxt},${c.encoding},${Buffer.from(c.data).toString('hex')}`).join(';');
  if (got.length !== want.length) return `${got.length} series, want ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    const g = str(got[i]!);
    const w = str(want[i]!);
    if (g !== w) return `series ${i}: got ${g.slice(0, 300)}, want ${w.slice(0, 300)}`;
  }
  return null;
}

async function rejection(p: Promise<unknown>): Promise<IngesterGrpcError> {
  try {
    await p;
  } catch (e) {
    return e as IngesterGrpcError;
  }
  throw new Error('expected a rejection');
}

describe('ingester gRPC service over loopback', () => {
  let fake: FakeIngester;
  let srv: IngesterGrpcServer;
  let client: IngesterGrpcClient;
  const stops: (() => unknown)[] = [];

  const start = async (impl: IngesterServiceImpl, opts: Parameters<typeof startIngesterGrpcServer>[1] = {}) => {
    const s = await startIngesterGrpcServer(impl, { host: '127.0.0.1', port: 0, ...opts });
    stops.push(() => s.stop(100));
    return s;
  };
  const connect = (port: number, opts: ConstructorParameters<typeof IngesterGrpcClient>[1] = {}) => {
    const c = new IngesterGrpcClient(`127.0.0.1:${port}`, opts);
    stops.push(() => c.close());
    return c;
  };

  beforeEach(async () => {
    fake = new FakeIngester();
    srv = await start(fake);
    client = connect(srv.port);
  });
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
  });

  test('push carries keys, sample ranges, timestamps and raw value bits exactly', async () => {
    fake.pushResult = { appended: 3, rejected: 1, firstError: { id: 'sample-out-of-order', status: 400, message: 'out of order (err-strata-sample-out-of-order)' } };
    const b = testBatch();
    const res = await client.push('team-a', b);
    expect(res).toEqual(fake.pushResult);
    expect(fake.pushes).toHaveLength(1);
    const got = fake.pushes[0]!;
    expect(got.tenant).toBe('team-a');
    expect(got.batch.keys).toEqual(b.keys);
    expect(got.batch.sampleStart).toEqual([0, 3, 3, 4]);
    expect(got.batch.numSamples).toBe(4);
    expect(Array.from(got.batch.ts.subarray(0, 4))).toEqual([-5000, 1_700_000_000_000, 1_700_000_015_000, 2 ** 53 - 1]);
    expect(Array.from(got.batch.vhi.subarray(0, 4))).toEqual([0x3ff00000, STALE_HI, 0x7ff80000, 0x80000000]);
    expect(Array.from(got.batch.vlo.subarray(0, 4))).toEqual([0, STALE_LO, 0xdeadbeef, 0]);

    fake.pushResult = { appended: 2000, rejected: 0 };
    const res2 = await client.push('team-a', bigBatch(2000, 1000));
    expect(res2).toEqual({ appended: 2000, rejected: 0 });
    expect('firstError' in res2).toBe(false);
    expect(fake.pushes[1]!.batch.keys).toEqual(bigBatch(2000, 1000).keys);
  });

  test('push carries metadata (with and without series); MetricsMetadata returns the list and maps errors', async () => {
    const only = new WriteBatch(1);
    only.metadata = METADATA;
    expect(await client.push('team-a', only)).toEqual({ appended: 0, rejected: 0 });
    expect(fake.pushes[0]!.batch.numSeries).toBe(0);
    expect(fake.pushes[0]!.batch.metadata).toEqual(METADATA);
    const mixed = testBatch();
    mixed.metadata = METADATA.slice(1, 2);
    fake.pushResult = {
      appended: 4,
      rejected: 0,
      firstError: { id: 'max-metadata-per-user', status: 400, message: 'per-user metric metadata limit of 1 exceeded (err-strata-max-metadata-per-user)' },
    };
    expect(await client.push('team-a', mixed)).toEqual(fake.pushResult);
    expect(fake.pushes[1]!.batch.keys).toEqual(mixed.keys);
    expect(fake.pushes[1]!.batch.metadata).toEqual(METADATA.slice(1, 2));

    expect(await client.metricsMetadata('team-b')).toEqual([]);
    fake.metadata = METADATA;
    expect(await client.metricsMetadata('team-a')).toEqual(METADATA);
    expect(fake.calls).toEqual([
      { op: 'metricsMetadata', tenant: 'team-b', args: [] },
      { op: 'metricsMetadata', tenant: 'team-a', args: [] },
    ]);
    fake.queryError = new Error('ingester is stopping');
    const e = await rejection(client.metricsMetadata('team-a'));
    expect([e.status, e.code, e.id]).toEqual([503, grpc.status.UNAVAILABLE, 'ingester-unavailable']);
    const noTenant = await rejection(client.metricsMetadata(''));
    expect([noTenant.status, noTenant.code]).toEqual([401, grpc.status.UNAUTHENTICATED]);
  });

  test('QueryStream sends many messages under the byte budget; the client reassembles the exact result', async () => {
    // ~6 MiB of chunks, plus one series of ~2.4 MiB that must be split across messages.
    fake.data = chunkData(3000, 10, 200);
    fake.data.splice(1500, 0, { labels: L({ __name__: 'm', i: '001499~big' }), chunks: chunkData(1, 20_000, 120)[0]!.chunks });
    const budget = 1 << 20;

    // Raw call with our own deserializer to see every message on the wire.
    const def = ingesterServiceDefinition();
    const raw = new grpc.Client(`127.0.0.1:${srv.port}`, grpc.credentials.createInsecure());
    stops.push(() => raw.close());
    const sizes: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const md = new grpc.Metadata();
      md.set('x-scope-orgid', 'team-a');
      const call = raw.makeServerStreamRequest(def.queryStream.path, def.queryStream.requestSerialize, (b: Buffer) => b, { mint: 0, maxt: 1, matchers: [] }, md);
      call.on('data', (b: Buffer) => {
        sizes.push(b.length);
        decodeQueryStreamResponse(b);
      });
      call.on('error', reject);
      call.on('end', resolve);
    });
    expect(sizes.length).toBeGreaterThan(8);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(budget);
    expect(Math.max(...sizes)).toBeGreaterThan(budget * 0.9);

    // A client that cannot receive more than the budget still gets everything.
    const strict = connect(srv.port, { maxRecvMsgSize: budget });
    const matchers = [new Matcher(MatchType.EQ, '__name__', 'm'), new Matcher(MatchType.RE, 'i', '0.*'), new Matcher(MatchType.NRE, 'x', 'y|z'), new Matcher(MatchType.NEQ, 'a', '')];
    const got = await strict.queryChunks('team-a', -9223309901257974000, 9223309901257974000, matchers);
    expect(got.length).toBe(3001);
    expect(got[1500]!.chunks).toHaveLength(20_000);
    expect(firstDifference(got, fake.data)).toBeNull();
    expect(fake.calls.at(-1)).toEqual({
      op: 'queryChunks',
      tenant: 'team-a',
      args: [-9223309901257974000, 9223309901257974000, ['__name__="m"', 'i=~"0.*"', 'x!~"y|z"', 'a!=""']],
    });

    // A client with a smaller limit fails instead of getting a partial result.
    const tiny = connect(srv.port, { maxRecvMsgSize: 64 << 10 });
    const err = await rejection(tiny.queryChunks('team-a', 0, 1, []));
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err.status).toBe(500);
  });

  test('QueryStream of nothing, and an error thrown by queryChunks', async () => {
    expect(await client.queryChunks('team-a', 0, 1, [])).toEqual([]);
    fake.queryError = new StrataError('max-fetched-chunks', 422, 'the query exceeded the maximum number of chunks');
    const err = await rejection(client.queryChunks('team-a', 0, 1, []));
    expect(err).toBeInstanceOf(StrataError);
    expect([err.status, err.id, err.message]).toEqual([422, 'max-fetched-chunks', 'the query exceeded the maximum number of chunks']);
    // A bad regex from the querier is a 400.
    const bad = await rejection(client.queryChunks('team-a', 0, 1, [{ type: MatchType.RE, name: 'a', value: '(' } as Matcher]));
    expect(bad.status).toBe(400);
  });

  test('label names, label values, series, user stats', async () => {
    fake.data = chunkData(3, 0, 0).concat([{ labels: L({ __name__: 'ü', 'x': '😀' }), chunks: [] }]);
    const ms = [new Matcher(MatchType.EQ, 'job', 'x')];
    expect(await client.labelNames('t1', 10, 20, ms)).toEqual(['__name__', 'job']);
    expect(await client.labelValues('t2', 'job', -10, 20, [])).toEqual(['a', 'b', 'ü']);
    expect(await client.series('t3', 0, 1e13, ms)).toEqual(fake.data.map((s) => s.labels));
    expect(fake.calls).toEqual([
      { op: 'labelNames', tenant: 't1', args: [10, 20, ['job="x"']] },
      { op: 'labelValues', tenant: 't2', args: ['job', -10, 20, []] },
      { op: 'series', tenant: 't3', args: [0, 1e13, ['job="x"']] },
    ]);
    // Without a userStats function the call is unimplemented (501).
    const un = await rejection(client.userStats('t1'));
    expect([un.status, un.code]).toEqual([501, grpc.status.UNIMPLEMENTED]);
    fake.userStats = async (tenant) => ({ numSeries: tenant === 't1' ? 12345 : 0, ingestionRate: 2.5 });
    const withStats = await start(fake);
    expect(await connect(withStats.port).userStats('t1')).toEqual({ numSeries: 12345, ingestionRate: 2.5 });
    const viaOpts = await start(new FakeIngester(), { userStats: async () => ({ numSeries: 7 }) });
    expect(await connect(viaOpts.port).userStats('t1')).toEqual({ numSeries: 7, ingestionRate: 0 });
  });

  test('the tenant comes from x-scope-orgid: missing is 401, invalid is 400', async () => {
    const missing = await rejection(client.push('', testBatch()));
    expect([missing.status, missing.code, missing.message]).toEqual([401, grpc.status.UNAUTHENTICATED, 'no org id']);
    // A raw call without the metadata at all.
    const def = ingesterServiceDefinition();
    const raw = new grpc.Client(`127.0.0.1:${srv.port}`, grpc.credentials.createInsecure());
    stops.push(() => raw.close());
    const rawErr = await new Promise<grpc.ServiceError>((resolve) =>
      raw.makeUnaryRequest(def.labelNames.path, def.labelNames.requestSerialize, def.labelNames.responseDeserialize, { mint: 0, maxt: 1, matchers: [] }, (e) => resolve(e!)),
    );
    expect(rawErr.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(rawErr.metadata.get('strata-http-status')).toEqual(['401']);

    for (const [tenant, msg] of [
      ['a/b', "tenant ID 'a/b' contains unsupported character '/'"],
      ['..', "tenant ID is '.' or '..'"],
      ['a|b', 'multiple org IDs present'],
      ['x'.repeat(151), 'tenant ID is too long: max 150 characters'],
      ['tëam', "tenant ID 'tëam' contains unsupported character 'ë'"], // not even a legal header value: rejected by the client
    ] as const) {
      const e = await rejection(client.labelNames(tenant, 0, 1, []));
      expect([tenant, e.status, e.message]).toEqual([tenant, 400, msg]);
    }
    expect(fake.calls).toEqual([]);
    expect(fake.pushes).toEqual([]);
  });

  test('a StrataError thrown by the ingester arrives with its status, ID and message', async () => {
    const cases: [unknown, number, grpc.status, string][] = [
      [new StrataError('max-series-per-user', 400, 'per-user series limit of 5 exceeded (err-strata-max-series-per-user)'), 400, grpc.status.INVALID_ARGUMENT, 'max-series-per-user'],
      [new StrataError('ingestion-rate-limited', 429, 'the request has been rejected because the tenant exceeded the ingestion rate limit'), 429, grpc.status.RESOURCE_EXHAUSTED, 'ingestion-rate-limited'],
      [new StrataError('ingester-leaving', 503, 'ingester is LEAVING'), 503, grpc.status.UNAVAILABLE, 'ingester-leaving'],
      [new Error('ingester is stopping'), 503, grpc.status.UNAVAILABLE, 'ingester-unavailable'],
      [new Error('disk full ✗'), 500, grpc.status.INTERNAL, 'internal'],
    ];
    for (const [thrown, status, code, id] of cases) {
      fake.pushImpl = async () => {
        throw thrown;
      };
      const e = await rejection(client.push('team-a', testBatch()));
      expect(e).toBeInstanceOf(IngesterGrpcError);
      expect(e).toBeInstanceOf(StrataError);
      expect([e.status, e.code, e.id, e.message, e.addr]).toEqual([status, code, id, (thrown as Error).message, `127.0.0.1:${srv.port}`]);
    }
  });

  test('a push that never gets an answer fails after the deadline', async () => {
    fake.pushImpl = () => new Promise<PushResult>(() => undefined);
    const c = connect(srv.port, { timeoutMs: 300 });
    const t0 = Date.now();
    const e = await rejection(c.push('team-a', testBatch()));
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2000);
    expect([e.status, e.code, e.id]).toEqual([504, grpc.status.DEADLINE_EXCEEDED, 'ingester-timeout']);
    expect(e.message).toContain(`Push to ingester 127.0.0.1:${srv.port} timed out after 300 ms`);
    // The read calls have their own, longer deadline.
    expect(await c.labelNames('team-a', 0, 1, [])).toEqual(['__name__', 'job']);
  });

  test('a stopped server fails calls promptly with 503', async () => {
    expect(await client.labelNames('team-a', 0, 1, [])).toHaveLength(2);
    await srv.stop(100);
    const t0 = Date.now();
    const e = await rejection(client.push('team-a', testBatch()));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect([e.status, e.code, e.id]).toEqual([503, grpc.status.UNAVAILABLE, 'ingester-unavailable']);
    expect(e.message).toContain(`ingester 127.0.0.1:${srv.port} is unavailable`);
    // Never listening at all.
    const nowhere = connect(1, { timeoutMs: 1000 });
    const e2 = await rejection(nowhere.labelNames('team-a', 0, 1, []));
    expect(e2.status).toBe(503);
  });

  test('client pool reuses clients per address and closes the ones that left', async () => {
    const other = await start(fake);
    const a = `127.0.0.1:${srv.port}`;
    const b = `127.0.0.1:${other.port}`;
    const pool = new IngesterClientPool({ timeoutMs: 1000 });
    stops.push(() => pool.close());
    const ca = pool.get(a);
    expect(pool.get(a)).toBe(ca);
    const cb = pool.get(b);
    expect(await cb.labelNames('t', 0, 1, [])).toHaveLength(2);
    expect(pool.prune([a])).toEqual([b]);
    expect(pool.addresses()).toEqual([a]);
    const closed = await rejection(cb.labelNames('t', 0, 1, []));
    expect([closed.status, closed.message]).toEqual([503, `client to ingester ${b} is closed`]);
    expect(pool.get(b)).not.toBe(cb);
    expect(await pool.get(b).labelNames('t', 0, 1, [])).toHaveLength(2);
    expect(await ca.labelNames('t', 0, 1, [])).toHaveLength(2);
    expect(pool.remove(a)).toBe(true);
    expect(pool.size).toBe(1);
  });
});

describe('the real Ingester behind the gRPC service', () => {
  test('push and query through gRPC equal the in-process calls; a stopping ingester is 503', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingester-grpc-'));
    const ing = new Ingester(
      { tsdbDir: dir, blockRange: 2 * 3600_000 },
      { overrides: new Overrides(limitsFromConfig(defaultConfig())), registry: createRegistry(false), logger: nopLogger() },
    );
    await ing.start();
    const srv = await startIngesterGrpcServer(ing, { host: '127.0.0.1', port: 0 });
    const c = new IngesterGrpcClient(`127.0.0.1:${srv.port}`);
    try {
      const b = new WriteBatch(4);
      for (let s = 0; s < 50; s++) {
        for (let i = 0; i < 300; i++) b.addSample(1_000_000 + i * 15_000, 0x40000000 + s, i);
        b.addSample(1_000_000 + 300 * 15_000, STALE_HI, STALE_LO);
        b.endSeries(seriesKeyFromLabels(L({ __name__: 'up', job: `j${s}` })));
      }
      expect(await c.push('team-a', b)).toEqual({ appended: 50 * 301, rejected: 0 });
      const again = await c.push('team-a', b);
      expect(again.appended).toBe(0);
      expect(again.firstError?.status).toBe(400);
      const ms = [new Matcher(MatchType.RE, 'job', 'j1.*')];
      const viaGrpc = await c.queryChunks('team-a', 0, 1e13, ms);
      expect(viaGrpc).toHaveLength(11);
      expect(plain(viaGrpc)).toEqual(plain(await ing.queryChunks('team-a', 0, 1e13, ms)));
      expect(await c.labelValues('team-a', 'job', 0, 1e13, ms)).toEqual(await ing.labelValues('team-a', 'job', 0, 1e13, ms));
      expect(await c.series('team-a', 0, 1e13, ms)).toEqual(await ing.series('team-a', 0, 1e13, ms));
      expect(await c.queryChunks('team-b', 0, 1e13, ms)).toEqual([]);

      // Metric metadata: alone (as Prometheus sends it) and with series, read back over gRPC.
      const mdOnly = new WriteBatch(1);
      mdOnly.metadata = [...METADATA, METADATA[0]!];
      expect(await c.push('team-m', mdOnly)).toEqual({ appended: 0, rejected: 0 });
      const mdMixed = new WriteBatch(1);
      mdMixed.addSample(5_000_000, 0x3ff00000, 0);
      mdMixed.endSeries(seriesKeyFromLabels(L({ __name__: 'with_metadata' })));
      mdMixed.metadata = [{ type: 2, metricFamilyName: 'with_metadata', help: 'A gauge.', unit: 'bytes' }];
      expect(await c.push('team-m', mdMixed)).toEqual({ appended: 1, rejected: 0 });
      const got = await c.metricsMetadata('team-m');
      // Each entry once, grouped by metric family.
      expect(got).toEqual([METADATA[0], METADATA[3], METADATA[1], METADATA[2], ...mdMixed.metadata]);
      expect(got).toEqual(await ing.metricsMetadata('team-m'));
      expect(await c.metricsMetadata('team-a')).toEqual([]);
      await ing.stop();
      const e = await rejection(c.push('team-a', b));
      expect([e.status, e.code]).toEqual([503, grpc.status.UNAVAILABLE]);
    } finally {
      c.close();
      await srv.stop(100);
      await ing.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
