/**
 * The query list of the differential PromQL suite.
 *
 * Part 1 is the prometheus/compliance PromQL query list (`promql/promql-test-queries.yml`),
 * expanded with its expansion table (`promql/testcases/expand.go`, see formats.md §8.1); every case
 * runs as a range query, as the compliance tester does. Part 2 adds edge cases against the dataset in
 * `dataset.ts`: every aggregation, binary operator and Prometheus 2.42 function, subqueries, offset
 * and @, NaN/±Inf, staleness, unicode labels, scalar and string results, parse errors (bad_data,
 * 400) and execution errors (execution, 422), as range and instant queries, some with their own
 * time windows.
 */

export interface QueryCase {
  /** Stable, unique label used as the test name. */
  id: string;
  /** Where the case comes from / what it covers (for the report). */
  group: string;
  query: string;
  kind: 'range' | 'instant';
  /** Range queries: unix seconds (may have ms). */
  start?: number;
  end?: number;
  /** Range queries: seconds. */
  step?: number;
  /** Instant queries: unix seconds. */
  time?: number;
  /** Raw API parameters besides `query`, used instead of start/end/step/time (parameter formats). */
  params?: Record<string, string>;
  /** Both must answer with an error (same status and errorType). */
  shouldFail?: boolean;
  /** Instant vector order must match (sort/sort_desc). */
  ordered?: boolean;
}

/** The compliance tester's expansion table (formats.md §8.1). */
export const VARIANT_ARGS: Readonly<Record<string, readonly string[]>> = {
  range: ['1s', '15s', '1m', '5m', '15m', '1h'],
  offset: ['1m', '5m', '10m'],
  simpleAggrOp: ['sum', 'avg', 'max', 'min', 'count', 'stddev', 'stdvar'],
  simpleTimeAggrOp: ['sum', 'avg', 'max', 'min', 'count', 'stddev', 'stdvar', 'absent', 'last'],
  topBottomOp: ['topk', 'bottomk'],
  quantile: ['-0.5', '0.1', '0.5', '0.75', '0.95', '0.90', '0.99', '1', '1.5'],
  arithBinOp: ['+', '-', '*', '/', '%', '^'],
  compBinOp: ['==', '!=', '<', '>', '<=', '>='],
  binOp: ['+', '-', '*', '/', '%', '^', '==', '!=', '<', '>', '<=', '>='],
  simpleMathFunc: ['abs', 'ceil', 'floor', 'exp', 'sqrt', 'ln', 'log2', 'log10', 'round'],
  extrapolatedRateFunc: ['delta', 'rate', 'increase'],
  clampFunc: ['clamp_min', 'clamp_max'],
  instantRateFunc: ['idelta', 'irate'],
  dateFunc: ['day_of_month', 'day_of_week', 'days_in_month', 'hour', 'minute', 'month', 'year'],
  smoothingFactor: ['0.1', '0.5', '0.8'],
  trendFactor: ['0.1', '0.5', '0.8'],
};

export interface Template {
  query: string;
  variantArgs?: readonly string[];
  shouldFail?: boolean;
}

/** Expands `{{.name}}` placeholders: the cartesian product over `variantArgs`, in the tester's order. */
export function expandTemplate(t: Template): string[] {
  const args = t.variantArgs ?? [];
  let out: Record<string, string>[] = [{}];
  for (const a of args) {
    const vals = VARIANT_ARGS[a];
    if (!vals) throw new Error(`unknown variant arg ${a}`);
    const next: Record<string, string>[] = [];
    for (const o of out) for (const v of vals) next.push({ ...o, [a]: v });
    out = next;
  }
  return out.map((o) =>
    t.query.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_m, name: string) => {
      const v = o[name];
      if (v === undefined) throw new Error(`template ${t.query}: {{.${name}}} is not among variant_args`);
      return v;
    }),
  );
}

