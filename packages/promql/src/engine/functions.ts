import { METRIC_NAME, MatchType, compileAnchoredRegex, type Labels } from '@strata/tsdb-core';
import type { Expr } from '../parser/ast';
import { PromQLError } from '../errors';
import { parseGoFloat } from '../parser/lexer';
import type { ResultMetricCache } from './binops';
import {
  deleteLabels,
  dropMetricName,
  getLabelValue,
  isValidLabelName,
  seriesKey,
  setLabel,
  signatureWithout,
} from './labels';
import { unwrap } from './preprocess';
import { type Bucket, bucketQuantile, lessNaNFirst, quantile } from './quantile';
import { type Civil, civilFromUnixSeconds, daysIn } from './go-time';
import { EMPTY_LABELS, type Sample, type Vector } from './types';

/**
 * The PromQL function implementations of Prometheus 2.42 (promql/functions.go), float samples only
 * (native histograms are not stored by Strata, so histogram_count/sum/fraction return nothing).
 *
 * Two kinds: instant functions get one step's argument values (vectors; scalars as a one-sample
 * vector; null for strings, which they read from the argument expressions), range functions get the
 * window of one series at one step plus the values of the scalar arguments.
 */

/** Per-node state kept across the steps of one evaluation (Prometheus' EvalNodeHelper). */
export class EvalNodeHelper {
  /** Evaluation timestamp (ms) of the current step. */
  ts = 0;
  readonly resultMetrics: ResultMetricCache = new Map();
  regex: RegExp | null = null;
  labelCache: Map<string, Labels> | null = null;
}

/** The samples of one series inside a range at one step: indices [lo, hi) of ts/vs. */
export interface RangeWindow {
  ts: ArrayLike<number>;
  vs: ArrayLike<number>;
  lo: number;
  hi: number;
  /** The range boundaries (ms): [rangeStart, rangeEnd]. */
  rangeStart: number;
  rangeEnd: number;
  range: number;
  /**
   * For functions with `counterResets`: resets[i] counts the indexes j <= i of the series with
   * vs[j] < vs[j - 1] (null when not computed), so a window's resets need no scan.
   */
  resets: Int32Array | null;
}

export type InstantFunction = (args: readonly (Vector | null)[], exprs: readonly Expr[], enh: EvalNodeHelper) => Vector;
export type RangeFunction = (w: RangeWindow, scalars: readonly number[], enh: EvalNodeHelper) => number | null;

export interface FunctionImpl {
  instant?: InstantFunction;
  range?: RangeFunction;
  /** Range functions drop the metric name, except last_over_time. */
  keepMetricName?: boolean;
  /** The range function reads `RangeWindow.resets` (rate, increase). */
  counterResets?: boolean;
}

function execError(msg: string): never {
  throw new PromQLError('execution', msg);
}

function scalarArg(args: readonly (Vector | null)[], i: number): number {
  return args[i]![0]!.v;
}

function stringArg(exprs: readonly Expr[], i: number): string {
  const e = unwrap(exprs[i]!);
  if (e.type !== 'StringLiteral') throw new PromQLError('internal', 'expected a string literal argument');
  return e.val;
}

// ---- range functions ------------------------------------------------------------------------

