import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request } from 'express';
import {
  ArraySampleIterator,
  Matcher,
  MatchType,
  compareLabels,
  getLabel,
  labelsFromObject,
  type Labels,
  type Querier,
  type Series,
} from '@strata/tsdb-core';
import { createPrometheusApiRouter, type BuildInfo, type PrometheusApiDeps } from './api';
import type { QueryEngine, QueryOptions, QueryResult } from './engine';
import { MAX_TIME, MIN_TIME, toMillis } from './params';

// ---------------------------------------------------------------------------------------------
// Fakes

class FakeError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

class TenantError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const L = labelsFromObject;

/** One tenant's in-memory series; records the time ranges it was asked for. */
class FakeQuerier implements Querier {
  calls: { op: string; mint: number; maxt: number; matchers: string[]; name?: string }[] = [];
  fail: Error | undefined;

  constructor(private readonly series: Labels[]) {}

  private matching(matchers: readonly Matcher[]): Labels[] {
    return this.series
      .filter((ls) => matchers.every((m) => m.matches(getLabel(ls, m.name))))
      .sort(compareLabels);
  }

  async select(mint: number, maxt: number, matchers: readonly Matcher[]): Promise<Series[]> {
    this.calls.push({ op: 'select', mint, maxt, matchers: matchers.map(String) });
    if (this.fail) throw this.fail;
    return this.matching(matchers).map((labels) => ({ labels, iterator: () => new ArraySampleIterator([], []) }));
  }

  async labelNames(mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
    this.calls.push({ op: 'labelNames', mint, maxt, matchers: matchers.map(String) });
    if (this.fail) throw this.fail;
    const set = matchers.length === 0 ? this.series : this.matching(matchers);
    return [...new Set(set.flatMap((ls) => ls.map((l) => l.name)))];
  }

  async labelValues(name: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
    this.calls.push({ op: 'labelValues', name, mint, maxt, matchers: matchers.map(String) });
    if (this.fail) throw this.fail;
    const set = matchers.length === 0 ? this.series : this.matching(matchers);
    return [...new Set(set.map((ls) => getLabel(ls, name)).filter((v) => v !== ''))].reverse();
  }
}

const OPS: Record<string, MatchType> = { '=': MatchType.EQ, '!=': MatchType.NEQ, '=~': MatchType.RE, '!~': MatchType.NRE };

/** Enough of a series-selector parser for these tests: `name`, `{l="v",…}`, `name{…}`. */
function parseSelector(s: string): Matcher[] {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?(?:\{(.*)\})?$/s.exec(s);
  if (m === null || s === '') throw new FakeError('bad_data', `1:${s.length}: parse error: unexpected ${JSON.stringify(s.slice(-1))}`);
  const out: Matcher[] = [];
  if (m[1] !== undefined) out.push(new Matcher(MatchType.EQ, '__name__', m[1]));
  for (const part of (m[2] ?? '').split(',').filter((p) => p.trim() !== '')) {
    const lm = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"(.*)"\s*$/s.exec(part);
    if (lm === null) throw new FakeError('bad_data', `1:1: parse error: bad matcher ${part}`);
    out.push(new Matcher(OPS[lm[2]!]!, lm[1]!, lm[3]!));
  }
  return out;
}

interface EngineCall {
  kind: 'instant' | 'range';
  q: Querier;
  expr: string;
  timeMs?: number;
  startMs?: number;
  endMs?: number;
  stepMs?: number;
  opts?: QueryOptions;
}

/** Answers by expression; records calls. */
class FakeEngine implements QueryEngine {
  calls: EngineCall[] = [];
  answer: (c: EngineCall) => Promise<QueryResult> = async () => ({ resultType: 'vector', result: [] });

  instantQuery(q: Querier, expr: string, timeMs: number, opts?: QueryOptions): Promise<QueryResult> {
    const c: EngineCall = { kind: 'instant', q, expr, timeMs, opts };
    this.calls.push(c);
    return this.answer(c);
  }

  rangeQuery(q: Querier, expr: string, startMs: number, endMs: number, stepMs: number, opts?: QueryOptions): Promise<QueryResult> {
    const c: EngineCall = { kind: 'range', q, expr, startMs, endMs, stepMs, opts };
    this.calls.push(c);
    return this.answer(c);
  }
}