/** prometheus/compliance promql/promql-test-queries.yml, as data. */
export const COMPLIANCE_TEMPLATES: readonly Template[] = [
  // Scalar literals.
  { query: '42' },
  { query: '1.234' },
  { query: '.123' },
  { query: '1.23e-3' },
  { query: '0x3d' },
  { query: 'Inf' },
  { query: '+Inf' },
  { query: '-Inf' },
  { query: 'NaN' },
  // Vector selectors.
  { query: 'demo_memory_usage_bytes' },
  { query: '{__name__="demo_memory_usage_bytes"}' },
  { query: 'demo_memory_usage_bytes{type="free"}' },
  { query: 'demo_memory_usage_bytes{type!="free"}' },
  { query: 'demo_memory_usage_bytes{instance=~"demo.promlabs.com:.*"}' },
  { query: 'demo_memory_usage_bytes{instance=~"host"}' },
  { query: 'demo_memory_usage_bytes{instance!~".*:10000"}' },
  { query: 'demo_memory_usage_bytes{type="free", instance!="demo.promlabs.com:10000"}' },
  { query: '{type="free", instance!="demo.promlabs.com:10000"}' },
  { query: '{__name__=~".*"}', shouldFail: true },
  { query: 'nonexistent_metric_name' },
  { query: 'demo_memory_usage_bytes offset {{.offset}}', variantArgs: ['offset'] },
  { query: 'demo_memory_usage_bytes offset -{{.offset}}', variantArgs: ['offset'] },
  { query: 'demo_intermittent_metric' },
  // Aggregation operators.
  { query: '{{.simpleAggrOp}}(demo_memory_usage_bytes)', variantArgs: ['simpleAggrOp'] },
  { query: '{{.simpleAggrOp}}(nonexistent_metric_name)', variantArgs: ['simpleAggrOp'] },
  { query: '{{.simpleAggrOp}} by() (demo_memory_usage_bytes)', variantArgs: ['simpleAggrOp'] },
  { query: '{{.simpleAggrOp}} by(instance) (demo_memory_usage_bytes)', variantArgs: ['simpleAggrOp'] },
  { query: '{{.simpleAggrOp}} by(instance, type) (demo_memory_usage_bytes)', variantArgs: ['simpleAggrOp'] },
  { query: '{{.simpleAggrOp}} by(nonexistent) (demo_memory_usage_bytes)', variantArgs: ['simpleAggrOp'] },
  { query: '{{.simpleAggrOp}} without() (demo_memory_usage_bytes)', variantArgs: ['simpleAggrOp'] },
  { query: '{{.simpleAggrOp}} without(instance) (demo_memory_usage_bytes)', variantArgs: ['simpleAggrOp'] },
  { query: '{{.simpleAggrOp}} without(instance, type) (demo_memory_usage_bytes)', variantArgs: ['simpleAggrOp'] },
  { query: '{{.simpleAggrOp}} without(nonexistent) (demo_memory_usage_bytes)', variantArgs: ['simpleAggrOp'] },
  { query: '{{.topBottomOp}} (3, demo_memory_usage_bytes)', variantArgs: ['topBottomOp'] },
  { query: '{{.topBottomOp}} by(instance) (2, demo_memory_usage_bytes)', variantArgs: ['topBottomOp'] },
  { query: '{{.topBottomOp}} without(instance) (2, demo_memory_usage_bytes)', variantArgs: ['topBottomOp'] },
  { query: '{{.topBottomOp}} without() (2, demo_memory_usage_bytes)', variantArgs: ['topBottomOp'] },
  { query: 'quantile({{.quantile}}, demo_memory_usage_bytes)', variantArgs: ['quantile'] },
  { query: 'avg(max by(type) (demo_memory_usage_bytes))' },
  // Binary operators.
  { query: '1 * 2 + 4 / 6 - 10 % 2 ^ 2' },
  { query: 'demo_num_cpus + (1 {{.compBinOp}} bool 2)', variantArgs: ['compBinOp'] },
  { query: 'demo_memory_usage_bytes {{.binOp}} 1.2345', variantArgs: ['binOp'] },
  { query: 'demo_memory_usage_bytes {{.compBinOp}} bool 1.2345', variantArgs: ['compBinOp'] },
  { query: '1.2345 {{.compBinOp}} bool demo_memory_usage_bytes', variantArgs: ['compBinOp'] },
  { query: '0.12345 {{.binOp}} demo_memory_usage_bytes', variantArgs: ['binOp'] },
  { query: '(1 * 2 + 4 / 6 - (10%7)^2) {{.binOp}} demo_memory_usage_bytes', variantArgs: ['binOp'] },
  { query: 'demo_memory_usage_bytes {{.binOp}} (1 * 2 + 4 / 6 - 10)', variantArgs: ['binOp'] },
  { query: 'timestamp(demo_memory_usage_bytes * 1)' },
  { query: 'timestamp(-demo_memory_usage_bytes)' },
  { query: 'demo_memory_usage_bytes {{.binOp}} on(instance, job, type) demo_memory_usage_bytes', variantArgs: ['binOp'] },
  {
    query: 'sum by(instance, type) (demo_memory_usage_bytes) {{.binOp}} on(instance, type) group_left(job) demo_memory_usage_bytes',
    variantArgs: ['binOp'],
  },
  { query: 'demo_memory_usage_bytes {{.compBinOp}} bool on(instance, job, type) demo_memory_usage_bytes', variantArgs: ['compBinOp'] },
  { query: 'demo_memory_usage_bytes / on(instance, job, type, __name__) demo_memory_usage_bytes' },
  { query: 'sum without(job) (demo_memory_usage_bytes) / on(instance, type) demo_memory_usage_bytes' },
  { query: 'sum without(job) (demo_memory_usage_bytes) / on(instance, type) group_left demo_memory_usage_bytes' },
  { query: 'sum without(job) (demo_memory_usage_bytes) / on(instance, type) group_left(job) demo_memory_usage_bytes' },
  { query: 'demo_memory_usage_bytes / on(instance, job) group_left demo_num_cpus' },
  { query: 'demo_memory_usage_bytes / on(instance, type, job, non_existent) demo_memory_usage_bytes' },
  // NaN/Inf/-Inf support.
  { query: 'demo_num_cpus * Inf' },
  { query: 'demo_num_cpus * -Inf' },
  { query: 'demo_num_cpus * NaN' },
  // Unary expressions.
  { query: 'demo_memory_usage_bytes + -(1)' },
  { query: '-demo_memory_usage_bytes' },
  { query: '-1 ^ 2' },
  // Binops involving non-const scalars.
  { query: '1 {{.arithBinOp}} time()', variantArgs: ['arithBinOp'] },
  { query: 'time() {{.arithBinOp}} 1', variantArgs: ['arithBinOp'] },
  { query: 'time() {{.compBinOp}} bool 1', variantArgs: ['compBinOp'] },
  { query: '1 {{.compBinOp}} bool time()', variantArgs: ['compBinOp'] },
  { query: 'time() {{.arithBinOp}} time()', variantArgs: ['arithBinOp'] },
  { query: 'time() {{.compBinOp}} bool time()', variantArgs: ['compBinOp'] },
  { query: 'time() {{.binOp}} demo_memory_usage_bytes', variantArgs: ['binOp'] },
  { query: 'demo_memory_usage_bytes {{.binOp}} time()', variantArgs: ['binOp'] },
  // Functions.
  { query: '{{.simpleTimeAggrOp}}_over_time(demo_memory_usage_bytes[{{.range}}])', variantArgs: ['simpleTimeAggrOp', 'range'] },
  { query: 'quantile_over_time({{.quantile}}, demo_memory_usage_bytes[{{.range}}])', variantArgs: ['quantile', 'range'] },
  { query: 'timestamp(demo_num_cpus)' },
  { query: 'timestamp(timestamp(demo_num_cpus))' },
  { query: '{{.simpleMathFunc}}(demo_memory_usage_bytes)', variantArgs: ['simpleMathFunc'] },
  { query: '{{.simpleMathFunc}}(-demo_memory_usage_bytes)', variantArgs: ['simpleMathFunc'] },
  { query: '{{.extrapolatedRateFunc}}(nonexistent_metric[5m])', variantArgs: ['extrapolatedRateFunc'] },
  { query: '{{.extrapolatedRateFunc}}(demo_cpu_usage_seconds_total[{{.range}}])', variantArgs: ['extrapolatedRateFunc', 'range'] },
  { query: 'deriv(demo_disk_usage_bytes[{{.range}}])', variantArgs: ['range'] },
  { query: 'predict_linear(demo_disk_usage_bytes[{{.range}}], 600)', variantArgs: ['range'] },
  { query: 'time()' },
  { query: 'label_replace(demo_num_cpus, "job", "destination-value-$1", "instance", "demo.promlabs.com:(.*)")' },
  { query: 'label_replace(demo_num_cpus, "job", "destination-value-$1", "instance", "host:(.*)")' },
  { query: 'label_replace(demo_num_cpus, "job", "$1-$2", "instance", "local(.*):(.*)")' },
  { query: 'label_replace(demo_num_cpus, "job", "value-$1", "nonexistent-src", "source-value-(.*)")' },
  { query: 'label_replace(demo_num_cpus, "job", "value-$1", "nonexistent-src", "(.*)")' },
  { query: 'label_replace(demo_num_cpus, "job", "value-$1", "instance", "non-matching-regex")' },
  { query: 'label_replace(demo_num_cpus, "job", "", "dst", ".*")' },
  { query: 'label_replace(demo_num_cpus, "job", "value-$1", "src", "(.*")', shouldFail: true },
  { query: 'label_replace(demo_num_cpus, "\\xff", "", "src", "(.*)")', shouldFail: true },
  { query: 'label_replace(demo_num_cpus, "instance", "", "", "")', shouldFail: true },
  { query: 'label_join(demo_num_cpus, "new_label", "-", "instance", "job")' },
  { query: 'label_join(demo_num_cpus, "job", "-", "instance", "job")' },
  { query: 'label_join(demo_num_cpus, "job", "-", "instance")' },
  { query: 'label_join(demo_num_cpus, "\\xff", "-", "instance")', shouldFail: true },
  { query: '{{.dateFunc}}()', variantArgs: ['dateFunc'] },
  { query: '{{.dateFunc}}(demo_batch_last_success_timestamp_seconds offset {{.offset}})', variantArgs: ['dateFunc', 'offset'] },
  { query: '{{.instantRateFunc}}(demo_cpu_usage_seconds_total[{{.range}}])', variantArgs: ['instantRateFunc', 'range'] },
  { query: '{{.clampFunc}}(demo_memory_usage_bytes, 2)', variantArgs: ['clampFunc'] },
  { query: 'clamp(demo_memory_usage_bytes, 0, 1)' },
  { query: 'clamp(demo_memory_usage_bytes, 0, 1000000000000)' },
  { query: 'clamp(demo_memory_usage_bytes, 1000000000000, 0)' },
  { query: 'clamp(demo_memory_usage_bytes, 1000000000000, 1000000000000)' },
  { query: 'resets(demo_cpu_usage_seconds_total[{{.range}}])', variantArgs: ['range'] },
  { query: 'changes(demo_batch_last_success_timestamp_seconds[{{.range}}])', variantArgs: ['range'] },
  { query: 'vector(1.23)' },
  { query: 'vector(time())' },
  { query: 'histogram_quantile({{.quantile}}, rate(demo_api_request_duration_seconds_bucket[1m]))', variantArgs: ['quantile'] },
  { query: 'histogram_quantile(0.9, nonexistent_metric)' },
  { query: 'histogram_quantile(0.9, demo_memory_usage_bytes)' },
  { query: 'histogram_quantile(0.9, {__name__=~"demo_api_request_duration_seconds_.+"})' },
  { query: 'count_values("value", demo_api_request_duration_seconds_bucket)' },
  { query: 'absent(demo_memory_usage_bytes)' },
  { query: 'absent(nonexistent_metric_name)' },
  // Subqueries.
  { query: 'max_over_time((time() - max(demo_batch_last_success_timestamp_seconds) < 1000)[5m:10s] offset 5m)' },
  { query: 'avg_over_time(rate(demo_cpu_usage_seconds_total[1m])[2m:10s])' },
];

