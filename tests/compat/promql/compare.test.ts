/** The comparison rules and the query expansion of the differential PromQL suite (no servers). */
import { compareOutcomes, labelsKey, parseValue, valuesEqual, type ApiOutcome } from './compare';
import { alignedEnd, buildDataset, HISTOGRAM_BUCKETS, INSTANCES, timeSlices } from './dataset';
import { buildCases, COMPLIANCE_TEMPLATES, expandTemplate } from './queries';

const ok = (data: unknown): ApiOutcome => ({ httpStatus: 200, body: '', json: { status: 'success', data: data as never }, ms: 0 });
const err = (httpStatus: number, errorType: string, error = 'x'): ApiOutcome => ({
  httpStatus,
  body: '',
  json: { status: 'error', errorType, error },
  ms: 0,
});
const vec = (...s: [Record<string, string>, string][]) => ({ resultType: 'vector', result: s.map(([metric, v]) => ({ metric, value: [1700000000.5, v] })) });

describe('values', () => {
  test('Prometheus value strings', () => {
    expect(parseValue('NaN')).toBeNaN();
    expect(parseValue('+Inf')).toBe(Infinity);
    expect(parseValue('-Inf')).toBe(-Infinity);
    expect(parseValue('1e-07')).toBe(1e-7);
    expect(parseValue('-0')).toBe(-0);
    expect(parseValue('abc')).toBeUndefined();
    expect(parseValue(1)).toBeUndefined();
  });
  test('NaN equals NaN, infinities exact, 1e-6 relative otherwise', () => {
    expect(valuesEqual(NaN, NaN)).toBe(true);
    expect(valuesEqual(NaN, 0)).toBe(false);
    expect(valuesEqual(Infinity, Infinity)).toBe(true);
    expect(valuesEqual(Infinity, -Infinity)).toBe(false);
    expect(valuesEqual(Infinity, 1e308)).toBe(false);
    expect(valuesEqual(1e9, 1e9 + 999)).toBe(true);
    expect(valuesEqual(1e9, 1e9 + 1001)).toBe(false);
    expect(valuesEqual(0, 1e-300)).toBe(false);
    expect(valuesEqual(0, -0)).toBe(true);
  });
  test('label keys ignore order', () => {
    expect(labelsKey({ a: '1', b: '2' })).toBe(labelsKey({ b: '2', a: '1' }));
    expect(labelsKey({ a: '1' })).not.toBe(labelsKey({ a: '1', b: '' }));
  });
});

describe('compareOutcomes', () => {
  test('errors: status and errorType must match, not the text', () => {
    expect(compareOutcomes(err(400, 'bad_data', 'a'), err(400, 'bad_data', 'b'), { shouldFail: true }).ok).toBe(true);
    expect(compareOutcomes(err(422, 'execution'), err(400, 'bad_data'), { shouldFail: true }).kind).toBe('error-mismatch');
    expect(compareOutcomes(err(422, 'execution'), err(500, 'execution'), { shouldFail: true }).kind).toBe('error-mismatch');
    expect(compareOutcomes(err(400, 'bad_data'), ok(vec()), { shouldFail: true }).kind).toBe('unexpected-success');
    expect(compareOutcomes(ok(vec()), err(422, 'execution')).kind).toBe('unexpected-error');
    expect(compareOutcomes(ok(vec()), ok(vec()), { shouldFail: true }).kind).toBe('reference');
    expect(compareOutcomes(err(400, 'bad_data'), err(400, 'bad_data')).kind).toBe('reference');
  });
  test('vectors compare as sets of label sets, values with tolerance', () => {
    const a = vec([{ a: '1' }, '1'], [{ a: '2' }, 'NaN']);
    expect(compareOutcomes(ok(a), ok(vec([{ a: '2' }, 'NaN'], [{ a: '1' }, '1.0000000001']))).ok).toBe(true);
    expect(compareOutcomes(ok(a), ok(vec([{ a: '1' }, '1'], [{ a: '2' }, '0']))).kind).toBe('values');
    expect(compareOutcomes(ok(a), ok(vec([{ a: '1' }, '1']))).kind).toBe('series');
    expect(compareOutcomes(ok(a), ok(vec([{ a: '1' }, '1'], [{ a: '2', b: 'x' }, 'NaN']))).kind).toBe('series');
    expect(compareOutcomes(ok(a), ok(vec([{ a: '1' }, '1'], [{ a: '1' }, '1']))).kind).toBe('series');
  });
  test('sorted instant vectors must keep the order of values; ties may swap', () => {
    const a = vec([{ a: '1' }, '1'], [{ a: '2' }, '2'], [{ a: '3' }, '2']);
    expect(compareOutcomes(ok(a), ok(vec([{ a: '2' }, '2'], [{ a: '1' }, '1'], [{ a: '3' }, '2'])), { ordered: true }).kind).toBe('order');
    expect(compareOutcomes(ok(a), ok(vec([{ a: '1' }, '1'], [{ a: '3' }, '2'], [{ a: '2' }, '2'])), { ordered: true }).ok).toBe(true);
    expect(compareOutcomes(ok(a), ok(vec([{ a: '2' }, '2'], [{ a: '1' }, '1'], [{ a: '3' }, '2']))).ok).toBe(true);
  });
  test('matrix timestamps are exact (ms)', () => {
    const m = (ts: number[]) => ({ resultType: 'matrix', result: [{ metric: {}, values: ts.map((t) => [t, '1']) }] });
    expect(compareOutcomes(ok(m([1.001, 2])), ok(m([1.001, 2]))).ok).toBe(true);
    expect(compareOutcomes(ok(m([1.001, 2])), ok(m([1.002, 2]))).kind).toBe('timestamps');
    expect(compareOutcomes(ok(m([1, 2])), ok(m([1]))).kind).toBe('timestamps');
  });
  test('scalars and strings', () => {
    expect(compareOutcomes(ok({ resultType: 'scalar', result: [1.5, '+Inf'] }), ok({ resultType: 'scalar', result: [1.5, '+Inf'] })).ok).toBe(true);
    expect(compareOutcomes(ok({ resultType: 'scalar', result: [1.5, '1'] }), ok({ resultType: 'scalar', result: [1.501, '1'] })).kind).toBe('timestamps');
    expect(compareOutcomes(ok({ resultType: 'string', result: [1, 'a'] }), ok({ resultType: 'string', result: [1, 'b'] })).kind).toBe('values');
    expect(compareOutcomes(ok({ resultType: 'scalar', result: [1, '1'] }), ok(vec([{}, '1']))).kind).toBe('result-type');
  });
});