/** The engine contract of `@strata/promql` (no options argument, mutable arrays) fits QueryEngine. */
type ContractResult =
  | { resultType: 'vector'; result: { metric: Labels; t: number; v: number }[] }
  | { resultType: 'matrix'; result: { metric: Labels; ts: number[]; vs: number[] }[] }
  | { resultType: 'scalar'; result: { t: number; v: number } }
  | { resultType: 'string'; result: { t: number; v: string } };
class ContractEngine {
  async instantQuery(_q: Querier, _expr: string, timeMs: number): Promise<ContractResult> {
    return { resultType: 'scalar', result: { t: timeMs, v: 1 } };
  }
  async rangeQuery(_q: Querier, _expr: string, startMs: number, _endMs: number, _stepMs: number): Promise<ContractResult> {
    return { resultType: 'matrix', result: [{ metric: [], ts: [startMs], vs: [1] }] };
  }
}
export const contractEngineFits: QueryEngine = new ContractEngine();

const BUILD_INFO: BuildInfo = {
  version: '0.1.0',
  revision: 'abc<1>',
  branch: 'main',
  buildUser: '',
  buildDate: '',
  goVersion: 'node20',
};

const SERIES = [
  L({ __name__: 'up', job: 'api', instance: 'a:1' }),
  L({ __name__: 'up', job: 'db', instance: 'b:1' }),
  L({ __name__: 'http_requests_total', job: 'api', code: '200', 'weird<&>': 'x' }),
  L({ __name__: 'odd', 'a.b': 'dotted' }),
];

// ---------------------------------------------------------------------------------------------
// Server

let server: Server;
let base: string;
let engine: FakeEngine;
let queriers: Map<string, FakeQuerier>;
let deps: PrometheusApiDeps;
const nowMs = 1700000000123.7;