/** Time windows (relative to the dataset end T, in seconds) used by the edge cases. */
interface Window {
  start: number;
  end: number;
  step: number;
}

export interface BuildOptions {
  /** Dataset end, ms. */
  end: number;
  /** Dataset start, ms. */
  start: number;
}

/**
 * Builds the full case list for a dataset ending at `opts.end`. Deterministic for a given end.
 * Default range window: [T-40m, T-10m], step 10 s (181 points); default instant time: T-10m.
 */
export function buildCases(opts: BuildOptions): QueryCase[] {
  const T = opts.end / 1000;
  const T0 = opts.start / 1000;
  const W: Record<string, Window> = {
    default: { start: T - 2400, end: T - 600, step: 10 },
    // Across the end of the data: lookback expiry, series disappearing.
    dataEnd: { start: T - 600, end: T + 600, step: 30 },
    // Across the start of the data: extrapolation with partial windows.
    dataStart: { start: T0 - 300, end: T0 + 900, step: 20 },
    // Unaligned start/end with milliseconds, odd step.
    odd: { start: T - 1800 + 0.123, end: T - 1200 + 0.456, step: 7 },
    // The whole dataset at 1 m resolution (all counter resets, all gaps).
    whole: { start: T0, end: T, step: 60 },
    // Fine resolution (1 s) over 2 minutes.
    fine: { start: T - 1500, end: T - 1380, step: 1 },
  };
  const defaultTime = T - 600;
  // The whole dataset, from the first minute in which every series has a sample.
  const afterStart: Window = { start: T0 + 60, end: T, step: 60 };
  const cases: QueryCase[] = [];
  const seen = new Map<string, number>();
  const push = (c: Omit<QueryCase, 'id'>) => {
    const w = c.params
      ? ` ${new URLSearchParams(c.params).toString()}`
      : c.kind === 'instant'
        ? c.time === defaultTime
          ? ''
          : ` @T${fmtRel(c.time! - T)}`
        : c.start === W.default!.start && c.end === W.default!.end && c.step === W.default!.step
          ? ''
          : ` [T${fmtRel(c.start! - T)}..T${fmtRel(c.end! - T)}/${c.step}s]`;
    let id = `${c.kind}${w}: ${c.query}`;
    const n = seen.get(id) ?? 0;
    seen.set(id, n + 1);
    if (n) id += ` (#${n + 1})`;
    cases.push({ ...c, id });
  };
  const range = (group: string, query: string, o: { w?: keyof typeof W; shouldFail?: boolean; win?: Window } = {}) => {
    const w = o.win ?? W[o.w ?? 'default']!;
    push({ group, query, kind: 'range', start: w.start, end: w.end, step: w.step, shouldFail: o.shouldFail });
  };
  const instant = (group: string, query: string, o: { at?: number; shouldFail?: boolean; ordered?: boolean } = {}) => {
    push({ group, query, kind: 'instant', time: o.at === undefined ? defaultTime : T + o.at, shouldFail: o.shouldFail, ordered: o.ordered });
  };
  const both = (group: string, query: string, o: { w?: keyof typeof W; shouldFail?: boolean } = {}) => {
    range(group, query, o);
    instant(group, query, { shouldFail: o.shouldFail });
  };
  const fail = (group: string, query: string) => both(group, query, { shouldFail: true });

  // ---- Part 1: prometheus/compliance, as range queries over the default window.
  for (const t of COMPLIANCE_TEMPLATES) for (const q of expandTemplate(t)) range('compliance', q, { shouldFail: t.shouldFail });

  // ---- Part 2: edge cases.
  const M = 'demo_memory_usage_bytes';
  const C = 'demo_cpu_usage_seconds_total';
  const H = 'demo_api_request_duration_seconds_bucket';
  const S = 'demo_special_values';
  const U = 'demo_unicode_labels';
  const I = 'demo_intermittent_metric';
  const J = 'demo_jitter_gauge';

  // Selectors, staleness, lookback, time windows.
  for (const w of ['dataEnd', 'dataStart', 'odd', 'whole', 'fine'] as const) range('selectors/windows', M, { w });
  for (const w of ['dataEnd', 'whole', 'odd', 'fine'] as const) range('staleness', I, { w });
  both('staleness', `${I} offset 3m`);
  range('staleness', `${I} or on(instance) vector(0)`, { w: 'whole' });
  range('staleness', `count(${I})`, { w: 'whole' });
  for (const at of [120, 299, 300, 301, 360]) instant('lookback', M, { at });
  instant('lookback', I, { at: -1200 });
  instant('lookback', I, { at: 0 });
  both('selectors', J);
  range('selectors', J, { w: 'fine' });
  both('selectors', S);
  both('selectors', `${S}{case=~"nan|inf"}`);
  both('unicode', U);
  both('unicode', `${U}{name="😀"}`);
  both('unicode', `${U}{name=~"."}`);
  both('unicode', `${U}{name=~"(?i)ZEBRA|ÉMILE"}`);
  both('unicode', `${U}{name!~"[a-z]+"}`);
  both('unicode', `${U}{name=~\`\\p{L}+\`}`);
  both('unicode', `${U}{name="quote\\"back\\\\slash"}`);
  both('unicode', `${U}{name="new\\nline"}`);
  both('unicode', `${U}{name=~"ü.*|Ａ"}`);
  both('unicode', `{__name__="${U}", name=~".*[^\\x00-\\x7f].*"}`);
  // Regular expressions are RE2 (Go regexp), fully anchored; `.` does not match a newline.
  for (const re of [
    '[[:alpha:]]+',
    '[[:^alpha:]]*',
    '\\\\Qfree\\\\E',
    '(?P<t>free)',
    '(?U)f.*',
    '(?i)FREE|Used',
    '\\\\x{66}ree',
    '\\\\pLree',
    '\\\\Afree\\\\z',
    '\\\\bfree',
    'free|',
    'fr(e)+',
    '[[:word:]]+',
  ]) {
    both('regex', `${M}{type=~"${re}"}`);
  }
  both('regex', `${M}{instance=~"demo\\\\.promlabs\\\\.com:1000[01]"}`);
  both('regex', `${M}{type!~"(?i)F.*"}`);
  for (const re of ['new.line', '(?s)new.line', '(?m)^line$', '\\\\p{Greek}|\\\\p{Han}+', '[^a-z]', '(?i)ÜÑÍ', '.{3}', '[😀Ａ]']) {
    both('regex', `${U}{name=~"${re}"}`);
  }
  for (const re of ['(?=f)free', '(f)\\\\1ree', 'fx{1001}', 'fre\\\\e', '(?<t>free)']) {
    fail('regex/errors', `${M}{type=~"${re}"}`);
  }
  fail('regex/errors', `label_replace(demo_num_cpus, "x", "$1", "instance", "(?=d)(.*)")`);
  both('regex', `label_replace(${U}, "x", "$1", "name", "(?s)(.*)line")`);
  both('regex', `label_replace(${U}, "x", "$1", "name", "(.*)line")`);
  both('regex', `label_replace(${M}, "t", "$1", "type", "(?i)(F)REE")`);

  both('selectors', `{__name__=~"demo_num_cpus|demo_disk_usage_bytes"}`);
  both('selectors', `{__name__=~"demo_memory_usage_bytes", __name__!~".*cpu.*"}`);
  both('selectors', `{__name__=~"demo_(num_cpus|disk_usage_bytes)", instance=~".*1"}`);
  both('selectors', `${M}{type=~"free|used", type!="used"}`);
  both('selectors', `${M}{nonexistent=""}`);
  both('selectors', `${M}{nonexistent!=""}`);
  both('selectors', `${M}{type=~""}`);
  both('selectors', `${M}{type=~"fre"}`);

  // Range selectors as instant queries (matrix results), incl. stale markers and jitter.
  instant('matrix', `${M}[1m]`);
  instant('matrix', `${I}[10m]`);
  instant('matrix', `${I}[10m]`, { at: -1195 });
  instant('matrix', `${J}[2m]`);
  instant('matrix', `${S}[1m]`);
  instant('matrix', `${M}[1m] offset 1m`);
  instant('matrix', `${M}[2m] @ ${T - 1800}`);
  instant('matrix', `${U}[30s]`);

  // Aggregations.
  both('aggregation', `count_values("value", demo_num_cpus)`);
  range('aggregation', `count_values("value", demo_num_cpus)`, { w: 'whole' });
  both('aggregation', `count_values by (instance) ("cpus", demo_num_cpus)`);
  both('aggregation', `count_values("instance", demo_num_cpus)`);
  both('aggregation', `count_values without (instance) ("v", ${I})`);
  both('aggregation', `count_values("v", ${S})`);
  both('aggregation', `count_values("v", ${J} / 7)`);
  fail('aggregation', `count_values("a-b", demo_num_cpus)`);
  both('aggregation', `group(${M})`);
  both('aggregation', `group by (instance) (${M})`);
  both('aggregation', `group without (type) (${M})`);
  both('aggregation', `quantile by (instance) (0.9, ${M})`);
  // quantile over whole matrices: special values, without, a parameter that changes every step.
  both('aggregation', `quantile(0.5, ${S})`);
  both('aggregation', `quantile without (mode) (0.25, rate(${C}[5m]))`);
  both('aggregation', `quantile((time() % 120) / 100, ${M})`);
  both('aggregation', `quantile without (instance) (0.25, ${M})`);
  range('aggregation', `quantile(scalar(demo_num_cpus{instance="demo.promlabs.com:10002"}) / 10, ${M})`, { w: 'whole' });
  both('aggregation', `count_values("v", demo_num_cpus / 1e9)`);
  both('aggregation', `count_values("v", ${M} * 1e12)`);
  both('aggregation', `count_values("v", -${J} / 3)`);
  both('aggregation', `stddev(demo_num_cpus + 1e15)`);
  both('aggregation', `stdvar by (type) (${M} + 1e12)`);
  both('aggregation', `stddev_over_time((${M} + 1e12)[5m:15s])`);
  both('aggregation', `quantile(0.5, ${S})`);
  both('aggregation', `quantile(NaN, ${M})`);
  // k changes from 2 to 4 when instance 2 is resized; the window starts once the scalar exists.
  range('aggregation', `topk(scalar(demo_num_cpus{instance="demo.promlabs.com:10002"}) - 2, ${M})`, { win: afterStart });
  fail('aggregation', `topk(scalar(nonexistent_metric_name), ${M})`);
  both('aggregation', `topk(0, ${M})`);
  both('aggregation', `bottomk(-1, ${M})`);
  both('aggregation', `topk(2.9, ${M})`);
  both('aggregation', `topk(1000, demo_num_cpus)`);
  both('aggregation', `bottomk by (type) (1, ${M})`);
  both('aggregation', `topk by (instance) (1, ${C})`);
  both('aggregation', `topk(2, ${S})`);
  both('aggregation', `bottomk(2, ${S})`);
  both('aggregation', `topk by (nonexistent) (1, demo_num_cpus)`);
  for (const op of ['sum', 'avg', 'max', 'min', 'count', 'stddev', 'stdvar', 'group']) both('aggregation/special', `${op}(${S})`);
  both('aggregation/special', `avg(${S}{case=~"inf|neg_inf"})`);
  both('aggregation/special', `max(${S}{case=~"nan|zero"})`);
  both('aggregation/special', `min(${S}{case="nan"})`);
  both('aggregation/special', `sum by (case) (${S})`);
  both('aggregation', `stddev by (instance) (${M})`);
  both('aggregation', `stdvar without (type) (${M})`);
  both('aggregation', `avg(${M} * 1e300)`);
  both('aggregation', `sum by (name) (${U})`);
  both('aggregation', `count by (region) (demo_instance_info)`);
  both('aggregation', `sum(${M}) by (instance)`);
  both('aggregation', `avg without (mode) (rate(${C}[5m]))`);
  both('aggregation', `sum by (__name__) ({__name__=~"demo_memory_usage_bytes|demo_num_cpus"})`);
  both('aggregation', `count without (__name__) ({__name__=~"demo_(num_cpus|disk_usage_bytes)"})`);
  both('aggregation', `max by (le) (${H})`);
  both('aggregation', `sum without (instance, job, method, path, status) (rate(${H}[5m]))`);
  both('aggregation', `group(nonexistent_metric_name)`);
  both('aggregation', `count(count by (instance, mode) (${C}))`);
  // Aggregations straight over range functions (evaluated without an intermediate matrix).
  for (const op of ['sum', 'avg', 'max', 'min', 'count', 'stddev', 'stdvar', 'group']) {
    both('aggregation/over-range', `${op} by (instance) (rate(${C}[5m]))`);
  }
  both('aggregation/over-range', `sum(rate({__name__=~"demo_api_request_duration_seconds_.+"}[5m]))`, { shouldFail: true });
  both('aggregation/over-range', `sum by (instance) (rate({__name__=~"demo_api_request_duration_seconds_(count|bucket)"}[5m]))`);
  both('aggregation/over-range', `sum by (__name__) (rate(${C}[5m]))`);
  both('aggregation/over-range', `count by (__name__) (last_over_time({__name__=~"${M}|demo_num_cpus"}[5m]))`);
  both('aggregation/over-range', `avg without (mode) (irate(${C}[1m]))`);
  both('aggregation/over-range', `max by (case) (max_over_time(${S}[10m]))`);
  both('aggregation/over-range', `sum(changes(${I}[10m]))`);
  both('aggregation/over-range', `stddev(quantile_over_time(0.9, ${J}[15m]))`);
  both('aggregation/over-range', `sum by (instance) (max_over_time(rate(${C}[5m])[30m:1m]))`);
  both('aggregation/over-range', `count(absent_over_time(nonexistent_metric_name[5m]))`);
  both('aggregation/over-range', `sum((rate(${C}[5m] offset 5m)))`);

  // Binary operators.
  both('binop', `${M} atan2 on(instance, job) group_left demo_num_cpus`);
  both('binop', `demo_num_cpus atan2 2`);
  both('binop', `2 atan2 demo_num_cpus`);
  both('binop', `time() atan2 1000`);
  both('binop', `${S} atan2 ${S}`);
  both('binop', `${M} > 2e9`);
  both('binop', `${M} > bool 2e9`);
  both('binop', `4 >= demo_num_cpus`);
  range('binop', `demo_num_cpus == 4`, { w: 'whole' });
  both('binop', `demo_num_cpus != bool 4`);
  both('binop', `${M} == ${M}`);
  for (const q of [
    `${S} == NaN`,
    `${S} != NaN`,
    `${S} > bool 0`,
    `${S} == bool +Inf`,
    `${S} < -Inf`,
    `${S} + 1`,
    `${S} * 0`,
    `${S} % 2`,
    `${S} ^ 0`,
    `${S} / 0`,
    `-${S}`,
    `${S} - ${S}`,
  ]) both('binop/special', q);
  for (const q of ['0 / 0', '1 / 0', '-1 / 0', '0 ^ -1', '(-8) ^ (1/3)', '-1 % 0', '5 % -3', '-5 % 3', '5.5 % 2', '2 ^ 3 ^ 2', '-2 ^ 2', '2 * -3 ^ 2', '1 == bool 1', 'NaN == bool NaN', 'Inf - Inf', '10 atan2 -1']) {
    both('binop/scalar', q);
  }
  both('binop', `${M} % 7.5`);
  both('binop', `${M} % -1000`);
  both('binop', `-${M} % 1000`);
  both('binop', `${M} ^ 0.5`);
  both('binop', `demo_disk_usage_bytes / on(instance) group_left demo_num_cpus`);
  both('binop/set', `${M} and ${M}{type="free"}`);
  both('binop/set', `${M} and on(instance) (demo_num_cpus > 4)`);
  both('binop/set', `${M} and ignoring(type) demo_num_cpus`);
  both('binop/set', `demo_num_cpus or demo_disk_usage_bytes`);
  range('binop/set', `${I} or on(instance) demo_num_cpus`, { w: 'whole' });
  both('binop/set', `${M} unless ${M}{type="used"}`);
  both('binop/set', `${M} unless on(type) ${M}{type="used", instance="demo.promlabs.com:10000"}`);
  range('binop/set', `${I} unless on(instance) (demo_num_cpus > 4)`, { w: 'whole' });
  range('binop/set', `vector(1) and on() ${I}{instance="demo.promlabs.com:10001"}`, { w: 'whole' });
  both('binop/set', `(${M} or demo_num_cpus) and on() vector(1)`);
  both('binop/set', `${M} and on(instance) ${M}`);
  both('binop/set', `${M} or ${M}`);
  both('binop/set', `${S} unless ${S}{case="nan"}`);
  both('binop/matching', `demo_num_cpus * on(instance, job) group_right ${M}`);
  both('binop/matching', `demo_num_cpus * on(instance) group_right(job) ${M}`);
  both('binop/matching', `${M} * on(instance) group_left(version, region) demo_instance_info`);
  both('binop/matching', `demo_instance_info * on(instance) group_right(version) ${M}`);
  both('binop/matching', `${M} / ignoring(type) group_left sum without(type) (${M})`);
  both('binop/matching', `sum without(type) (${M}) / ignoring(type) group_right ${M}`);
  both('binop/matching', `${M} + on(instance) group_left(nonexistent) demo_num_cpus`);
  both('binop/matching', `sum by (instance) (${M}) + on(instance) group_right ${M}`);
  both('binop/matching', `${M} > on(instance, job) group_left demo_num_cpus * 1e8`);
  both('binop/matching', `${M} > bool on(instance, job) group_left demo_num_cpus * 1e8`);
  both('binop/matching', `${U} * on(instance) group_left(region) demo_instance_info`);
  fail('binop/errors', `${M} + on(instance) demo_num_cpus`);
  fail('binop/errors', `demo_num_cpus + on(instance) group_left ${M}`);
  fail('binop/errors', `${M} * on(instance) ${M}`);
  fail('binop/errors', `${M} * on(instance) group_left ${M}`);
  fail('binop/errors', `${M} * ignoring(type) ${M}`);
  fail('binop/errors', `demo_num_cpus / on() group_left ${M}`);
  fail('binop/errors', `${M} * on(instance) group_left(type) demo_num_cpus`);

  // Functions: math, trig, rounding, clamping.
  for (const f of ['sgn', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh', 'asinh', 'acosh', 'atanh', 'deg', 'rad']) {
    both('functions/trig', `${f}(demo_num_cpus / 10)`);
    instant('functions/trig', `${f}(${S})`);
  }
  both('functions/trig', `sin(${C})`);
  both('functions/trig', `acosh(demo_num_cpus)`);
  both('functions/trig', `atanh(demo_num_cpus)`);
  both('functions/trig', `sgn(${M} - 3e9)`);
  both('functions/trig', `pi()`);
  both('functions/trig', `pi() * 2`);
  for (const f of ['abs', 'ceil', 'floor', 'exp', 'sqrt', 'ln', 'log2', 'log10', 'round']) instant('functions/math', `${f}(${S})`);
  both('functions/math', `log2(0 * demo_num_cpus)`);
  both('functions/math', `round(${M}, 1000)`);
  both('functions/math', `round(${C}, 0.1)`);
  both('functions/math', `round(${J})`);
  both('functions/math', `round(${J}, 5)`);
  both('functions/math', `round(-${J}, 0.5)`);
  both('functions/math', `round(${J} / 100 - 0.5)`);
  both('functions/math', `clamp(${S}, -1, 1)`);
  both('functions/math', `clamp_min(${S}, 0)`);
  both('functions/math', `clamp_max(${S}, 0)`);
  both('functions/math', `clamp(${M}, NaN, 1e10)`);

  // Functions: rates and counters.
  for (const f of ['rate', 'increase', 'delta', 'irate', 'idelta', 'deriv', 'resets', 'changes']) {
    range('functions/rate', `${f}(${C}[5m])`, { w: 'whole' });
    range('functions/rate', `${f}(${C}[2m])`, { w: 'dataStart' });
    instant('functions/rate', `${f}(${S}[5m])`);
  }
  // Over special values at every step: windows starting on negative values, NaN, ±Inf, -0.
  for (const f of ['rate', 'increase']) range('functions/rate', `${f}(${S}[5m])`, { w: 'whole' });
  both('functions/rate', `rate(${H}[5m])`);
  range('functions/rate', `increase(demo_api_request_duration_seconds_count[10m])`, { w: 'whole' });
  both('functions/rate', `rate(${C}[5m] offset -5m)`);
  both('functions/rate', `irate(${J}[1m])`);
  both('functions/rate', `idelta(${J}[1m])`);
  both('functions/rate', `rate(${J}[1m])`);
  both('functions/rate', `delta(${J}[90s])`);
  range('functions/rate', `rate(${C}[45s])`, { w: 'odd' });
  range('functions/rate', `rate(${C}[1m])`, { w: 'fine' });
  both('functions/rate', `deriv(${J}[5m])`);
  both('functions/rate', `deriv(${M}[10m])`);
  both('functions/rate', `predict_linear(${J}[5m], 120)`);
  both('functions/rate', `predict_linear(demo_disk_usage_bytes[1h], -3600)`);
  range('functions/rate', `changes(${I}[10m])`, { w: 'whole' });
  range('functions/rate', `changes(demo_num_cpus[1h])`, { w: 'whole' });
  range('functions/rate', `resets(demo_api_request_duration_seconds_count[1h])`, { w: 'whole' });
  both('functions/rate', `resets(${I}[10m])`);

  // holt_winters with the compliance smoothing/trend factors, and invalid factors.
  for (const sf of VARIANT_ARGS.smoothingFactor!) {
    for (const tf of VARIANT_ARGS.trendFactor!) range('functions/holt_winters', `holt_winters(demo_disk_usage_bytes[10m], ${sf}, ${tf})`);
  }
  both('functions/holt_winters', `holt_winters(${J}[5m], 0.3, 0.7)`);
  both('functions/holt_winters', `holt_winters(${S}[5m], 0.5, 0.5)`);
  fail('functions/holt_winters', `holt_winters(demo_disk_usage_bytes[5m], 1, 0.5)`);
  fail('functions/holt_winters', `holt_winters(demo_disk_usage_bytes[5m], 0.5, 0)`);

  // Classic histograms.
  both('functions/histogram', `histogram_quantile(0.9, sum by (le) (rate(${H}[5m])))`);
  both('functions/histogram', `histogram_quantile(0.5, sum by (le, method) (rate(${H}[5m])))`);
  both('functions/histogram', `histogram_quantile(0.99, sum by (le, path) (increase(${H}[10m])))`);
  range('functions/histogram', `histogram_quantile(0.75, rate(demo_odd_histogram_bucket[5m]))`, { w: 'whole' });
  both('functions/histogram', `histogram_quantile(0.5, demo_odd_histogram_bucket)`);
  both('functions/histogram', `histogram_quantile(NaN, rate(${H}[5m]))`);
  both('functions/histogram', `histogram_quantile(0.5, ${H})`);
  both('functions/histogram', `histogram_quantile(scalar(demo_num_cpus{instance="demo.promlabs.com:10000"}) / 5, sum by (le) (rate(${H}[5m])))`);
  both('functions/histogram', `histogram_count(${H})`);
  both('functions/histogram', `histogram_sum(${H})`);
  both('functions/histogram', `histogram_fraction(0, 0.1, ${H})`);
  both('functions/histogram', `rate(demo_api_request_duration_seconds_sum[5m]) / rate(demo_api_request_duration_seconds_count[5m])`);

  // Label manipulation.
  both('functions/labels', `label_replace(${U}, "first", "$1", "name", "(.).*")`);
  both('functions/labels', `label_replace(${U}, "len1", "yes", "name", ".")`);
  both('functions/labels', `label_replace(demo_num_cpus, "port", "$2", "instance", "(.*):(.*)")`);
  both('functions/labels', `label_replace(demo_num_cpus, "x", "\${1}y", "instance", "(.*)")`);
  both('functions/labels', `label_replace(demo_num_cpus, "x", "$name", "instance", "(?P<name>[^:]*).*")`);
  both('functions/labels', `label_replace(demo_num_cpus, "__name__", "renamed_$1", "job", "(.*)")`);
  both('functions/labels', `label_replace(demo_num_cpus, "x", "$1$1", "instance", ".*:(1)000(.)")`);
  // Go's Regexp.Expand: "$1x" is the (missing) group named "1x"; "$$" is a literal "$"; "$10" is group 10.
  both('functions/labels', `label_replace(demo_num_cpus, "x", "$1x", "instance", "(.*)")`);
  both('functions/labels', `label_replace(demo_num_cpus, "x", "$$1-$10-\${2}", "instance", "(.*):(.*)")`);
  both('functions/labels', `label_replace(demo_num_cpus, "x", "$2", "instance", "(.*)|(nomatch)")`);
  fail('functions/labels', `label_replace(demo_num_cpus, "instance", "$1", "instance", "(.*):.*")`);
  fail('functions/labels', `label_replace(demo_num_cpus, "instance", "x", "", "")`);
  fail('functions/labels', `label_replace(demo_num_cpus, "1bad", "x", "instance", "(.*)")`);
  both('functions/labels', `label_join(${U}, "joined", "·", "name", "instance")`);
  both('functions/labels', `label_join(demo_num_cpus, "new", "", "job", "instance")`);
  both('functions/labels', `label_join(demo_num_cpus, "job", "-")`);
  both('functions/labels', `label_join(${M}, "__name__", "_", "type", "job")`);
  fail('functions/labels', `label_join(demo_num_cpus, "instance", "-", "job")`);

  // sort / sort_desc: order enforced for instant queries.
  for (const q of [`sort(${M})`, `sort_desc(${M})`, `sort(${S})`, `sort_desc(${S})`, `sort_desc(${U})`, `sort(sum by (instance) (rate(${C}[5m])))`, `sort_desc(topk(3, ${M}))`]) {
    instant('functions/sort', q, { ordered: true });
  }
  range('functions/sort', `sort(${M})`);
  range('functions/sort', `sort_desc(${S})`);

  // absent / absent_over_time / *_over_time / present_over_time.
  both('functions/absent', `absent(nonexistent{job="x", instance=~"y"})`);
  both('functions/absent', `absent(nonexistent{job="a", job="b"})`);
  both('functions/absent', `absent(sum(nonexistent))`);
  both('functions/absent', `absent(nonexistent{job="x"} offset 5m)`);
  range('functions/absent', `absent(${I}{instance="demo.promlabs.com:10001"})`, { w: 'whole' });
  both('functions/absent', `absent_over_time(nonexistent{job="x"}[5m])`);
  range('functions/absent', `absent_over_time(${I}{instance="demo.promlabs.com:10001"}[1m])`, { w: 'whole' });
  instant('functions/absent', `absent_over_time(${M}[1m])`);
  both('functions/absent', `absent_over_time(nonexistent{job="a", instance=~"b", x="y"}[1m])`);
  range('functions/over_time', `present_over_time(${I}[1m])`, { w: 'whole' });
  both('functions/over_time', `present_over_time(${I}[10m])`);
  range('functions/over_time', `last_over_time(${I}[10m])`, { w: 'whole' });
  range('functions/over_time', `count_over_time(${I}[5m])`, { w: 'whole' });
  for (const f of ['sum', 'avg', 'max', 'min', 'count', 'stddev', 'stdvar', 'last', 'present']) {
    instant('functions/over_time', `${f}_over_time(${S}[5m])`);
    both('functions/over_time', `${f}_over_time(${J}[1m])`);
  }
  instant('functions/over_time', `quantile_over_time(0.5, ${S}[5m])`);
  instant('functions/over_time', `quantile_over_time(0.9, ${S}[5m])`);
  range('functions/over_time', `quantile_over_time(scalar(demo_num_cpus{instance="demo.promlabs.com:10002"}) / 10, ${M}[5m])`, { w: 'whole' });
  both('functions/over_time', `quantile_over_time(0.3, ${J}[2m])`);
  both('functions/over_time', `avg_over_time(${M}[5m] offset 1h)`);

  // timestamp / time / scalar / vector.
  both('functions/time', `timestamp(${J})`);
  range('functions/time', `timestamp(${I})`, { w: 'whole' });
  both('functions/time', `timestamp(${J} offset 1m)`);
  both('functions/time', `timestamp(${J} @ end())`);
  both('functions/time', `timestamp(vector(1))`);
  both('functions/time', `timestamp(sum(${J}))`);
  both('functions/time', `timestamp(${M} @ ${T - 1234.5})`);
  both('functions/time', `scalar(demo_num_cpus)`);
  range('functions/time', `scalar(demo_num_cpus{instance="demo.promlabs.com:10002"})`, { w: 'whole' });
  both('functions/time', `scalar(nonexistent)`);
  both('functions/time', `vector(scalar(sum(demo_num_cpus)))`);
  both('functions/time', `day_of_year()`);
  both('functions/time', `day_of_year(demo_batch_last_success_timestamp_seconds)`);
  for (const f of VARIANT_ARGS.dateFunc!) {
    instant('functions/time', `${f}(vector(1709251199))`);
    instant('functions/time', `${f}(vector(-86400 * 45.5))`);
  }
  both('functions/time', `days_in_month(vector(1706745600))`);
  both('functions/time', `minute(${M} * 1000)`);

  // Subqueries.
  both('subquery', `max_over_time(rate(${C}[1m])[5m:])`);
  both('subquery', `min_over_time(sum by (instance) (rate(${C}[1m]))[10m:30s])`);
  both('subquery', `max_over_time(avg_over_time(${M}[1m:15s])[5m:1m])`);
  both('subquery', `sum_over_time(count_over_time(${I}[1m:10s])[3m:20s])`);
  both('subquery', `min_over_time(sum_over_time(rate(${C}[1m])[3m:30s])[10m:2m])`);
  both('subquery', `avg_over_time(${M}[5m:30s] offset 2m)`);
  both('subquery', `avg_over_time(${M}[5m:30s] offset -2m)`);
  both('subquery', `max_over_time(demo_disk_usage_bytes[10m:1m] @ end())`);
  both('subquery', `min_over_time(demo_disk_usage_bytes[10m:1m] @ start())`);
  both('subquery', `rate(${C}[5m:10s])`);
  both('subquery', `deriv(demo_disk_usage_bytes[10m:1m])`);
  both('subquery', `increase(sum(${C})[10m:30s])`);
  range('subquery', `last_over_time(${I}[5m:7s])`, { w: 'whole' });
  both('subquery', `count_over_time(${J}[7m:45s])`);
  both('subquery', `quantile_over_time(0.9, rate(${H}[5m])[15m:1m])`);
  both('subquery', `holt_winters(sum(demo_disk_usage_bytes)[20m:1m], 0.5, 0.5)`);
  both('subquery', `predict_linear(demo_disk_usage_bytes[15m:30s], 300)`);
  range('subquery', `changes(demo_num_cpus[2h:1m])`, { w: 'whole' });
  range('subquery', `avg_over_time(${M}[90s:20s])`, { w: 'odd' });
  range('subquery', `max_over_time(${J}[1m:7s])`, { w: 'odd' });
  range('subquery', `rate(${C}[1m:13s])`, { w: 'odd' });
  range('subquery', `sum_over_time(${I}[2m:11s])`, { w: 'fine' });
  instant('subquery', `rate(${C}[5m])[10m:1m]`);
  instant('subquery', `${M}[5m:]`);
  instant('subquery', `${I}[10m:30s]`);
  instant('subquery', `(${M} > 3e9)[5m:1m]`);
  instant('subquery', `${J}[2m:17s] offset 1m`);
  instant('subquery', `max_over_time(${J}[10m:1m])[5m:2m]`);

  // offset and @.
  both('offset/at', `rate(${C}[5m] offset 10m)`);
  both('offset/at', `rate(${C}[5m] offset -5m)`);
  both('offset/at', `${M} offset -25m`);
  both('offset/at', `${M} @ start()`);
  both('offset/at', `${M} @ end()`);
  both('offset/at', `rate(${C}[5m] @ end())`);
  both('offset/at', `sum(${M} @ start()) by (instance)`);
  both('offset/at', `timestamp(${M} @ start())`);
  both('offset/at', `${M} @ start() offset 5m`);
  both('offset/at', `${M} offset 5m @ end()`);
  both('offset/at', `${M} @ ${T - 1800}`);
  both('offset/at', `${J} @ ${T - 1200.5}`);
  both('offset/at', `${M} @ 100`);
  both('offset/at', `rate(${C}[5m] @ start() offset -10m)`);
  both('offset/at', `${M} - ${M} @ start()`);
  range('offset/at', `${M} @ start()`, { w: 'dataEnd' });
  range('offset/at', `${I} @ start()`, { win: afterStart });
  range('offset/at', `${I} @ end()`, { win: afterStart });

  // Scalar and string results (instant), and the range-query counterparts.
  for (const q of ['42', '"hello"', '"ünïcødé 😀"', 'time()', '1 + 2 * 3', 'scalar(sum(demo_num_cpus))', '-Inf', 'NaN', '0x3d', '1e-7', '123456789012345678901234', '-0', '(1)', 'vector(1e-7)']) {
    instant('scalar/string', q);
  }
  range('scalar/string', '"hello"', { shouldFail: true });
  range('scalar/string', `${M}[5m]`, { shouldFail: true });
  range('scalar/string', `rate(${C}[5m])[10m:1m]`, { shouldFail: true });

  // Lexer/parser corners that must parse exactly as in Prometheus.
  for (const q of [
    'inf',
    'nAn',
    '1e+3',
    '0X1F',
    '0x1f * 2',
    '.5e-1',
    '- -1',
    '1 - -1',
    '2 ^ -1',
    '1 + 2 * 3 ^ 2 ^ 0.5 % 4',
    `+${M}`,
    `-(-${M})`,
    `# a comment\n${M}{type="free"}`,
    `sum by (type)\n(\n  ${M} # trailing comment\n)`,
    `sum by (on, bool, offset) (demo_num_cpus)`,
    `demo_num_cpus{on="x"}`,
    'sum',
    `sum(demo_num_cpus) without (job)`,
    `max by (instance,) (demo_num_cpus)`,
    `avg without () (demo_num_cpus)`,
    `demo_num_cpus{instance="a",instance="b"}`,
    `demo_num_cpus offset 1m30s`,
    `${M}[1500ms]`,
    `demo_num_cpus[1m30s]`,
    `demo_num_cpus[5m:1500ms]`,
    `demo_num_cpus[5m] offset -1m`,
    `absent(demo_num_cpus{instance="x"} == 1)`,
    `${M} > 1e9 and ${M} < 3e9 or demo_num_cpus`,
    `${M}{type="free"} unless ${M}{type="free"} > 1.9e9 or demo_num_cpus`,
  ]) {
    if (/\]( offset -?\w+)?$/.test(q)) instant('syntax', q); // range vector: instant queries only
    else both('syntax', q);
  }
  for (const q of ['1_000', 'on', `demo_num_cpus and bool demo_num_cpus`, `rate(demo_num_cpus[5m] @ 1e20)`, 'demo_num_cpus @ "1"', `${M}{type="free"`, `${M} offset`, 'sum by (instance', '[5m]']) {
    fail('syntax', q);
  }

  // More staleness / subquery / offset combinations.
  for (const f of ['rate', 'max_over_time', 'count_over_time', 'last_over_time', 'deriv']) range('staleness', `${f}(${I}[5m])`, { win: afterStart });
  both('subquery', `max_over_time(rate(${C}[1m] offset 1m)[5m:1m] offset 2m)`);
  both('subquery', `max_over_time(${M}[5m:1m] @ ${T - 1800})`);
  both('subquery', `sum_over_time(rate(${C}[1m] @ end())[5m:1m])`);
  both('subquery', `sum(rate(${C}[5m])) / sum(rate(${C}[5m] offset 1h))`);
  both('functions/over_time', `quantile_over_time(NaN, ${M}[5m])`);
  range('functions/time', 'time()', { w: 'odd' });
  range('functions/time', 'timestamp(vector(1))', { w: 'odd' });
  range('functions/time', `timestamp(${J})`, { w: 'odd' });
  range('functions/time', `minute() + hour() * 60`, { w: 'dataEnd' });
  // Resolution limit: (end - start) / step may be 11000 but not more.
  range('params', 'demo_num_cpus', { win: { start: T - 1200, end: T - 100, step: 0.1 } });
  range('params', 'demo_num_cpus', { shouldFail: true, win: { start: T - 1200, end: T - 99.9, step: 0.1 } });

  // Parse errors (bad_data, 400).
  for (const q of [
    'sum(',
    `${M}[5m`,
    `rate(${M})`,
    'foo{',
    '1 +',
    'nonexistent_function(demo_num_cpus)',
    'limitk(1, demo_num_cpus)',
    'sort_by_label(demo_num_cpus, "instance")',
    'double_exponential_smoothing(demo_disk_usage_bytes[5m], 0.5, 0.5)',
    `mad_over_time(${M}[5m])`,
    '{}',
    '1 < 2',
    '"a" + 1',
    'sum("a")',
    'rate(1)',
    `${M} offset 5m offset 1m`,
    `${M} @ start() @ end()`,
    `sum(${M}) @ end()`,
    `${M}[5m:0s]`,
    `topk(demo_num_cpus, ${M})`,
    `quantile("a", ${M})`,
    `count_values(1, ${M})`,
    `(${M})[5m]`,
    `${M}[5m][5m]`,
    '-"a"',
    'label_replace(demo_num_cpus, "job")',
    `absent(${M}, ${M})`,
    `round(${M}, 1, 2)`,
    `holt_winters(${M}, 0.5, 0.5)`,
    `vector(${M})`,
    `${M} and 1`,
    `1 or ${M}`,
    `${M} + on(instance) group_left(instance) demo_num_cpus`,
    `${M}{type="free"}{instance="x"}`,
    `sum by (instance) (${M}) without (type)`,
    `${M} @ -Inf`,
    `${M}[1m1y]`,
    `${M}[1.5m]`,
    `timestamp(${M}[5m:1m])`,
    `${M} offset 1x`,
    'demo_memory_usage_bytes{type=~"("}',
    '{__name__=""}',
  ]) {
    fail('errors/parse', q);
  }

  // Query API parameter errors (bad_data, 400).
  // Parameter formats: RFC 3339 times, duration steps.
  const iso = (sec: number) => new Date(sec * 1000).toISOString();
  push({ group: 'params', query: M, kind: 'range', params: { start: iso(T - 1800.25), end: iso(T - 1200), step: '30s' } });
  push({ group: 'params', query: `rate(${C}[5m])`, kind: 'range', params: { start: String(T - 1800), end: String(T - 1200), step: '1m30s' } });
  push({ group: 'params', query: `sum(${M})`, kind: 'range', params: { start: String(T - 1800), end: String(T - 1200), step: '45.5' } });
  push({ group: 'params', query: M, kind: 'instant', params: { time: iso(T - 754.321) } });
  push({ group: 'params', query: M, kind: 'instant', params: { time: String(T - 754.3216) } });
  push({ group: 'params', query: M, kind: 'range', params: { start: String(T - 1800), end: String(T - 1200), step: 'abc' }, shouldFail: true });
  push({ group: 'params', query: M, kind: 'range', params: { start: 'yesterday', end: String(T - 1200), step: '10' }, shouldFail: true });
  push({ group: 'params', query: M, kind: 'range', params: { end: String(T - 1200), step: '10' }, shouldFail: true });
  push({ group: 'params', query: M, kind: 'instant', params: { time: 'x' }, shouldFail: true });
  range('errors/params', M, { shouldFail: true, win: { start: T - 600, end: T - 1200, step: 10 } });
  range('errors/params', M, { shouldFail: true, win: { start: T - 1200, end: T - 600, step: 0 } });
  range('errors/params', M, { shouldFail: true, win: { start: T - 1200, end: T - 600, step: -5 } });
  range('errors/params', M, { shouldFail: true, win: { start: T - 1800, end: T - 600, step: 0.1 } });

  return cases;
}

function fmtRel(s: number): string {
  const r = Math.round(s * 1000) / 1000;
  return r >= 0 ? `+${r}s` : `${r}s`;
}