function extrapolatedRate(w: RangeWindow, isCounter: boolean, isRate: boolean): number | null {
  const { ts, vs, lo, hi } = w;
  const n = hi - lo;
  if (n < 2) return null;
  const firstT = ts[lo]!;
  const lastT = ts[hi - 1]!;
  const firstV = vs[lo]!;
  let result = vs[hi - 1]! - firstV;
  // The loop below changes nothing when the window holds no reset and its first value is not
  // negative (the first comparison is against 0): then skip it.
  const resets = w.resets;
  if (isCounter && (resets === null || resets[hi - 1]! !== resets[lo]! || firstV < 0)) {
    let last = 0;
    for (let i = lo; i < hi; i++) {
      const v = vs[i]!;
      if (v < last) result += last;
      last = v;
    }
  }
  let durationToStart = (firstT - w.rangeStart) / 1000;
  const durationToEnd = (w.rangeEnd - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (n - 1);
  if (isCounter && result > 0 && firstV >= 0) {
    // Counters cannot be negative: do not extrapolate below the zero point.
    const durationToZero = sampledInterval * (firstV / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = averageDurationBetweenSamples * 1.1;
  let extrapolateToInterval = sampledInterval;
  extrapolateToInterval += durationToStart < threshold ? durationToStart : averageDurationBetweenSamples / 2;
  extrapolateToInterval += durationToEnd < threshold ? durationToEnd : averageDurationBetweenSamples / 2;
  // One factor, then one multiplication, as Prometheus: (a*b)/c and a*(b/c) differ by an ulp.
  let factor = extrapolateToInterval / sampledInterval;
  if (isRate) factor /= w.range / 1000;
  return result * factor;
}

function instantValue(w: RangeWindow, isRate: boolean): number | null {
  const { ts, vs, hi } = w;
  if (hi - w.lo < 2) return null;
  const lastV = vs[hi - 1]!;
  const prevV = vs[hi - 2]!;
  let result = isRate && lastV < prevV ? lastV : lastV - prevV;
  const sampledInterval = ts[hi - 1]! - ts[hi - 2]!;
  if (sampledInterval === 0) return null;
  if (isRate) result /= sampledInterval / 1000;
  return result;
}

/** Neumaier-compensated summation step; returns [sum, compensation]. */
function kahanSumInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  return [t, c];
}

function linearRegression(w: RangeWindow, interceptTime: number): [number, number] {
  const { ts, vs, lo, hi } = w;
  let n = 0;
  let sumX = 0;
  let cX = 0;
  let sumY = 0;
  let cY = 0;
  let sumXY = 0;
  let cXY = 0;
  let sumX2 = 0;
  let cX2 = 0;
  const initY = vs[lo]!;
  let constY = true;
  for (let i = lo; i < hi; i++) {
    const v = vs[i]!;
    if (constY && i > lo && v !== initY) constY = false;
    n += 1;
    const x = (ts[i]! - interceptTime) / 1e3;
    [sumX, cX] = kahanSumInc(x, sumX, cX);
    [sumY, cY] = kahanSumInc(v, sumY, cY);
    [sumXY, cXY] = kahanSumInc(x * v, sumXY, cXY);
    [sumX2, cX2] = kahanSumInc(x * x, sumX2, cX2);
  }
  if (constY) {
    if (initY === Infinity || initY === -Infinity) return [NaN, NaN];
    return [0, initY];
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  const intercept = sumY / n - (slope * sumX) / n;
  return [slope, intercept];
}

function calcTrendValue(i: number, tf: number, s0: number, s1: number, b: number): number {
  if (i === 0) return b;
  return tf * (s1 - s0) + (1 - tf) * b;
}

function goFormatF(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  return x.toFixed(6);
}

const avgOverTime: RangeFunction = ({ vs, lo, hi }) => {
  let mean = 0;
  let count = 0;
  let c = 0;
  for (let i = lo; i < hi; i++) {
    const v = vs[i]!;
    count++;
    if (mean === Infinity || mean === -Infinity) {
      if ((v === Infinity || v === -Infinity) && (mean > 0) === (v > 0)) continue;
      if (Number.isFinite(v)) continue;
    }
    [mean, c] = kahanSumInc(v / count - mean / count, mean, c);
  }
  if (mean === Infinity || mean === -Infinity) return mean;
  return mean + c;
};

const sumOverTime: RangeFunction = ({ vs, lo, hi }) => {
  let sum = 0;
  let c = 0;
  for (let i = lo; i < hi; i++) [sum, c] = kahanSumInc(vs[i]!, sum, c);
  if (sum === Infinity || sum === -Infinity) return sum;
  return sum + c;
};

function varianceOverTime({ vs, lo, hi }: RangeWindow): number {
  let count = 0;
  let mean = 0;
  let cMean = 0;
  let aux = 0;
  let cAux = 0;
  for (let i = lo; i < hi; i++) {
    const v = vs[i]!;
    count++;
    const delta = v - (mean + cMean);
    [mean, cMean] = kahanSumInc(delta / count, mean, cMean);
    [aux, cAux] = kahanSumInc(delta * (v - (mean + cMean)), aux, cAux);
  }
  return (aux + cAux) / count;
}

const maxOverTime: RangeFunction = ({ vs, lo, hi }) => {
  let max = vs[lo]!;
  for (let i = lo; i < hi; i++) {
    const v = vs[i]!;
    if (v > max || Number.isNaN(max)) max = v;
  }
  return max;
};

const minOverTime: RangeFunction = ({ vs, lo, hi }) => {
  let min = vs[lo]!;
  for (let i = lo; i < hi; i++) {
    const v = vs[i]!;
    if (v < min || Number.isNaN(min)) min = v;
  }
  return min;
};

const changes: RangeFunction = ({ vs, lo, hi }) => {
  let n = 0;
  let prev = vs[lo]!;
  for (let i = lo + 1; i < hi; i++) {
    const cur = vs[i]!;
    if (cur !== prev && !(Number.isNaN(cur) && Number.isNaN(prev))) n++;
    prev = cur;
  }
  return n;
};

const resets: RangeFunction = ({ vs, lo, hi }) => {
  let n = 0;
  let prev = vs[lo]!;
  for (let i = lo + 1; i < hi; i++) {
    const cur = vs[i]!;
    if (cur < prev) n++;
    prev = cur;
  }
  return n;
};

const holtWinters: RangeFunction = ({ vs, lo, hi }, scalars) => {
  const sf = scalars[1]!;
  const tf = scalars[2]!;
  if (sf <= 0 || sf >= 1) execError(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${goFormatF(sf)}`);
  if (tf <= 0 || tf >= 1) execError(`invalid trend factor. Expected: 0 < tf < 1, got: ${goFormatF(tf)}`);
  const l = hi - lo;
  if (l < 2) return null;
  let s0 = 0;
  let s1 = vs[lo]!;
  let b = vs[lo + 1]! - vs[lo]!;
  for (let i = 1; i < l; i++) {
    const x = sf * vs[lo + i]!;
    b = calcTrendValue(i - 1, tf, s0, s1, b);
    const y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
};

// ---- instant functions ----------------------------------------------------------------------

function simple(f: (v: number) => number): FunctionImpl {
  return {
    instant: (args) => args[0]!.map((s) => ({ metric: dropMetricName(s.metric), t: s.t, v: f(s.v) })),
  };
}

/** Go's math.Log2: exact for powers of two. */
function goLog2(x: number): number {
  if (x > 0 && Number.isFinite(x)) {
    // frexp: x = frac * 2^exp with frac in [0.5, 1).
    let exp = Math.floor(Math.log2(x)) + 1;
    let frac = x / Math.pow(2, exp);
    if (frac >= 1) {
      frac /= 2;
      exp++;
    } else if (frac < 0.5) {
      frac *= 2;
      exp--;
    }
    if (frac === 0.5) return exp - 1;
    return Math.log(frac) * (1 / Math.LN2) + exp;
  }
  return Math.log2(x);
}

/** Go's math.Log10: log(x) * (1/Ln10). */
function goLog10(x: number): number {
  return Math.log(x) * (1 / Math.LN10);
}

function dateFn(f: (c: Civil) => number): FunctionImpl {
  return {
    instant: (args, _exprs, enh) => {
      if (args.length === 0) return [{ metric: EMPTY_LABELS, t: 0, v: f(civilFromUnixSeconds(Math.trunc(enh.ts / 1000))) }];
      return args[0]!.map((s) => ({ metric: dropMetricName(s.metric), t: s.t, v: f(civilFromUnixSeconds(s.v)) }));
    },
  };
}

/** Labels for absent()/absent_over_time(): the equality matchers of a plain selector argument. */
export function labelsForAbsent(e: Expr): Labels {
  const x = unwrap(e);
  let matchers;
  if (x.type === 'VectorSelector') matchers = x.matchers;
  else if (x.type === 'MatrixSelector') matchers = x.vectorSelector.matchers;
  else return EMPTY_LABELS;
  let ls: Labels = EMPTY_LABELS;
  const has = new Set<string>();
  for (const m of matchers) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === MatchType.EQ && !has.has(m.name)) {
      ls = setLabel(ls, m.name, m.value);
      has.add(m.name);
    } else {
      ls = deleteLabels(ls, new Set([m.name]));
    }
  }
  return ls;
}

/** Go's Regexp.ExpandString for `$1`, `${1}`, `$name`, `${name}`, `$$`. */
export function expandTemplate(template: string, m: RegExpExecArray): string {
  let out = '';
  let t = template;
  for (;;) {
    const idx = t.indexOf('$');
    if (idx < 0) break;
    out += t.slice(0, idx);
    t = t.slice(idx + 1);
    if (t[0] === '$') {
      out += '$';
      t = t.slice(1);
      continue;
    }
    let brace = false;
    let s = t;
    if (s[0] === '{') {
      brace = true;
      s = s.slice(1);
    }
    const nm = /^[\p{L}\p{Nd}_]+/u.exec(s);
    if (!nm || (brace && s[nm[0].length] !== '}')) {
      out += '$';
      continue;
    }
    const name = nm[0];
    t = s.slice(name.length + (brace ? 1 : 0));
    let num = -1;
    if (/^[0-9]+$/.test(name) && !(name[0] === '0' && name.length > 1) && name.length <= 8) num = Number(name);
    if (num >= 0) {
      if (num < m.length && m[num] !== undefined) out += m[num];
    } else if (m.groups && m.groups[name] !== undefined) {
      out += m.groups[name];
    }
  }
  return out + t;
}

const labelReplace: InstantFunction = (args, exprs, enh) => {
  const dst = stringArg(exprs, 1);
  const repl = stringArg(exprs, 2);
  const src = stringArg(exprs, 3);
  const regexStr = stringArg(exprs, 4);
  if (!enh.regex) {
    try {
      enh.regex = compileAnchoredRegex(regexStr);
    } catch {
      execError(`invalid regular expression in label_replace(): ${regexStr}`);
    }
    if (!isValidLabelName(dst)) execError(`invalid destination label name in label_replace(): ${dst}`);
    enh.labelCache = new Map();
  }
  const re = enh.regex!;
  const cache = enh.labelCache!;
  return args[0]!.map((el) => {
    const key = seriesKey(el.metric);
    let out = cache.get(key);
    if (out === undefined) {
      const srcVal = getLabelValue(el.metric, src);
      const m = re.exec(srcVal);
      if (!m) out = el.metric;
      else out = setLabel(el.metric, dst, expandTemplate(repl, m));
      cache.set(key, out);
    }
    return { metric: out, t: el.t, v: el.v };
  });
};

const labelJoin: InstantFunction = (args, exprs, enh) => {
  const dst = stringArg(exprs, 1);
  const sep = stringArg(exprs, 2);
  const srcs: string[] = [];
  for (let i = 3; i < exprs.length; i++) {
    const src = stringArg(exprs, i);
    if (!isValidLabelName(src)) execError(`invalid source label name in label_join(): ${src}`);
    srcs.push(src);
  }
  if (!isValidLabelName(dst)) execError(`invalid destination label name in label_join(): ${dst}`);
  enh.labelCache ??= new Map();
  const cache = enh.labelCache;
  return args[0]!.map((el) => {
    const key = seriesKey(el.metric);
    let out = cache.get(key);
    if (out === undefined) {
      const joined = srcs.map((s) => getLabelValue(el.metric, s)).join(sep);
      out = setLabel(el.metric, dst, joined);
      cache.set(key, out);
    }
    return { metric: out, t: el.t, v: el.v };
  });
};

const histogramQuantile: InstantFunction = (args) => {
  const q = scalarArg(args, 0);
  const groups = new Map<string, { metric: Labels; buckets: Bucket[] }>();
  const excluded = new Set([METRIC_NAME, 'le']);
  const leOnly = new Set(['le']);
  for (const s of args[1]!) {
    const upperBound = parseGoFloat(getLabelValue(s.metric, 'le'));
    if (upperBound === null) continue;
    // Signature without `le` (the metric name stays part of it); output without name and `le`.
    const sig = signatureWithoutKeepName(s.metric, leOnly);
    let g = groups.get(sig);
    if (!g) {
      g = { metric: deleteLabels(s.metric, excluded), buckets: [] };
      groups.set(sig, g);
    }
    g.buckets.push({ upperBound, count: s.v });
  }
  const out: Vector = [];
  for (const g of groups.values()) out.push({ metric: g.metric, t: 0, v: bucketQuantile(q, g.buckets) });
  return out;
};

function signatureWithoutKeepName(ls: Labels, names: ReadonlySet<string>): string {
  return getLabelValue(ls, METRIC_NAME) + '\xfe' + signatureWithout(ls, names);
}

function sortBy(desc: boolean): InstantFunction {
  return (args) => {
    const v = args[0]!.slice();
    // sort(): ascending, NaN last; sort_desc(): descending, NaN last.
    const less = desc
      ? (a: Sample, b: Sample) => lessNaNFirst(a.v, b.v)
      : (a: Sample, b: Sample) => Number.isNaN(a.v) || a.v > b.v;
    v.sort((a, b) => (less(b, a) ? -1 : less(a, b) ? 1 : 0));
    return v;
  };
}

const noHistograms: FunctionImpl = { instant: () => [] };

export const FUNCTION_IMPLS: Readonly<Record<string, FunctionImpl>> = {
  // Range-vector functions.
  rate: { range: (w) => extrapolatedRate(w, true, true), counterResets: true },
  increase: { range: (w) => extrapolatedRate(w, true, false), counterResets: true },
  delta: { range: (w) => extrapolatedRate(w, false, false) },
  irate: { range: (w) => instantValue(w, true) },
  idelta: { range: (w) => instantValue(w, false) },
  avg_over_time: { range: avgOverTime },
  sum_over_time: { range: sumOverTime },
  count_over_time: { range: (w) => w.hi - w.lo },
  min_over_time: { range: minOverTime },
  max_over_time: { range: maxOverTime },
  last_over_time: { range: (w) => w.vs[w.hi - 1]!, keepMetricName: true },
  present_over_time: { range: () => 1 },
  absent_over_time: { range: () => 1 },
  stddev_over_time: { range: (w) => Math.sqrt(varianceOverTime(w)) },
  stdvar_over_time: { range: (w) => varianceOverTime(w) },
  quantile_over_time: {
    range: (w, scalars) => {
      const values: number[] = [];
      for (let i = w.lo; i < w.hi; i++) values.push(w.vs[i]!);
      return quantile(scalars[0]!, values);
    },
  },
  changes: { range: changes },
  resets: { range: resets },
  deriv: {
    range: (w) => (w.hi - w.lo < 2 ? null : linearRegression(w, w.ts[w.lo]!)[0]),
  },
  predict_linear: {
    range: (w, scalars, enh) => {
      if (w.hi - w.lo < 2) return null;
      const [slope, intercept] = linearRegression(w, enh.ts);
      return slope * scalars[1]! + intercept;
    },
  },
  holt_winters: { range: holtWinters },

  // Instant-vector functions.
  abs: simple(Math.abs),
  ceil: simple(Math.ceil),
  floor: simple(Math.floor),
  exp: simple(Math.exp),
  sqrt: simple(Math.sqrt),
  ln: simple(Math.log),
  log2: simple(goLog2),
  log10: simple(goLog10),
  sin: simple(Math.sin),
  cos: simple(Math.cos),
  tan: simple(Math.tan),
  asin: simple(Math.asin),
  acos: simple(Math.acos),
  atan: simple(Math.atan),
  sinh: simple(Math.sinh),
  cosh: simple(Math.cosh),
  tanh: simple(Math.tanh),
  asinh: simple(Math.asinh),
  acosh: simple(Math.acosh),
  atanh: simple(Math.atanh),
  rad: simple((v) => (v * Math.PI) / 180),
  deg: simple((v) => (v * 180) / Math.PI),
  sgn: simple((v) => (v < 0 ? -1 : v > 0 ? 1 : v)),
  round: {
    instant: (args) => {
      const toNearest = args.length >= 2 ? scalarArg(args, 1) : 1;
      const inv = 1 / toNearest;
      return args[0]!.map((s) => ({
        metric: dropMetricName(s.metric),
        t: s.t,
        v: Math.floor(s.v * inv + 0.5) / inv,
      }));
    },
  },
  clamp: {
    instant: (args) => {
      const min = scalarArg(args, 1);
      const max = scalarArg(args, 2);
      if (max < min) return [];
      return args[0]!.map((s) => ({ metric: dropMetricName(s.metric), t: s.t, v: Math.max(min, Math.min(max, s.v)) }));
    },
  },
  clamp_max: {
    instant: (args) => {
      const max = scalarArg(args, 1);
      return args[0]!.map((s) => ({ metric: dropMetricName(s.metric), t: s.t, v: Math.min(max, s.v) }));
    },
  },
  clamp_min: {
    instant: (args) => {
      const min = scalarArg(args, 1);
      return args[0]!.map((s) => ({ metric: dropMetricName(s.metric), t: s.t, v: Math.max(min, s.v) }));
    },
  },
  scalar: {
    instant: (args) => {
      const v = args[0]!;
      return [{ metric: EMPTY_LABELS, t: 0, v: v.length === 1 ? v[0]!.v : NaN }];
    },
  },
  vector: { instant: (args) => [{ metric: EMPTY_LABELS, t: 0, v: scalarArg(args, 0) }] },
  time: { instant: (_args, _exprs, enh) => [{ metric: EMPTY_LABELS, t: 0, v: enh.ts / 1000 }] },
  pi: { instant: () => [{ metric: EMPTY_LABELS, t: 0, v: Math.PI }] },
  timestamp: {
    instant: (args) => args[0]!.map((s) => ({ metric: dropMetricName(s.metric), t: s.t, v: s.t / 1000 })),
  },
  absent: {
    instant: (args, exprs) => (args[0]!.length > 0 ? [] : [{ metric: labelsForAbsent(exprs[0]!), t: 0, v: 1 }]),
  },
  sort: { instant: sortBy(false) },
  sort_desc: { instant: sortBy(true) },
  label_replace: { instant: labelReplace },
  label_join: { instant: labelJoin },
  histogram_quantile: { instant: histogramQuantile },
  histogram_count: noHistograms,
  histogram_sum: noHistograms,
  histogram_fraction: noHistograms,
  days_in_month: dateFn((c) => daysIn(c.month, c.year)),
  day_of_month: dateFn((c) => c.day),
  day_of_week: dateFn((c) => c.weekday),
  day_of_year: dateFn((c) => c.yday),
  hour: dateFn((c) => c.hour),
  minute: dateFn((c) => c.minute),
  month: dateFn((c) => c.month),
  year: dateFn((c) => c.year),
};