function startApp(extra: Partial<PrometheusApiDeps> = {}, before?: (app: express.Express) => void): Promise<void> {
  engine = new FakeEngine();
  queriers = new Map([
    ['team-a', new FakeQuerier(SERIES)],
    ['team-b', new FakeQuerier([])],
  ]);
  deps = {
    engine,
    parseSelector,
    querierFor: (tenant) => {
      const q = queriers.get(tenant);
      if (q === undefined) throw new Error(`no querier for ${tenant}`);
      return q;
    },
    tenantFrom: (req: Request) => {
      const id = req.headers['x-scope-orgid'];
      if (typeof id !== 'string' || id === '') throw new TenantError(401, 'no org id');
      if (id.includes('|')) throw new TenantError(400, 'multiple org IDs present');
      return id;
    },
    buildInfo: BUILD_INFO,
    now: () => nowMs,
    ...extra,
  };
  const app = express();
  before?.(app);
  app.use('/prometheus', createPrometheusApiRouter(deps));
  app.use('/prometheus', (_req, res) => {
    res.status(418).end('fell through');
  });
  server = createServer(app);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prometheus/api/v1`;
      resolve();
    });
  });
}

function stopApp(): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

interface Resp {
  status: number;
  body: string;
  contentType: string | null;
  json: () => any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function call(path: string, init: RequestInit & { tenant?: string | null; form?: string } = {}): Promise<Resp> {
  const headers = new Headers(init.headers);
  if (init.tenant !== null) headers.set('X-Scope-OrgID', init.tenant ?? 'team-a');
  let body = init.body;
  if (init.form !== undefined) {
    headers.set('Content-Type', 'application/x-www-form-urlencoded');
    body = init.form;
  }
  const r = await fetch(base + path, { ...init, headers, body, method: init.method ?? (init.form !== undefined ? 'POST' : 'GET') });
  const text = await r.text();
  return { status: r.status, body: text, contentType: r.headers.get('content-type'), json: () => JSON.parse(text) };
}

function errBody(errorType: string, error: string): string {
  return JSON.stringify({ status: 'error', errorType, error });
}

beforeEach(() => startApp());
afterEach(() => stopApp());

// ---------------------------------------------------------------------------------------------

describe('/api/v1/query', () => {
  test('vector result, byte for byte, on the tenant querier', async () => {
    engine.answer = async () => ({
      resultType: 'vector',
      result: [
        { metric: L({ __name__: 'm', job: 'a<b>&c', x: 'q"uote\\nl\n' }), t: 1700000000850, v: 1e-7 },
        { metric: L({ __name__: 'm', job: 'ü😀' }), t: 1700000000850, v: -0 },
      ],
    });
    const r = await call('/query?query=m&time=1700000000.850');
    expect(r.status).toBe(200);
    expect(r.contentType).toBe('application/json');
    expect(r.body).toBe(
      '{"status":"success","data":{"resultType":"vector","result":[' +
        '{"metric":{"__name__":"m","job":"a\\u003cb\\u003e\\u0026c","x":"q\\"uote\\\\nl\\n"},"value":[1700000000.850,"1e-07"]},' +
        '{"metric":{"__name__":"m","job":"ü😀"},"value":[1700000000.850,"-0"]}]}}',
    );
    expect(engine.calls).toHaveLength(1);
    expect(engine.calls[0]).toMatchObject({ kind: 'instant', expr: 'm', timeMs: 1700000000850 });
    expect(engine.calls[0]!.q).toBe(queriers.get('team-a'));
    expect(engine.calls[0]!.opts?.signal).toBeInstanceOf(AbortSignal);
  });

  test('other tenants get their own querier', async () => {
    await call('/query?query=up&time=1', { tenant: 'team-b' });
    expect(engine.calls[0]!.q).toBe(queriers.get('team-b'));
  });

  test('scalar, string and matrix results', async () => {
    engine.answer = async () => ({ resultType: 'scalar', result: { t: 1700000000500, v: 1e21 } });
    expect((await call('/query?query=1e21&time=1700000000.5')).body).toBe(
      '{"status":"success","data":{"resultType":"scalar","result":[1700000000.5,"1000000000000000000000"]}}',
    );
    engine.answer = async () => ({ resultType: 'string', result: { t: 1500, v: 'a<b' } });
    expect((await call('/query?query=%22a%3Cb%22&time=1.5')).body).toBe(
      '{"status":"success","data":{"resultType":"string","result":[1.5,"a\\u003cb"]}}',
    );
    engine.answer = async () => ({
      resultType: 'matrix',
      result: [{ metric: L({ __name__: 'up' }), ts: [1000, 1015], vs: [1, NaN] }],
    });
    expect((await call('/query?query=up[1m]&time=2')).body).toBe(
      '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up"},"values":[[1,"1"],[1.015,"NaN"]]}]}}',
    );
    engine.answer = async () => ({ resultType: 'vector', result: [] });
    expect((await call('/query?query=nothing&time=2')).body).toBe(
      '{"status":"success","data":{"resultType":"vector","result":[]}}',
    );
  });

  test('a large result arrives complete, with its Content-Length', async () => {
    const result = Array.from({ length: 200 }, (_, i) => ({
      metric: L({ __name__: 'big', i: String(i), x: 'ü' }),
      ts: Array.from({ length: 500 }, (_, j) => j * 1000 + 1),
      vs: Array.from({ length: 500 }, (_, j) => j + 0.5),
    }));
    engine.answer = async () => ({ resultType: 'matrix', result });
    const r = await fetch(`${base}/query?query=big[1h]&time=600`, { headers: { 'X-Scope-OrgID': 'team-a' } });
    const buf = Buffer.from(await r.arrayBuffer());
    expect(r.status).toBe(200);
    expect(Number(r.headers.get('content-length'))).toBe(buf.length);
    const body = JSON.parse(buf.toString('utf8'));
    expect(body.status).toBe('success');
    expect(body.data.result).toHaveLength(200);
    expect(body.data.result[199].values[499]).toEqual([499.001, '499.5']);
  });

  test('time defaults to now (whole ms)', async () => {
    await call('/query?query=up');
    expect(engine.calls[0]!.timeMs).toBe(1700000000123);
  });

  test('time as RFC3339 and with sub-ms precision', async () => {
    await call('/query?query=up&time=2023-11-14T22:13:20.8506Z');
    await call('/query?query=up&time=1969-12-31T23:59:59.9995Z');
    await call('/query?query=up&time=-1.5');
    expect(engine.calls.map((c) => c.timeMs)).toEqual([1700000000850, 0, -1500]);
  });

  test('POST form: body values come before URL values, as Go FormValue', async () => {
    engine.answer = async () => ({ resultType: 'scalar', result: { t: 1000, v: 2 } });
    const r = await call('/query?time=5', { form: 'query=1%2B1&time=1' });
    expect(r.body).toBe('{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}');
    expect(engine.calls[0]).toMatchObject({ expr: '1+1', timeMs: 1000 });
    await call('/query?query=2&time=5', { form: 'time=1' });
    expect(engine.calls[1]).toMatchObject({ expr: '2', timeMs: 1000 });
  });

  test('POST with a charset parameter and GET-style POST', async () => {
    await call('/query', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      body: 'query=up&time=3',
    });
    await call('/query?query=up&time=4', { method: 'POST' });
    expect(engine.calls.map((c) => [c.expr, c.timeMs])).toEqual([
      ['up', 3000],
      ['up', 4000],
    ]);
  });

  test('a JSON body is not read', async () => {
    engine.answer = async (c) => {
      throw new FakeError('bad_data', c.expr === '' ? '1:1: parse error: no expression found in input' : 'unexpected');
    };
    const r = await call('/query?time=5', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"query":"1"}',
    });
    expect(r.status).toBe(400);
    expect(r.body).toBe(errBody('bad_data', 'invalid parameter "query": 1:1: parse error: no expression found in input'));
  });

  test('bad parameters', async () => {
    let r = await call('/query?query=m&time=x');
    expect(r.status).toBe(400);
    expect(r.body).toBe(
      errBody('bad_data', 'invalid parameter "time": Invalid time value for \'time\': cannot parse "x" to a valid timestamp'),
    );
    r = await call('/query?query=m&time=1&timeout=abc');
    expect(r.body).toBe(errBody('bad_data', 'invalid parameter "timeout": cannot parse "abc" to a valid duration'));
    expect(engine.calls).toHaveLength(0);
  });

  test('a bad %-escape drops the pair (time falls back to now)', async () => {
    await call('/query?query=1&time=%zz');
    await call('/query?query=1&time=5;x=1');
    expect(engine.calls.map((c) => c.timeMs)).toEqual([1700000000123, 1700000000123]);
  });

  test.each<[string, string, number, string]>([
    ['bad_data', '1:3: parse error: unclosed left parenthesis', 400, 'invalid parameter "query": 1:3: parse error: unclosed left parenthesis'],
    ['execution', 'found duplicate series for the match group', 422, 'found duplicate series for the match group'],
    ['timeout', 'query timed out in expression evaluation', 503, 'query timed out in expression evaluation'],
    ['canceled', 'query was canceled in expression evaluation', 499, 'query was canceled in expression evaluation'],
    ['internal', 'storage error', 500, 'storage error'],
  ])('engine error %s', async (type, msg, status, wantMsg) => {
    engine.answer = async () => {
      throw new FakeError(type, msg);
    };
    const r = await call('/query?query=m(&time=1');
    expect(r.status).toBe(status);
    expect(r.body).toBe(errBody(type, wantMsg));
  });

  test('errors without a type count as execution errors', async () => {
    engine.answer = async () => {
      throw new TypeError('boom');
    };
    const r = await call('/query?query=m&time=1');
    expect(r.status).toBe(422);
    expect(r.body).toBe(errBody('execution', 'boom'));
  });

  test('timeout parameter: the query is aborted and answers 503', async () => {
    let signal: AbortSignal | undefined;
    engine.answer = (c) => {
      signal = c.opts?.signal;
      return new Promise(() => {}); // never answers
    };
    const r = await call('/query?query=slow&time=1&timeout=50ms');
    expect(r.status).toBe(503);
    expect(r.body).toBe(errBody('timeout', 'query timed out in expression evaluation'));
    expect(signal?.aborted).toBe(true);
  });

  test('a zero or negative timeout fails before evaluation', async () => {
    for (const t of ['0', '-1', 'nan']) {
      const r = await call(`/query?query=up&time=1&timeout=${t}`);
      expect(r.status).toBe(503);
      expect(r.body).toBe(errBody('timeout', 'query timed out in query queue'));
    }
    expect(engine.calls).toHaveLength(0);
  });

  test('a query within its timeout succeeds', async () => {
    engine.answer = async () => ({ resultType: 'scalar', result: { t: 1000, v: 1 } });
    const r = await call('/query?query=1&time=1&timeout=1m');
    expect(r.status).toBe(200);
  });

  test('the client going away aborts the query', async () => {
    let aborted!: () => void;
    const wasAborted = new Promise<void>((resolve) => (aborted = resolve));
    engine.answer = (c) =>
      new Promise((_resolve, reject) => {
        c.opts!.signal!.addEventListener('abort', () => {
          aborted();
          reject(new FakeError('canceled', 'query was canceled'));
        });
      });
    const ac = new AbortController();
    const p = fetch(`${base}/query?query=slow`, { headers: { 'X-Scope-OrgID': 'team-a' }, signal: ac.signal });
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await expect(p).rejects.toThrow();
    await wasAborted;
  });
});

describe('/api/v1/query_range', () => {
  test('matrix result and engine arguments', async () => {
    engine.answer = async () => ({
      resultType: 'matrix',
      result: [
        { metric: L({ __name__: 'm', job: 'b' }), ts: [1700000000500, 1700000001000], vs: [1, 1.5e-7] },
        { metric: L({ __name__: 'm', job: 'a' }), ts: [1700000001500], vs: [3.14] },
      ],
    });
    const r = await call('/query_range?query=m&start=1700000000.5&end=1700000001.6&step=0.5');
    expect(r.status).toBe(200);
    // Series come out sorted by labels.
    expect(r.body).toBe(
      '{"status":"success","data":{"resultType":"matrix","result":[' +
        '{"metric":{"__name__":"m","job":"a"},"values":[[1700000001.500,"3.14"]]},' +
        '{"metric":{"__name__":"m","job":"b"},"values":[[1700000000.500,"1"],[1700000001,"1.5e-07"]]}]}}',
    );
    expect(engine.calls[0]).toMatchObject({
      kind: 'range',
      expr: 'm',
      startMs: 1700000000500,
      endMs: 1700000001600,
      stepMs: 500,
    });
  });

  test('durations and RFC3339 times', async () => {
    await call('/query_range?query=m&start=2023-11-14T22:13:20Z&end=2023-11-14T23:13:20Z&step=1m');
    await call('/query_range?query=m&start=0&end=86400&step=1h30m');
    await call('/query_range', { form: 'query=m&start=0&end=10&step=5ms' });
    expect(engine.calls.map((c) => [c.startMs, c.endMs, c.stepMs])).toEqual([
      [1700000000000, 1700003600000, 60000],
      [0, 86400000, 5400000],
      [0, 10000, 5],
    ]);
  });

  test('a scalar range result is one series with empty labels', async () => {
    engine.answer = async () => ({ resultType: 'scalar', result: { t: -2000, v: -2 } });
    const r = await call('/query_range?query=time()&start=-2&end=-2&step=1');
    expect(r.body).toBe('{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[-2,"-2"]]}]}}');
  });

  test('a string expression is refused', async () => {
    engine.answer = async () => ({ resultType: 'string', result: { t: 0, v: 'foo' } });
    const r = await call('/query_range?query=%22foo%22&start=0&end=10&step=1');
    expect(r.status).toBe(400);
    expect(r.body).toBe(
      errBody('bad_data', 'invalid expression type "string" for range query, must be Scalar or instant Vector'),
    );
  });

  test('engine parse errors are not prefixed on query_range', async () => {
    engine.answer = async () => {
      throw new FakeError('bad_data', '1:3: parse error: unclosed left parenthesis');
    };
    const r = await call('/query_range?query=m(&start=0&end=10&step=1');
    expect(r.status).toBe(400);
    expect(r.body).toBe(errBody('bad_data', '1:3: parse error: unclosed left parenthesis'));
  });

  test.each<[string, string]>([
    ['query=m', 'invalid parameter "start": cannot parse "" to a valid timestamp'],
    ['query=m&start=x&end=1&step=1', 'invalid parameter "start": cannot parse "x" to a valid timestamp'],
    ['query=m&start=10&end=x&step=1', 'invalid parameter "end": cannot parse "x" to a valid timestamp'],
    ['query=m&start=10&end=1&step=x', 'invalid parameter "end": end timestamp must not be before start time'],
    ['query=m&start=1&end=10&step=x', 'invalid parameter "step": cannot parse "x" to a valid duration'],
    ['query=m&start=1&end=10&step=1h1h', 'invalid parameter "step": cannot parse "1h1h" to a valid duration'],
    ['query=m&start=1&end=10&step=inf', 'invalid parameter "step": cannot parse "inf" to a valid duration. It overflows int64'],
    ['query=m&start=1&end=10&step=0', 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer'],
    ['query=m&start=1&end=10&step=-1', 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer'],
    ['query=m&start=1&end=10&step=nan', 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer'],
    ['query=m&start=0&end=11001&step=1', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)'],
    ['query=m&start=0&end=10&step=0.0001', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)'],
    ['query=m&start=0&end=10&step=1&timeout=x', 'invalid parameter "timeout": cannot parse "x" to a valid duration'],
  ])('%s', async (qs, msg) => {
    const r = await call('/query_range?' + qs);
    expect(r.status).toBe(400);
    expect(r.body).toBe(errBody('bad_data', msg));
    expect(engine.calls).toHaveLength(0);
  });

  test('exactly 11000 steps are allowed', async () => {
    const r = await call('/query_range?query=m&start=0&end=11000&step=1');
    expect(r.status).toBe(200);
    expect(r.body).toBe('{"status":"success","data":{"resultType":"matrix","result":[]}}');
  });
});

describe('/api/v1/series', () => {
  test('union of match[] sets, deduplicated and sorted, over the whole time range by default', async () => {
    const r = await call('/series?match[]=up&match[]={job="api"}&match[]=up{job="api"}');
    expect(r.status).toBe(200);
    expect(r.body).toBe(
      '{"status":"success","data":[' +
        '{"__name__":"http_requests_total","code":"200","job":"api","weird\\u003c\\u0026\\u003e":"x"},' +
        '{"__name__":"up","instance":"a:1","job":"api"},' +
        '{"__name__":"up","instance":"b:1","job":"db"}]}',
    );
    const q = queriers.get('team-a')!;
    expect(q.calls).toHaveLength(3);
    expect(q.calls[0]).toEqual({ op: 'select', mint: toMillis(MIN_TIME), maxt: toMillis(MAX_TIME), matchers: ['__name__="up"'] });
  });

  test('start and end, POST, and empty results', async () => {
    const r = await call('/series', { form: 'match[]=nothing&start=1.5&end=2023-11-14T22:13:20.8506Z' });
    expect(r.body).toBe('{"status":"success","data":[]}');
    expect(queriers.get('team-a')!.calls[0]).toMatchObject({ mint: 1500, maxt: 1700000000850 });
  });

  test('body and URL match[] values are combined', async () => {
    const r = await call('/series?match[]=odd', { form: 'match%5B%5D=nothing' });
    expect(r.json().data).toEqual([{ __name__: 'odd', 'a.b': 'dotted' }]);
    expect(queriers.get('team-a')!.calls.map((c) => c.matchers)).toEqual([['__name__="nothing"'], ['__name__="odd"']]);
  });

  test.each<[string, string]>([
    ['', 'no match[] parameter provided'],
    ['?start=1', 'no match[] parameter provided'],
    ['?match[]=m(', 'invalid parameter "match[]": 1:2: parse error: unexpected "("'],
    ['?match[]={job=""}', 'invalid parameter "match[]": match[] must contain at least one non-empty matcher'],
    ['?match[]=up&match[]={job=~".*"}', 'invalid parameter "match[]": match[] must contain at least one non-empty matcher'],
    ['?match[]=up&start=x', 'invalid parameter "start": Invalid time value for \'start\': cannot parse "x" to a valid timestamp'],
    ['?match[]=up&end=x', 'invalid parameter "end": Invalid time value for \'end\': cannot parse "x" to a valid timestamp'],
    ['?match[]=up&x=%zz', 'error parsing form values: invalid URL escape "%zz"'],
    ['?match[]=up&x=1;y=2', 'error parsing form values: invalid semicolon separator in query'],
  ])('error %s', async (qs, msg) => {
    const r = await call('/series' + qs);
    expect(r.status).toBe(400);
    expect(r.body).toBe(errBody('bad_data', msg));
  });

  test('storage errors are execution errors', async () => {
    queriers.get('team-a')!.fail = new Error('ingester unavailable');
    const r = await call('/series?match[]=up');
    expect(r.status).toBe(422);
    expect(r.body).toBe(errBody('execution', 'ingester unavailable'));
  });
});

describe('/api/v1/labels', () => {
  test('all names, sorted', async () => {
    const r = await call('/labels');
    expect(r.body).toBe('{"status":"success","data":["__name__","a.b","code","instance","job","weird\\u003c\\u0026\\u003e"]}');
    expect(queriers.get('team-a')!.calls[0]).toEqual({
      op: 'labelNames',
      mint: toMillis(MIN_TIME),
      maxt: toMillis(MAX_TIME),
      matchers: [],
    });
  });

  test('names of matching series, with start/end', async () => {
    const r = await call('/labels?match[]=up&match[]=odd&start=10&end=20');
    expect(r.body).toBe('{"status":"success","data":["__name__","a.b","instance","job"]}');
    expect(queriers.get('team-a')!.calls.map((c) => [c.mint, c.maxt])).toEqual([
      [10000, 20000],
      [10000, 20000],
    ]);
  });

  test('empty is []', async () => {
    expect((await call('/labels?match[]=nothing')).body).toBe('{"status":"success","data":[]}');
    expect((await call('/labels', { tenant: 'team-b' })).body).toBe('{"status":"success","data":[]}');
  });

  test.each<[string, string]>([
    ['?match[]=m(', '1:2: parse error: unexpected "("'],
    ['?match[]={x=""}', 'match[] must contain at least one non-empty matcher'],
    ['?start=x', 'invalid parameter "start": Invalid time value for \'start\': cannot parse "x" to a valid timestamp'],
  ])('error %s', async (qs, msg) => {
    const r = await call('/labels' + qs);
    expect(r.status).toBe(400);
    expect(r.body).toBe(errBody('bad_data', msg));
  });

  test('POST', async () => {
    const r = await call('/labels', { form: 'match[]=odd' });
    expect(r.body).toBe('{"status":"success","data":["__name__","a.b"]}');
  });
});

describe('/api/v1/label/:name/values', () => {
  test('values sorted', async () => {
    const r = await call('/label/job/values');
    expect(r.body).toBe('{"status":"success","data":["api","db"]}');
    expect(queriers.get('team-a')!.calls[0]).toMatchObject({ op: 'labelValues', name: 'job', matchers: [] });
  });

  test('with match[] (union) and POST', async () => {
    const r = await call('/label/__name__/values', { form: 'match[]={job="db"}&match[]=odd' });
    expect(r.body).toBe('{"status":"success","data":["odd","up"]}');
  });

  test('U__ escaped names', async () => {
    const r = await call('/label/U__a_2e_b/values');
    expect(r.body).toBe('{"status":"success","data":["dotted"]}');
    expect(queriers.get('team-a')!.calls[0]).toMatchObject({ name: 'a.b' });
  });

  test.each<[string, string]>([
    ['/label/1abc/values', 'invalid label name: "1abc"'],
    ['/label/a%20b/values', 'invalid label name: "a b"'],
    ['/label/a%22b/values', 'invalid label name: "a\\"b"'],
    ['/label/%C3%BC/values', 'invalid label name: "ü"'],
    ['/label/a%0Ab/values', 'invalid label name: "a\\nb"'],
    ['/label/a.b/values', 'invalid label name: "a.b"'],
    ['/label/job/values?match[]={job=~".*"}', 'match[] must contain at least one non-empty matcher'],
    ['/label/job/values?start=x', 'invalid parameter "start": Invalid time value for \'start\': cannot parse "x" to a valid timestamp'],
  ])('error %s', async (path, msg) => {
    const r = await call(path);
    expect(r.status).toBe(400);
    expect(r.body).toBe(errBody('bad_data', msg));
  });

  test('a bad escape in the path is a JSON 400', async () => {
    const r = await call('/label/%zz/values');
    expect(r.status).toBe(400);
    expect(r.contentType).toBe('application/json');
    expect(r.json()).toMatchObject({ status: 'error', errorType: 'bad_data' });
  });
});

describe('/api/v1/metadata', () => {
  test('{} without a metadata source', async () => {
    const r = await call('/metadata');
    expect(r.body).toBe('{"status":"success","data":{}}');
  });

  test('limit must be a number', async () => {
    for (const l of ['x', '1.5', '']) {
      const r = await call('/metadata?limit=' + l);
      if (l === '') {
        expect(r.status).toBe(200);
      } else {
        expect(r.status).toBe(400);
        expect(r.body).toBe(errBody('bad_data', 'limit must be a number'));
      }
    }
  });

  test('from a metadata source: sorted, limited, filtered', async () => {
    await stopApp();
    const seen: unknown[] = [];
    await startApp({
      metadataFor: async (tenant, metric, limit) => {
        seen.push([tenant, metric, limit]);
        return {
          up: [{ type: 'gauge', help: 'Target <up>.', unit: '' }],
          http_requests_total: [
            { type: 'counter', help: 'Requests.', unit: '' },
            { type: 'counter', help: 'All requests.', unit: 'requests' },
          ],
        };
      },
    });
    expect((await call('/metadata')).body).toBe(
      '{"status":"success","data":{"http_requests_total":[{"type":"counter","help":"Requests.","unit":""},' +
        '{"type":"counter","help":"All requests.","unit":"requests"}],"up":[{"type":"gauge","help":"Target \\u003cup\\u003e.","unit":""}]}}',
    );
    expect((await call('/metadata?limit=1')).json().data).toEqual({
      http_requests_total: expect.any(Array),
    });
    expect((await call('/metadata?limit=0')).body).toBe('{"status":"success","data":{}}');
    expect(Object.keys((await call('/metadata?metric=up')).json().data)).toEqual(['up']);
    expect(seen).toEqual([
      ['team-a', undefined, undefined],
      ['team-a', undefined, 1],
      ['team-a', undefined, 0],
      ['team-a', 'up', undefined],
    ]);
    // limit_per_metric keeps the first n entries of each metric; 0 or less keeps all.
    expect((await call('/metadata?limit_per_metric=1')).json().data).toEqual({
      http_requests_total: [{ type: 'counter', help: 'Requests.', unit: '' }],
      up: [{ type: 'gauge', help: 'Target <up>.', unit: '' }],
    });
    expect(((await call('/metadata?limit_per_metric=0')).json().data as Record<string, unknown[]>).http_requests_total).toHaveLength(2);
    const bad = await call('/metadata?limit_per_metric=x');
    expect([bad.status, bad.json()]).toEqual([400, { status: 'error', errorType: 'bad_data', error: 'limit_per_metric must be a number' }]);
  });
});

describe('/api/v1/status/buildinfo', () => {
  test('needs no tenant', async () => {
    const r = await call('/status/buildinfo', { tenant: null });
    expect(r.status).toBe(200);
    expect(r.body).toBe(
      '{"status":"success","data":{"version":"0.1.0","revision":"abc\\u003c1\\u003e","branch":"main","buildUser":"","buildDate":"","goVersion":"node20"}}',
    );
  });
});

describe('tenants', () => {
  test.each(['/query?query=up', '/query_range?query=up&start=0&end=1&step=1', '/series?match[]=up', '/labels', '/label/job/values', '/metadata'])(
    'no org id → 401 on %s',
    async (path) => {
      const r = await call(path, { tenant: null });
      expect(r.status).toBe(401);
      expect(r.contentType).toBe('application/json');
      expect(r.body).toBe(errBody('bad_data', 'no org id'));
      expect(engine.calls).toHaveLength(0);
      expect(queriers.get('team-a')!.calls).toHaveLength(0);
    },
  );

  test('invalid tenant → 400, before parameters are looked at', async () => {
    const r = await call('/query_range?start=x', { tenant: 'a|b' });
    expect(r.status).toBe(400);
    expect(r.body).toBe(errBody('bad_data', 'multiple org IDs present'));
  });

  test('a failing querierFor is an internal error', async () => {
    const r = await call('/labels', { tenant: 'team-unknown' });
    expect(r.status).toBe(500);
    expect(r.body).toBe(errBody('internal', 'no querier for team-unknown'));
  });
});

describe('routing', () => {
  test('unknown paths under /api/v1 are JSON 404s', async () => {
    for (const p of ['/nope', '/query/extra', '/query/', '/QUERY', '/label//values']) {
      const r = await call(p);
      expect(r.status).toBe(404);
      expect(r.contentType).toBe('application/json');
      expect(r.body).toBe(errBody('not_found', '404 page not found'));
    }
  });

  test('paths outside /api/v1 fall through to the app', async () => {
    const r = await fetch(base.replace('/api/v1', '/other'));
    expect(r.status).toBe(418);
  });

  test('other methods get 405, OPTIONS 204', async () => {
    let r = await call('/query?query=up', { method: 'DELETE' });
    expect(r.status).toBe(405);
    expect(r.contentType).toBe('application/json');
    r = await call('/series?match[]=up', { method: 'PUT' });
    expect(r.status).toBe(405);
    r = await call('/query', { method: 'OPTIONS' });
    expect(r.status).toBe(204);
    expect(engine.calls).toHaveLength(0);
  });
});

describe('behind a body parser', () => {
  test('an already parsed urlencoded body is used', async () => {
    await stopApp();
    await startApp({}, (app) => app.use(express.urlencoded({ extended: false })));
    const r = await call('/series', { form: 'match[]=odd&match[]=nothing' });
    expect(r.json().data).toEqual([{ __name__: 'odd', 'a.b': 'dotted' }]);
    expect(queriers.get('team-a')!.calls).toHaveLength(2);
    await call('/query', { form: 'query=up&time=7' });
    expect(engine.calls[0]).toMatchObject({ expr: 'up', timeMs: 7000 });
  });
});
