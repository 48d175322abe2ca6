/**
 * End to end, one process (`bin/strata`, -target=all): remote write in, Prometheus API out, two
 * tenants, bad input, and a SIGKILL that must not lose any acknowledged sample.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { push, pushSeries, snappyCompress, encodeWriteRequest, staleSample, type SeriesInput } from '../helpers/remote-write';
import { STRATA_BIN, startStrata, type StrataInstance } from '../helpers/strata';
import { api, type MatrixSeries, type VectorSample } from './api';

jest.setTimeout(120_000);

const P = '/prometheus/api/v1';
const NOW = Math.floor(Date.now() / 15_000) * 15_000;
const T0 = NOW - 4 * 15_000;
const ts = [0, 1, 2, 3, 4].map((i) => T0 + i * 15_000);

function tenantA(): SeriesInput[] {
  return [
    { labels: { __name__: 'up', job: 'a', instance: 'i1' }, samples: ts.map((t) => ({ t, v: 1 })) },
    { labels: { __name__: 'http_requests_total', job: 'a', code: '200' }, samples: ts.map((t, i) => ({ t, v: 10 * (i + 1) })) },
    { labels: { __name__: 'gone', job: 'a' }, samples: [{ t: ts[0]!, v: 7 }, staleSample(ts[1]!)] },
  ];
}
const tenantB: SeriesInput[] = [{ labels: { __name__: 'up', job: 'b' }, samples: ts.map((t) => ({ t, v: 0 })) }];

describe('monolithic Strata', () => {
  let s: StrataInstance;
  beforeAll(async () => {
    s = await startStrata();
    expect((await pushSeries(s.pushUrl, tenantA(), { tenant: 'team-a' })).status).toBe(200);
    expect((await pushSeries(s.pushUrl, tenantB, { tenant: 'team-b' })).status).toBe(200);
  });
  afterAll(async () => {
    await s?.stop();
  });

  const at = String(NOW / 1000);

  test.each(['GET', 'POST'] as const)('instant query (%s) returns the pushed series in Prometheus JSON', async (method) => {
    const r = await api(s.url, `${P}/query`, { query: 'up', time: at }, { tenant: 'team-a', method });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: { __name__: 'up', instance: 'i1', job: 'a' }, value: [NOW / 1000, '1'] }] },
    });
  });

  test('range query with rate() and Prometheus extrapolation', async () => {
    const r = await api(
      s.url,
      `${P}/query_range`,
      { query: 'rate(http_requests_total[1m])', start: String(ts[4]! / 1000), end: String(ts[4]! / 1000), step: '15' },
      { tenant: 'team-a' },
    );
    expect(r.status).toBe(200);
    const m = (r.json.data as { resultType: string; result: MatrixSeries[] });
    expect(m.resultType).toBe('matrix');
    expect(m.result).toHaveLength(1);
    expect(m.result[0]!.metric).toEqual({ code: '200', job: 'a' });
    // 4 samples 15s apart inside (t-60s, t], +10 each: 30 over 45s, extrapolated to 60s → 40/60.
    expect(Number(m.result[0]!.values[0]![1])).toBeCloseTo(40 / 60, 12);
  });

  test('a stale marker ends the series within the lookback window', async () => {
    const before = await api(s.url, `${P}/query`, { query: 'gone', time: String(ts[0]! / 1000 + 5) }, { tenant: 'team-a' });
    expect((before.json.data as { result: VectorSample[] }).result).toHaveLength(1);
    const after = await api(s.url, `${P}/query`, { query: 'gone', time: String(ts[1]! / 1000 + 5) }, { tenant: 'team-a' });
    expect((after.json.data as { result: VectorSample[] }).result).toEqual([]);
  });

  test('series, labels, label values, metadata and buildinfo', async () => {
    const ser = await api(s.url, `${P}/series`, { 'match[]': 'up' }, { tenant: 'team-a', method: 'POST' });
    expect(ser.json).toEqual({ status: 'success', data: [{ __name__: 'up', instance: 'i1', job: 'a' }] });
    const noMatch = await api(s.url, `${P}/series`, {}, { tenant: 'team-a' });
    expect(noMatch.status).toBe(400);
    expect(noMatch.json.error).toBe('no match[] parameter provided');
    const labels = await api(s.url, `${P}/labels`, {}, { tenant: 'team-a' });
    expect(labels.json).toEqual({ status: 'success', data: ['__name__', 'code', 'instance', 'job'] });
    const vals = await api(s.url, `${P}/label/job/values`, {}, { tenant: 'team-b' });
    expect(vals.json).toEqual({ status: 'success', data: ['b'] });
    const names = await api(s.url, `${P}/label/__name__/values`, {}, { tenant: 'team-a' });
    expect(names.json.data).toEqual(['gone', 'http_requests_total', 'up']);
    const meta = await api(s.url, `${P}/metadata`, {}, { tenant: 'team-a' });
    expect(meta.json).toEqual({ status: 'success', data: {} });
    const bi = await api(s.url, `${P}/status/buildinfo`, {}, { tenant: 'team-a' });
    expect(bi.json.status).toBe('success');
    expect((bi.json.data as { version: string }).version).toMatch(/^\d+\.\d+\.\d+/);
  });

  test('tenants are isolated', async () => {
    const b = await api(s.url, `${P}/query`, { query: '{__name__=~".+"}', time: at }, { tenant: 'team-b' });
    expect((b.json.data as { result: VectorSample[] }).result.map((x) => x.metric)).toEqual([{ __name__: 'up', job: 'b' }]);
    const c = await api(s.url, `${P}/query`, { query: 'up', time: at }, { tenant: 'team-c' });
    expect(c.json).toEqual({ status: 'success', data: { resultType: 'vector', result: [] } });
    const none = await api(s.url, `${P}/labels`, {}, { tenant: 'team-c' });
    expect(none.json.data).toEqual([]);
    const noTenant = await api(s.url, `${P}/query`, { query: 'up' });
    expect(noTenant.status).toBe(401);
  });

  test('bad push requests get their status and leave written data intact', async () => {
    const good = encodeWriteRequest([{ labels: { __name__: 'x', job: 'bad' }, samples: [{ t: NOW, v: 1 }] }]);
    const cases: [string, Promise<{ status: number; body: string }>, number, string][] = [
      ['malformed snappy', push(s.pushUrl, Buffer.from([0xff, 0xff, 0xff, 0x01, 0x02]), { tenant: 'team-a' }), 400, 'snappy'],
      ['malformed protobuf', push(s.pushUrl, snappyCompress(Buffer.from([0x0a, 0x05, 0x01])), { tenant: 'team-a' }), 400, 'failed to parse'],
      // The snappy header claims 200 MiB: refused from the header alone.
      ['oversized body', push(s.pushUrl, Buffer.from([0x80, 0x80, 0x80, 0x64, 0x00]), { tenant: 'team-a' }), 400, 'err-strata-distributor-max-write-message-size'],
      ['missing tenant', push(s.pushUrl, snappyCompress(good), {}), 401, 'no org id'],
      ['invalid tenant', push(s.pushUrl, snappyCompress(good), { tenant: '../etc' }), 400, "unsupported character '/'"],
    ];
    for (const [name, p, status, text] of cases) {
      const r = await p;
      expect([name, r.status]).toEqual([name, status]);
      expect(r.body).toContain(text);
    }
    // Partial ingestion: the valid series is stored, the first error is returned.
    const partial = await pushSeries(
      s.pushUrl,
      [{ labels: { job: 'nameless' }, samples: [{ t: NOW, v: 1 }] }, { labels: { __name__: 'partial_ok' }, samples: [{ t: NOW, v: 3 }] }],
      { tenant: 'team-a' },
    );
    expect(partial.status).toBe(400);
    expect(partial.body).toContain('err-strata-missing-metric-name');
    const ok = await api(s.url, `${P}/query`, { query: 'partial_ok', time: at }, { tenant: 'team-a' });
    expect((ok.json.data as { result: VectorSample[] }).result[0]!.value[1]).toBe('3');
    // Out of order is rejected by the ingester with 400.
    const ooo = await pushSeries(s.pushUrl, [{ labels: { __name__: 'up', job: 'a', instance: 'i1' }, samples: [{ t: ts[0]!, v: 5 }] }], { tenant: 'team-a' });
    expect(ooo.status).toBe(400);
    expect(ooo.body).toContain('err-strata-sample-out-of-order');
    const up = await api(s.url, `${P}/query`, { query: 'up[2m]', time: at }, { tenant: 'team-a' });
    const series = (up.json.data as { result: MatrixSeries[] }).result;
    expect(series).toHaveLength(1);
    expect(series[0]!.values).toEqual(ts.map((t) => [t / 1000, '1']));
  });

  test('/ready, /metrics and /config', async () => {
    expect((await fetch(`${s.url}/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/cortex_distributor_received_samples_total\{user="team-a"\} \d+/);
    expect(metrics).toMatch(/cortex_discarded_samples_total\{reason="missing_metric_name",user="team-a"\} 1/);
    expect(metrics).toMatch(/cortex_ingester_memory_series \d+/);
    expect(metrics).toContain('process_cpu_user_seconds_total');
    const cfg = await (await fetch(`${s.url}/config`)).text();
    expect(cfg).toContain('http_listen_port: ' + s.httpPort);
  });
});

describe('config errors', () => {
  test.each([
    [['-no.such-flag=1'], 'unknown flag -no.such-flag'],
    [['-server.http-listen-port=http'], '-server.http-listen-port'],
  ])('%j exits 1 naming the key', (args, text) => {
    const r = spawnSync(STRATA_BIN, args, { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(text);
  });

  test('secrets are masked in /config', async () => {
    const s = await startStrata({ args: ['-blocks-storage.s3.secret-access-key=hunter2'] });
    try {
      const cfg = await (await fetch(`${s.url}/config`)).text();
      expect(cfg).not.toContain('hunter2');
      expect(cfg).toContain('secret_access_key: "********"');
    } finally {
      await s.stop();
    }
  });
});

describe('crash safety', () => {
  test('SIGKILL loses no acknowledged sample; the WAL is replayed on start', async () => {
    let s = await startStrata({ keepDir: true });
    const dir = s.dir;
    const series = 50;
    const start = NOW - 3600_000;
    const acked: number[] = [];
    let i = 0;
    let killed = false;
    const writer = async () => {
      while (!killed && i < 2000) {
        const n = i++;
        const t = start + n * 1000;
        const body = Array.from({ length: series }, (_, k) => ({ labels: { __name__: 'kill_test', k: String(k) }, samples: [{ t, v: n }] }));
        try {
          const r = await pushSeries(s.pushUrl, body, { tenant: 'crash' });
          if (r.status === 200) acked.push(n);
        } catch {
          // connection reset by the kill: not acknowledged
        }
      }
    };
    const writers = Promise.all([writer(), writer(), writer(), writer()]);
    while (acked.length < 200) await new Promise((r) => setTimeout(r, 20));
    await s.kill();
    killed = true;
    await writers;
    s = await startStrata({ dir });
    try {
      const r = await api(s.url, `${P}/query`, { query: 'kill_test[2h]', time: String(start / 1000 + 3000) }, { tenant: 'crash' });
      const got = (r.json.data as { result: MatrixSeries[] }).result;
      expect(got).toHaveLength(series);
      for (const ser of got) {
        const have = new Set(ser.values.map(([t]) => Math.round(t * 1000)));
        const missing = acked.filter((n) => !have.has(start + n * 1000));
        expect(missing).toEqual([]);
      }
      // SIGTERM is a graceful stop: what was acknowledged before it is there after a restart.
      const last = await pushSeries(s.pushUrl, [{ labels: { __name__: 'after_restart' }, samples: [{ t: NOW, v: 42 }] }], { tenant: 'crash' });
      expect(last.status).toBe(200);
      await s.stop();
      expect(s.server.hasExited()).toBe(true);
      expect(await s.server.exited).toBe(0);
      s = await startStrata({ dir });
      const again = await api(s.url, `${P}/query`, { query: 'after_restart', time: String(NOW / 1000) }, { tenant: 'crash' });
      expect((again.json.data as { result: VectorSample[] }).result[0]!.value[1]).toBe('42');
    } finally {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('query limits', () => {
  test('per-tenant max_query_length from the runtime config, and -querier.max-samples', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'limits-'));
    const rc = join(dir, 'runtime.yaml');
    writeFileSync(rc, 'overrides:\n  short:\n    max_query_length: 1h\n');
    const s = await startStrata({ args: [`-runtime-config.file=${rc}`, '-querier.max-samples=2000'] });
    try {
      for (const tenant of ['short', 'long']) {
        const dense = Array.from({ length: 481 }, (_, i) => NOW - 2 * 3600_000 + i * 15_000);
        const series = Array.from({ length: 10 }, (_, k) => ({ labels: { __name__: 'lim', k: String(k) }, samples: dense.map((t) => ({ t, v: k })) }));
        expect((await pushSeries(s.pushUrl, series, { tenant })).status).toBe(200);
      }
      const range = { query: 'sum(lim)', start: String((NOW - 2 * 3600_000) / 1000), end: String(NOW / 1000), step: '60' };
      const short = await api(s.url, `${P}/query_range`, range, { tenant: 'short' });
      expect(short.status).toBe(400);
      expect(short.json.errorType).toBe('bad_data');
      expect(short.json.error).toBe(
        'the query time range exceeds the limit (query length: 2h, limit: 1h) (err-strata-max-query-length). To adjust the related per-tenant limit, configure -querier.max-query-length, or contact your service administrator.',
      );
      const long = await api(s.url, `${P}/query_range`, range, { tenant: 'long' });
      expect(long.status).toBe(200);
      // 10 series × 121 steps = 1210 samples fit; at a 15s step 10 × 481 = 4810 do not.
      const big = await api(s.url, `${P}/query_range`, { ...range, step: '15' }, { tenant: 'long' });
      expect(big.status).toBe(422);
      expect(big.json.errorType).toBe('execution');
      expect(big.json.error).toBe('query processing would load too many samples into memory in query execution');
    } finally {
      await s.stop();
    }
  });
});