describe('query list', () => {
  test('templates expand like the compliance tester', () => {
    expect(expandTemplate({ query: '{{.topBottomOp}}(x[{{.range}}])', variantArgs: ['topBottomOp', 'range'] })).toEqual([
      'topk(x[1s])',
      'topk(x[15s])',
      'topk(x[1m])',
      'topk(x[5m])',
      'topk(x[15m])',
      'topk(x[1h])',
      'bottomk(x[1s])',
      'bottomk(x[15s])',
      'bottomk(x[1m])',
      'bottomk(x[5m])',
      'bottomk(x[15m])',
      'bottomk(x[1h])',
    ]);
    const n = COMPLIANCE_TEMPLATES.reduce((k, t) => k + expandTemplate(t).length, 0);
    expect(n).toBeGreaterThan(500);
    for (const t of COMPLIANCE_TEMPLATES) for (const q of expandTemplate(t)) expect(q).not.toMatch(/\{\{/);
  });
  test('at least 250 cases, unique ids, both kinds, error cases of both types', () => {
    const ds = buildDataset(alignedEnd(Date.UTC(2026, 0, 1)));
    const cases = buildCases({ end: ds.end, start: ds.start });
    expect(cases.length).toBeGreaterThanOrEqual(250);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
    expect(cases.some((c) => c.kind === 'instant')).toBe(true);
    expect(cases.filter((c) => c.shouldFail).length).toBeGreaterThan(40);
  });
});

describe('dataset', () => {
  const end = alignedEnd(Date.UTC(2026, 0, 1, 12, 0, 30));
  const ds = buildDataset(end);
  test('deterministic, aligned, within the span, time-ordered per series', () => {
    expect(end % 60_000).toBe(0);
    expect(JSON.stringify(buildDataset(end).series.slice(0, 20))).toBe(JSON.stringify(ds.series.slice(0, 20)));
    const bad: string[] = [];
    for (const s of ds.series) {
      if (!s.samples.length) bad.push(`${JSON.stringify(s.labels)}: no samples`);
      for (let i = 0; i < s.samples.length; i++) {
        const t = Number(s.samples[i]!.t);
        if (t <= ds.start || t > ds.end || (i > 0 && t <= Number(s.samples[i - 1]!.t))) bad.push(`${JSON.stringify(s.labels)}: sample ${i} at ${t}`);
      }
    }
    expect(bad).toEqual([]);
  });
  test('has the required kinds of data', () => {
    const by = (name: string) => ds.series.filter((s) => s.labels.__name__ === name);
    expect(by('demo_api_request_duration_seconds_bucket')).toHaveLength(INSTANCES.length * 4 * HISTOGRAM_BUCKETS.length);
    const values = ds.series.flatMap((s) => s.samples.map((x) => x.v));
    expect(values.some((v) => Number.isNaN(v))).toBe(true);
    expect(values).toContain(Infinity);
    expect(values).toContain(-Infinity);
    expect(ds.series.some((s) => s.samples.some((x) => x.bits === 0x7ff0000000000002n))).toBe(true);
    expect(ds.series.some((s) => /[^\x00-\x7f]/.test(s.labels.name ?? ''))).toBe(true);
    // Counter resets.
    const cpu = by('demo_cpu_usage_seconds_total');
    expect(cpu.some((s) => s.samples.some((x, i) => i > 0 && x.v < s.samples[i - 1]!.v))).toBe(true);
  });
  test('time slices keep every sample once, in time order', () => {
    const slices = timeSlices(ds);
    let n = 0;
    let lastMax = -Infinity;
    for (const slice of slices) {
      const ts = slice.flatMap((s) => (s.samples ?? []).map((x) => Number(x.t)));
      n += ts.length;
      expect(Math.min(...ts)).toBeGreaterThan(lastMax - 10 * 60_000);
      lastMax = Math.max(...ts);
    }
    expect(n).toBe(ds.sampleCount);
  });
});
