/**
 * Differential PromQL suite: the same deterministic dataset is loaded into Debian's Prometheus 2.42
 * and into Strata, every case of `queries.ts` is sent to both, and the answers must match
 * (`compare.ts`). One jest test per case; the queries themselves run in beforeAll with bounded
 * concurrency. afterAll prints `promql: N passed, M failed` and writes a grouped failure report to
 * `.test-results/promql-compat.txt` (and `.json`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { api } from '../../e2e/api';
import { findPrometheus, PROMETHEUS_INSTALL_HINT, startPrometheus, type PrometheusInstance } from '../../helpers/prometheus';
import { startStrata, type StrataInstance } from '../../helpers/strata';
import { compareOutcomes, type ApiJson, type ApiOutcome, type Comparison } from './compare';
import { alignedEnd, buildDataset, loadDataset, TENANT } from './dataset';
import { buildCases, type QueryCase } from './queries';

const CONCURRENCY = 4;
const QUERY_TIMEOUT_MS = 60_000;
const REPORT_DIR = path.resolve(__dirname, '../../../.test-results');

const DATASET = buildDataset(alignedEnd());
const CASES = buildCases({ end: DATASET.end, start: DATASET.start });

const results = new Map<string, { cmp: Comparison; ref: ApiOutcome; test: ApiOutcome }>();
let setupError: Error | undefined;
let prom: PrometheusInstance | undefined;
let strata: StrataInstance | undefined;
let queryPhaseMs = 0;

jest.setTimeout(60_000);

function caseParams(c: QueryCase): Record<string, string> {
  if (c.params) return { query: c.query, ...c.params };
  if (c.kind === 'instant') return { query: c.query, time: String(c.time) };
  return { query: c.query, start: String(c.start), end: String(c.end), step: String(c.step) };
}

async function runQuery(base: string, c: QueryCase, tenant?: string): Promise<ApiOutcome> {
  const t0 = Date.now();
  const endpoint = c.kind === 'instant' ? '/api/v1/query' : '/api/v1/query_range';
  let timer: NodeJS.Timeout | undefined;
  try {
    const res = await Promise.race([
      api(base, endpoint, caseParams(c), { method: 'POST', tenant }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${QUERY_TIMEOUT_MS} ms`)), QUERY_TIMEOUT_MS);
      }),
    ]);
    const out: ApiOutcome = { httpStatus: res.status, body: res.body, json: res.json as ApiJson, ms: Date.now() - t0 };
    if (res.json.status === 'unparseable') out.transportError = `HTTP ${res.status}, body is not JSON: ${res.body.slice(0, 200)}`;
    return out;
  } catch (err) {
    return { httpStatus: 0, body: '', transportError: (err as Error).message, ms: Date.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

async function seriesCount(base: string, tenant?: string): Promise<number> {
  const res = await api(
    base,
    '/api/v1/series',
    { 'match[]': '{__name__=~"demo_.+"}', start: String(DATASET.start / 1000 - 1), end: String(DATASET.end / 1000 + 1) },
    { tenant },
  );
  if (res.status !== 200 || res.json.status !== 'success') throw new Error(`series: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
  return (res.json.data as unknown[]).length;
}

async function waitForSeries(p: PrometheusInstance, s: StrataInstance): Promise<void> {
  const want = DATASET.series.length;
  const deadline = Date.now() + 60_000;
  let last = '';
  while (Date.now() < deadline) {
    const [a, b] = await Promise.all([seriesCount(p.url), seriesCount(`${s.url}/prometheus`, TENANT)]);
    if (a === want && b === want) return;
    last = `Prometheus ${a}, Strata ${b}, want ${want}`;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`dataset not fully visible after 60 s: ${last}`);
}

async function runAll(p: PrometheusInstance, s: StrataInstance): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < CASES.length) {
      const c = CASES[next++]!;
      const [ref, test] = await Promise.all([runQuery(p.url, c), runQuery(`${s.url}/prometheus`, c, TENANT)]);
      results.set(c.id, { cmp: compareOutcomes(ref, test, { shouldFail: c.shouldFail, ordered: c.ordered }), ref, test });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/** Size of a successful answer: series and points (scalar/string: 1 and 1). */
function resultSize(o: ApiOutcome | undefined): { resultType?: string; series?: number; points?: number } {
  const data = o?.json?.status === 'success' ? o.json.data : undefined;
  if (!data) return {};
  const rt = data.resultType;
  if (rt !== 'vector' && rt !== 'matrix') return { resultType: rt, series: 1, points: 1 };
  const result = (data.result ?? []) as { values?: unknown[] }[];
  const points = rt === 'vector' ? result.length : result.reduce((n, s) => n + (s.values?.length ?? 0), 0);
  return { resultType: rt, series: result.length, points };
}

