/**
 * A real client: Debian's Prometheus 2.42 scrapes itself and remote-writes to Strata (tenant from
 * basic auth, since this build does not send custom headers). The same queries must return the
 * same series and values through Strata as through Prometheus's own API.
 */
import { findPrometheus, startPrometheus, type PrometheusInstance } from '../helpers/prometheus';
import { startStrata, type StrataInstance } from '../helpers/strata';
import { api, type VectorSample } from '../e2e/api';

jest.setTimeout(180_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function byLabels(v: VectorSample[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of v) {
    const key = JSON.stringify(Object.entries(s.metric).sort(([a], [b]) => (a < b ? -1 : 1)));
    m.set(key, Number(s.value[1]));
  }
  return m;
}

describe('Prometheus 2.42 as the remote-write client', () => {
  let strata: StrataInstance;
  let prom: PrometheusInstance;

  beforeAll(async () => {
    if (findPrometheus() === undefined) throw new Error('prometheus is not installed: the test command installs it with apt-get');
    strata = await startStrata({ args: ['-auth.tenant-from-basic-auth'] });
    prom = await startPrometheus({
      externalLabels: {},
      remoteWrite: {
        url: strata.pushUrl,
        basicAuth: { user: 'prom-tenant', pass: 'unused' },
        queueConfig: { batch_send_deadline: '1s', max_samples_per_send: 500 },
      },
    });
  });
  afterAll(async () => {
    await prom?.stop(); // stop Prometheus before its receiver (tooling.md gotcha 3)
    await strata?.stop();
  });

  test('up, prometheus_build_info and rate() agree with Prometheus', async () => {
    const q = (expr: string, time: number) =>
      api(strata.url, '/prometheus/api/v1/query', { query: expr, time: String(time) }, { headers: { Authorization: 'Basic ' + Buffer.from('prom-tenant:unused').toString('base64') } });
    // Wait for the first remote-write batches (about 6 s after Prometheus starts), then for a
    // minute-long rate window to have several samples.
    const deadline = Date.now() + 90_000;
    let firstSeen = 0;
    while (Date.now() < deadline) {
      const r = await q('up', Date.now() / 1000);
      if (r.status === 200 && ((r.json.data as { result: unknown[] }).result.length ?? 0) > 0) {
        firstSeen = Date.now();
        break;
      }
      await sleep(500);
    }
    expect(firstSeen).toBeGreaterThan(0);
    await sleep(12_000);
    // Evaluate a few seconds in the past so every sample up to then has been shipped.
    const t = Math.floor(Date.now() / 1000) - 4;
    for (const expr of ['up', 'prometheus_build_info', 'rate(prometheus_http_requests_total[1m])']) {
      const ours = await q(expr, t);
      const theirs = await prom.query(expr, t);
      expect(ours.status).toBe(200);
      expect(theirs.status).toBe('success');
      const a = byLabels((ours.json.data as { result: VectorSample[] }).result);
      const b = byLabels((theirs.data!.result as VectorSample[]));
      expect(b.size).toBeGreaterThan(0);
      expect([expr, [...a.keys()].sort()]).toEqual([expr, [...b.keys()].sort()]);
      for (const [k, v] of b) {
        const w = a.get(k)!;
        if (Number.isNaN(v)) expect(Number.isNaN(w)).toBe(true);
        else expect(Math.abs(w - v)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(v)));
      }
    }
  });

  test('metric metadata sent by Prometheus is served by /api/v1/metadata as Prometheus serves it', async () => {
    const auth = { Authorization: 'Basic ' + Buffer.from('prom-tenant:unused').toString('base64') };
    const names = ['prometheus_http_requests_total', 'prometheus_build_info', 'go_goroutines', 'prometheus_tsdb_head_series'];
    type Md = Record<string, { type: string; help: string; unit: string }[]>;
    // Prometheus sends metadata every 5 s (tests/helpers/prometheus.ts).
    let ours: Md = {};
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const r = await api(strata.url, '/prometheus/api/v1/metadata', {}, { headers: auth });
      expect(r.status).toBe(200);
      ours = r.json.data as Md;
      if (names.every((n) => ours[n] !== undefined)) break;
      await sleep(1000);
    }
    const res = await fetch(`${prom.url}/api/v1/metadata`);
    const theirs = ((await res.json()) as { data: Md }).data;
    for (const n of names) {
      expect(theirs[n]).toBeDefined();
      expect([n, ours[n]]).toEqual([n, theirs[n]]);
    }
    // limit and metric restrict the answer as in Prometheus.
    const one = await api(strata.url, '/prometheus/api/v1/metadata', { metric: 'go_goroutines' }, { headers: auth });
    expect(Object.keys(one.json.data as Md)).toEqual(['go_goroutines']);
    const two = await api(strata.url, '/prometheus/api/v1/metadata', { limit: '2' }, { headers: auth });
    expect(Object.keys(two.json.data as Md)).toHaveLength(2);
    // Another tenant sees none of it.
    const other = await api(strata.url, '/prometheus/api/v1/metadata', {}, { headers: { Authorization: 'Basic ' + Buffer.from('someone-else:x').toString('base64') } });
    expect(other.json.data).toEqual({});
  });

  test('/api/v1/query_exemplars answers as Prometheus does without exemplar storage', async () => {
    const auth = { Authorization: 'Basic ' + Buffer.from('prom-tenant:unused').toString('base64') };
    const now = Math.floor(Date.now() / 1000);
    const cases: Record<string, string>[] = [
      { query: 'up', start: String(now - 300), end: String(now) },
      { query: 'rate(prometheus_http_requests_total[1m])' },
      { query: '1 + 1', start: String(now - 300), end: String(now) },
      { query: 'up{', start: String(now - 300), end: String(now) },
      { query: 'up', start: String(now), end: String(now - 300) },
      { query: 'up', start: 'yesterday' },
    ];
    for (const params of cases) {
      const ours = await api(strata.url, '/prometheus/api/v1/query_exemplars', params, { headers: auth });
      const theirs = await fetch(`${prom.url}/api/v1/query_exemplars?${new URLSearchParams(params).toString()}`);
      const text = await theirs.text();
      // 204 No Content (no selector in the query) has no body.
      const tj = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
      const oj = (ours.body === '' ? {} : ours.json) as Record<string, unknown>;
      expect([params, ours.status, oj.status, oj.errorType, oj.data]).toEqual([params, theirs.status, tj.status, tj.errorType, tj.data]);
      if (tj.status === 'error') expect(oj.error).toBe(tj.error);
    }
  });
});
