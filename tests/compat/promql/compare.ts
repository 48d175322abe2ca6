/**
 * Compares one query's answer from Strata with Prometheus's (formats.md §7 and §8.1):
 * - errors: same HTTP status and errorType (not the message text);
 * - success: same resultType; vector/matrix series matched by their full label set (as sets, except
 *   that instant `sort`/`sort_desc` results must come in the same value order); timestamps exact
 *   (ms); values within 1e-6 relative (go-cmp EquateApprox: |a-b| <= 1e-6 * min(|a|,|b|)), NaN
 *   equals NaN, ±Inf exact; scalar and string results likewise.
 */

export interface ApiJson {
  status?: string;
  data?: { resultType?: string; result?: unknown };
  errorType?: string;
  error?: string;
  warnings?: string[];
}

/** One HTTP answer (or a transport failure). */
export interface ApiOutcome {
  httpStatus: number;
  body: string;
  json?: ApiJson;
  /** Network error, timeout, or a body that is not JSON. */
  transportError?: string;
  ms: number;
}

export type FailureKind =
  | 'transport' // Strata did not answer (connection, timeout, non-JSON body)
  | 'reference' // Prometheus did something the case does not expect (suite bug or dataset problem)
  | 'unexpected-error' // Strata errored where Prometheus succeeded
  | 'unexpected-success' // Strata succeeded where Prometheus errored
  | 'error-mismatch' // both errored, different status or errorType
  | 'result-type'
  | 'series' // missing or extra series
  | 'timestamps'
  | 'values'
  | 'order'
  | 'format'; // malformed envelope or value

export interface Comparison {
  ok: boolean;
  kind?: FailureKind;
  message: string;
}

export const VALUE_TOLERANCE = 1e-6;

export interface CompareOptions {
  shouldFail?: boolean;
  /** Enforce the order of an instant vector (sort, sort_desc). */
  ordered?: boolean;
}

const fail = (kind: FailureKind, message: string): Comparison => ({ ok: false, kind, message });
const PASS: Comparison = { ok: true, message: '' };

function errorText(o: ApiOutcome): string {
  if (o.transportError) return o.transportError;
  return `HTTP ${o.httpStatus} ${o.json?.errorType ?? '?'}: ${o.json?.error ?? o.body.slice(0, 300)}`;
}

function isError(o: ApiOutcome): boolean {
  return o.json?.status !== 'success' || o.httpStatus !== 200;
}

export function compareOutcomes(ref: ApiOutcome, test: ApiOutcome, opts: CompareOptions = {}): Comparison {
  if (ref.transportError) return fail('reference', `Prometheus: ${ref.transportError}`);
  if (test.transportError) return fail('transport', `Strata: ${test.transportError}`);
  const refErr = isError(ref);
  const testErr = isError(test);
  if (opts.shouldFail && !refErr) return fail('reference', 'the case expects an error but Prometheus succeeded');
  if (!opts.shouldFail && refErr) return fail('reference', `Prometheus failed: ${errorText(ref)}`);
  if (refErr) {
    if (!testErr) return fail('unexpected-success', `Prometheus: ${errorText(ref)}; Strata succeeded (${test.json?.data?.resultType ?? '?'})`);
    if (ref.httpStatus !== test.httpStatus || ref.json?.errorType !== test.json?.errorType) {
      return fail('error-mismatch', `Prometheus: ${errorText(ref)}\nStrata:     ${errorText(test)}`);
    }
    return PASS;
  }
  if (testErr) return fail('unexpected-error', `Strata: ${errorText(test)}`);
  return compareData(ref.json!.data, test.json!.data, opts);
}

// -------------------------------------------------------------------------------------------------
// Values

/** Parses a Prometheus sample value string ("NaN", "+Inf", "-Inf", Go float formats). */
export function parseValue(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  if (s === 'NaN') return Number.NaN;
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s.trim() === '') return undefined;
  const v = Number(s);
  return Number.isNaN(v) ? undefined : v;
}

export function valuesEqual(a: number, b: number, tolerance = VALUE_TOLERANCE): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= tolerance * Math.min(Math.abs(a), Math.abs(b));
}

/** Timestamp (JSON number, seconds) → integer ms. */
export function parseTimestamp(t: unknown): number | undefined {
  if (typeof t !== 'number' || !Number.isFinite(t)) return undefined;
  return Math.round(t * 1000);
}