function writeReport(): void {
  const failures = CASES.map((c) => ({ c, r: results.get(c.id) })).filter(({ r }) => !r?.cmp.ok);
  const byKind = new Map<string, typeof failures>();
  for (const f of failures) {
    const k = f.r?.cmp.kind ?? 'not-run';
    byKind.set(k, [...(byKind.get(k) ?? []), f]);
  }
  const passed = CASES.length - failures.length;
  const lines = [
    `promql differential suite: ${passed} passed, ${failures.length} failed of ${CASES.length} cases`,
    `dataset: ${DATASET.series.length} series, ${DATASET.sampleCount} samples, ${new Date(DATASET.start).toISOString()} .. ${new Date(DATASET.end).toISOString()}`,
    `query phase: ${(queryPhaseMs / 1000).toFixed(1)} s at concurrency ${CONCURRENCY}`,
    `cases where Prometheus succeeded with an empty result: ${CASES.filter((c) => resultSize(results.get(c.id)?.ref).series === 0).length}`,
    ...(setupError ? [`setup error: ${setupError.message}`] : []),
    '',
    'failures by kind: ' + [...byKind].map(([k, v]) => `${k} ${v.length}`).join(', '),
  ];
  for (const [k, fs_] of byKind) {
    lines.push('', `=== ${k} (${fs_.length})`);
    for (const { c, r } of fs_) {
      lines.push(`--- [${c.group}] ${c.id}`);
      if (r) lines.push(r.cmp.message.replace(/^/gm, '    '));
    }
  }
  fs.mkdirSync(REPORT_DIR, { recursive: true });
  fs.writeFileSync(path.join(REPORT_DIR, 'promql-compat.txt'), lines.join('\n') + '\n');
  const json = CASES.map((c) => {
    const r = results.get(c.id);
    return {
      ...c,
      ok: r?.cmp.ok ?? false,
      failure: r?.cmp.kind ?? (r ? undefined : 'not-run'),
      message: r?.cmp.message,
      prometheusMs: r?.ref.ms,
      strataMs: r?.test.ms,
      strataError: r?.test.json?.error,
      prometheusError: r?.ref.json?.error,
      ...resultSize(r?.ref),
    };
  });
  fs.writeFileSync(path.join(REPORT_DIR, 'promql-compat.json'), JSON.stringify(json, null, 1));
}

beforeAll(async () => {
  try {
    if (findPrometheus() === undefined) throw new Error(`prometheus is not installed; run: ${PROMETHEUS_INSTALL_HINT}`);
    // evaluation_interval 1m: the default step of subqueries without one (`[5m:]`), like Strata's.
    const [p, s] = await Promise.allSettled([
      startPrometheus({ selfScrape: false, scrapeInterval: '1m', externalLabels: {} }),
      startStrata({
        args: ['-distributor.ingestion-rate-limit=100000000', '-distributor.ingestion-burst-size=100000000'],
        readyTimeoutMs: 300_000,
      }),
    ]);
    if (p.status === 'fulfilled') prom = p.value;
    if (s.status === 'fulfilled') strata = s.value;
    if (p.status === 'rejected') throw p.reason;
    if (s.status === 'rejected') throw s.reason;
    await loadDataset(DATASET, prom!.writeUrl, strata!.pushUrl);
    await waitForSeries(prom!, strata!);
    const t0 = Date.now();
    await runAll(prom!, strata!);
    queryPhaseMs = Date.now() - t0;
  } catch (err) {
    setupError = err as Error;
  }
}, 900_000);

afterAll(async () => {
  const passed = [...results.values()].filter((r) => r.cmp.ok).length;
  try {
    writeReport();
  } finally {
    console.log(`promql: ${passed} passed, ${CASES.length - passed} failed`);
    await prom?.stop(); // before Strata (tooling.md gotcha 3)
    await strata?.stop();
  }
}, 60_000);

test('the suite has at least 250 cases with unique names', () => {
  expect(CASES.length).toBeGreaterThanOrEqual(250);
  expect(new Set(CASES.map((c) => c.id)).size).toBe(CASES.length);
});

test.each(CASES.map((c) => [c.id, c] as const))('%s', (_id, c) => {
  const r = results.get(c.id);
  if (!r) throw setupError ?? new Error('the case did not run');
  if (!r.cmp.ok) throw new Error(`[${r.cmp.kind}] ${r.cmp.message}`);
});