interface Point {
  t: number;
  v: number;
  raw: string;
}

function parsePoint(p: unknown): Point | undefined {
  if (!Array.isArray(p) || p.length !== 2) return undefined;
  const t = parseTimestamp(p[0]);
  const v = parseValue(p[1]);
  if (t === undefined || v === undefined) return undefined;
  return { t, v, raw: p[1] as string };
}

// -------------------------------------------------------------------------------------------------
// Series

/** A canonical key for a label set: entries sorted by name (UTF-8 byte order). */
export function labelsKey(metric: Record<string, string>): string {
  const entries = Object.entries(metric).sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return JSON.stringify(entries);
}

function fmtLabels(metric: Record<string, string>): string {
  const name = metric.__name__ ?? '';
  const rest = Object.entries(metric)
    .filter(([k]) => k !== '__name__')
    .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${name}{${rest.join(', ')}}`;
}

interface Series {
  metric: Record<string, string>;
  key: string;
  points: Point[];
}

function parseSeriesList(result: unknown, kind: 'vector' | 'matrix', who: string): Series[] | string {
  if (!Array.isArray(result)) return `${who}: result is not an array`;
  const out: Series[] = [];
  for (const s of result as unknown[]) {
    if (typeof s !== 'object' || s === null) return `${who}: series is not an object`;
    const o = s as { metric?: unknown; value?: unknown; values?: unknown; histogram?: unknown; histograms?: unknown };
    if (typeof o.metric !== 'object' || o.metric === null) return `${who}: series without metric`;
    const metric = o.metric as Record<string, string>;
    if (o.histogram !== undefined || o.histograms !== undefined) return `${who}: unexpected native histogram in ${fmtLabels(metric)}`;
    const raw = kind === 'vector' ? [o.value] : o.values;
    if (!Array.isArray(raw)) return `${who}: ${fmtLabels(metric)} has no ${kind === 'vector' ? 'value' : 'values'}`;
    const points: Point[] = [];
    for (const p of raw) {
      const pt = parsePoint(p);
      if (!pt) return `${who}: malformed point ${JSON.stringify(p)} in ${fmtLabels(metric)}`;
      points.push(pt);
    }
    out.push({ metric, key: labelsKey(metric), points });
  }
  return out;
}

const MAX_LISTED = 4;

function listSeries(ss: Series[]): string {
  const shown = ss.slice(0, MAX_LISTED).map((s) => '  ' + fmtLabels(s.metric));
  if (ss.length > MAX_LISTED) shown.push(`  … and ${ss.length - MAX_LISTED} more`);
  return shown.join('\n');
}

function compareData(ref: ApiJson['data'], test: ApiJson['data'], opts: CompareOptions): Comparison {
  const rt = ref?.resultType;
  if (!test || typeof test !== 'object') return fail('format', 'Strata: success without data');
  if (test.resultType !== rt) return fail('result-type', `resultType: Prometheus ${rt}, Strata ${test.resultType}`);
  if (rt === 'scalar' || rt === 'string') {
    const a = ref!.result as unknown[];
    const b = test.result as unknown[];
    if (!Array.isArray(b) || b.length !== 2) return fail('format', `Strata: malformed ${rt} result ${JSON.stringify(b)}`);
    const ta = parseTimestamp(a[0]);
    const tb = parseTimestamp(b[0]);
    if (ta !== tb) return fail('timestamps', `${rt} timestamp: Prometheus ${a[0]}, Strata ${b[0]}`);
    if (rt === 'string') return a[1] === b[1] ? PASS : fail('values', `string: Prometheus ${JSON.stringify(a[1])}, Strata ${JSON.stringify(b[1])}`);
    const va = parseValue(a[1]);
    const vb = parseValue(b[1]);
    if (vb === undefined) return fail('format', `Strata: malformed scalar value ${JSON.stringify(b[1])}`);
    return valuesEqual(va!, vb) ? PASS : fail('values', `scalar: Prometheus ${a[1]}, Strata ${b[1]}`);
  }
  if (rt !== 'vector' && rt !== 'matrix') return fail('reference', `unexpected resultType ${rt}`);
  const refSeries = parseSeriesList(ref!.result, rt, 'Prometheus');
  if (typeof refSeries === 'string') return fail('reference', refSeries);
  const testSeries = parseSeriesList(test.result, rt, 'Strata');
  if (typeof testSeries === 'string') return fail('format', testSeries);

  const testByKey = new Map<string, Series>();
  for (const s of testSeries) {
    if (testByKey.has(s.key)) return fail('series', `Strata returned the label set ${fmtLabels(s.metric)} twice`);
    testByKey.set(s.key, s);
  }
  const refKeys = new Set(refSeries.map((s) => s.key));
  const missing = refSeries.filter((s) => !testByKey.has(s.key));
  const extra = testSeries.filter((s) => !refKeys.has(s.key));
  if (missing.length || extra.length) {
    const parts = [`series: Prometheus ${refSeries.length}, Strata ${testSeries.length}`];
    if (missing.length) parts.push(`missing in Strata (${missing.length}):\n${listSeries(missing)}`);
    if (extra.length) parts.push(`extra in Strata (${extra.length}):\n${listSeries(extra)}`);
    return fail('series', parts.join('\n'));
  }

  const tsProblems: string[] = [];
  const valueProblems: string[] = [];
  let valueMismatches = 0;
  let worstRel = 0;
  for (const r of refSeries) {
    const t = testByKey.get(r.key)!;
    const a = r.points;
    const b = t.points;
    const ta = a.map((p) => p.t).join(',');
    const tb = b.map((p) => p.t).join(',');
    if (ta !== tb) {
      if (tsProblems.length < MAX_LISTED) tsProblems.push(`  ${fmtLabels(r.metric)}: ${describeTimestampDiff(a, b)}`);
      continue;
    }
    for (let i = 0; i < a.length; i++) {
      if (valuesEqual(a[i]!.v, b[i]!.v)) continue;
      valueMismatches++;
      const rel = Math.abs(a[i]!.v - b[i]!.v) / Math.max(Math.abs(a[i]!.v), Math.abs(b[i]!.v));
      if (Number.isFinite(rel)) worstRel = Math.max(worstRel, rel);
      if (valueProblems.length < MAX_LISTED) {
        valueProblems.push(`  ${fmtLabels(r.metric)} @${(a[i]!.t / 1000).toFixed(3)}: Prometheus ${a[i]!.raw}, Strata ${b[i]!.raw}`);
      }
    }
  }
  if (tsProblems.length) return fail('timestamps', `timestamps differ:\n${tsProblems.join('\n')}`);
  if (valueMismatches) {
    const rel = worstRel > 0 ? ` (largest finite relative error ${worstRel.toExponential(2)})` : '';
    return fail('values', `${valueMismatches} value(s) differ${rel}:\n${valueProblems.join('\n')}`);
  }

  if (opts.ordered && rt === 'vector') {
    // Same values in the same positions (ties may swap label sets: Go's sort is not stable).
    for (let i = 0; i < refSeries.length; i++) {
      if (!valuesEqual(refSeries[i]!.points[0]!.v, testSeries[i]!.points[0]!.v)) {
        const show = (ss: Series[]) => ss.map((s) => s.points[0]!.raw).join(', ');
        return fail('order', `order differs at position ${i}:\n  Prometheus: ${show(refSeries)}\n  Strata:     ${show(testSeries)}`);
      }
    }
  }
  return PASS;
}

function describeTimestampDiff(a: Point[], b: Point[]): string {
  const sa = new Set(a.map((p) => p.t));
  const sb = new Set(b.map((p) => p.t));
  const onlyA = a.filter((p) => !sb.has(p.t)).map((p) => (p.t / 1000).toFixed(3));
  const onlyB = b.filter((p) => !sa.has(p.t)).map((p) => (p.t / 1000).toFixed(3));
  const cut = (xs: string[]) => (xs.length > 3 ? `${xs.slice(0, 3).join(', ')} … (${xs.length})` : xs.join(', '));
  const parts = [`${a.length} vs ${b.length} points`];
  if (onlyA.length) parts.push(`only Prometheus at ${cut(onlyA)}`);
  if (onlyB.length) parts.push(`only Strata at ${cut(onlyB)}`);
  if (!onlyA.length && !onlyB.length) parts.push('same timestamps in a different order');
  return parts.join('; ');
}
