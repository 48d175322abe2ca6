import { METRIC_NAME, SampleBuffer, compareStrings, type Labels } from '@strata/tsdb-core';
import {
  type AggregateExpr,
  type BinaryExpr,
  type Call,
  type Expr,
  type MatrixSelector,
  type StepInvariantExpr,
  type SubqueryExpr,
  type UnaryExpr,
  type VectorSelector,
  exprType,
} from '../parser/ast';
import { PromQLError } from '../errors';
import {
  Cells,
  MAX_CELLS,
  type MatrixAggregation,
  aggregate,
  aggregateMatrix,
  assignGroups,
  canAggregateMatrix,
  groupLabelsFunc,
  groupingKeyFunc,
} from './aggregations';
import {
  scalarBinop,
  signatureFunc,
  vectorAnd,
  vectorBinop,
  vectorOr,
  vectorScalarBinop,
  vectorUnless,
} from './binops';
import { EvalNodeHelper, FUNCTION_IMPLS, type RangeWindow, labelsForAbsent } from './functions';
import { dropMetricName, getLabelValue, hasDuplicateLabels, seriesKey } from './labels';
import { unwrap } from './preprocess';
import { quantile } from './quantile';
import { type Selection, lowerBound, upperBound } from './selectors';
import {
  EMPTY_LABELS,
  type Matrix,
  type Sample,
  type SelectedSeries,
  type Series,
  type Value,
  type Vector,
  isStringValue,
} from './types';

/** State shared by all evaluators of one query. */
export interface EvalContext {
  readonly maxSamples: number;
  readonly lookbackDelta: number;
  /** Step of subqueries written without one (`[1h:]`), from their range. */
  readonly noStepSubqueryInterval: (rangeMs: number) => number;
  /** Date.now() value after which the query times out. */
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  /** The selected series of every vector selector of the (preprocessed) expression. */
  readonly data: ReadonlyMap<VectorSelector, Selection>;
}

const ENV = 'query execution';

export function tooManySamples(): PromQLError {
  return new PromQLError('execution', `query processing would load too many samples into memory in ${ENV}`);
}

function execError(msg: string): never {
  throw new PromQLError('execution', msg);
}

function containsSameLabelset(v: readonly { metric: Labels }[]): boolean {
  return hasDuplicateLabels(v.length, (i) => v[i]!.metric, false);
}

function totalSamples(m: Matrix): number {
  let n = 0;
  for (const s of m) n += s.ts.length;
  return n;
}

/** A range function's evaluated arguments. */
interface RangeInput {
  /** The selection of a matrix selector argument, read one series at a time… */
  sel: Selection | null;
  /** …or the series of a subquery argument. */
  sub: readonly SelectedSeries[];
  subquerySamples: number;
  range: number;
  at: number | null;
  offset: number;
  /** Per argument: the scalar's values at every step, or null (the range or a string argument). */
  others: (Matrix | null)[];
}

/** Index of a call's range-vector argument (matrix selector or subquery), -1 for none. */
function rangeArgIndex(e: Call): number {
  return e.args.findIndex((a) => {
    const u = unwrap(a);
    return u.type === 'MatrixSelector' || u.type === 'SubqueryExpr';
  });
}

/** Arguments of rangeEval already evaluated (and counted in currentSamples since `originalNumSamples`). */
interface EvaluatedInputs {
  matrixes: (Matrix | null)[];
  originalNumSamples: number;
}

type StepFn = (args: readonly (Vector | null)[], helpers: readonly (readonly string[])[], enh: EvalNodeHelper) => Vector;

/**
 * Evaluates an expression at the steps start, start+interval, …, end (Prometheus' evaluator): every
 * node yields a Matrix with one point per step where it has a value; instant queries are a range
 * evaluation with a single step. Sample accounting follows Prometheus so that the same queries hit
 * the max-samples limit.
 */
export class Evaluator {
  currentSamples = 0;
  private ticks = 0;

  constructor(
    private readonly ctx: EvalContext,
    readonly start: number,
    readonly end: number,
    readonly interval: number,
  ) {}

  /** Throws on timeout or cancellation; cheap enough to call in loops (checks every 256th call). */
  private checkDone(force = false): void {
    if (!force && (++this.ticks & 255) !== 0) return;
    if (this.ctx.signal?.aborted) throw new PromQLError('canceled', `query was canceled in ${ENV}`);
    if (Date.now() > this.ctx.deadline) throw new PromQLError('timeout', `query timed out in ${ENV}`);
  }

  private child(start: number, end: number, interval: number): Evaluator {
    const ev = new Evaluator(this.ctx, start, end, interval);
    ev.currentSamples = this.currentSamples;
    return ev;
  }

  eval(expr: Expr): Value {
    this.checkDone(true);
    switch (expr.type) {
      case 'AggregateExpr':
        return this.evalAggregate(expr);
      case 'Call':
        return this.evalCall(expr);
      case 'ParenExpr':
        return this.eval(expr.expr);
      case 'UnaryExpr':
        return this.evalUnary(expr);
      case 'BinaryExpr':
        return this.evalBinary(expr);
      case 'NumberLiteral': {
        const v = expr.val;
        return this.rangeEval(null, () => [{ metric: EMPTY_LABELS, t: 0, v }], []);
      }
      case 'StringLiteral':
        return { kind: 'string', t: this.start, v: expr.val };
      case 'VectorSelector':
        return this.evalVectorSelector(expr);
      case 'MatrixSelector':
        if (this.start !== this.end) {
          throw new PromQLError('internal', 'cannot do range evaluation of matrix selector');
        }
        return this.evalMatrixSelector(expr);
      case 'SubqueryExpr':
        return this.evalSubquery(expr);
      case 'StepInvariantExpr':
        return this.evalStepInvariant(expr);
    }
  }

  private evalMatrix(e: Expr): Matrix {
    const v = this.eval(e);
    if (isStringValue(v)) throw new PromQLError('internal', `unexpected string value for ${e.type}`);
    return v;
  }

  /**
   * Evaluates `exprs` (string-typed ones are skipped: functions read them from the AST), then calls
   * `fn` once per step with the step's vectors, and assembles the results into series.
   * `prep` computes a per-series key (grouping key / matching signature) once per input series.
   */
  rangeEval(prep: ((ls: Labels) => string) | null, fn: StepFn, exprs: readonly (Expr | null)[], given?: EvaluatedInputs): Matrix {
    const originalNumSamples = given?.originalNumSamples ?? this.currentSamples;
    const matrixes: (Matrix | null)[] =
      given?.matrixes ?? exprs.map((e) => (e !== null && exprType(e) !== 'string' ? this.evalMatrix(e) : null));
    const helpers: string[][] = matrixes.map((m) => (prep && m ? m.map((s) => prep(s.metric)) : []));
    const cursors = matrixes.map((m) => new Int32Array(m ? m.length : 0));
    // One Sample object per input series, refilled at every step (step functions never keep
    // input samples beyond the step).
    const samples: (Sample | undefined)[][] = matrixes.map((m) => (m ? new Array<Sample | undefined>(m.length) : []));
    const args: (Vector | null)[] = matrixes.map((m) => (m ? [] : null));
    const bufHelpers: string[][] = matrixes.map(() => []);
    const enh = new EvalNodeHelper();
    const out = new Map<string, Series>();
    let tempNumSamples = this.currentSamples;
    const max = this.ctx.maxSamples;
    // The previous step's output label sets and series: when a step yields the same Labels objects
    // in the same order (the common case), neither the duplicate check nor the lookup is needed.
    let prevMetrics: Labels[] = [];
    let prevSeries: Series[] = [];

    for (let ts = this.start; ts <= this.end; ts += this.interval) {
      this.checkDone();
      this.currentSamples = tempNumSamples;
      for (let i = 0; i < matrixes.length; i++) {
        const m = matrixes[i];
        if (!m) continue;
        const vec = args[i]!;
        vec.length = 0;
        const bh = bufHelpers[i]!;
        bh.length = 0;
        const cur = cursors[i]!;
        const h = helpers[i]!;
        const smp = samples[i]!;
        for (let si = 0; si < m.length; si++) {
          const s = m[si]!;
          const c = cur[si]!;
          if (c < s.ts.length && s.ts[c] === ts) {
            if (this.currentSamples >= max) throw tooManySamples();
            let sample = smp[si];
            if (sample === undefined) {
              sample = { metric: s.metric, t: ts, v: s.vs[c]! };
              smp[si] = sample;
            } else {
              sample.t = ts;
              sample.v = s.vs[c]!;
            }
            vec.push(sample);
            if (prep) bh.push(h[si]!);
            cur[si] = c + 1;
            this.currentSamples++;
          }
        }
      }
      enh.ts = ts;
      const result = fn(args, bufHelpers, enh);
      let same = result.length === prevMetrics.length;
      for (let i = 0; same && i < result.length; i++) same = result[i]!.metric === prevMetrics[i];
      if (!same && containsSameLabelset(result)) execError('vector cannot contain metrics with the same labelset');
      this.currentSamples += result.length;
      tempNumSamples += result.length;
      if (this.currentSamples > max) throw tooManySamples();

      if (this.start === this.end) {
        // Single step (instant query): keep the result order.
        const mat: Matrix = result.map((s) => ({ metric: s.metric, ts: [ts], vs: [s.v] }));
        this.currentSamples = originalNumSamples + mat.length;
        return mat;
      }
      if (same) {
        for (let i = 0; i < result.length; i++) {
          const ser = prevSeries[i]!;
          ser.ts.push(ts);
          ser.vs.push(result[i]!.v);
        }
        continue;
      }
      prevMetrics = new Array<Labels>(result.length);
      prevSeries = new Array<Series>(result.length);
      for (let i = 0; i < result.length; i++) {
        const s = result[i]!;
        const k = seriesKey(s.metric);
        let ser = out.get(k);
        if (!ser) {
          ser = { metric: s.metric, ts: [], vs: [] };
          out.set(k, ser);
        }
        ser.ts.push(ts);
        ser.vs.push(s.v);
        prevMetrics[i] = s.metric;
        prevSeries[i] = ser;
      }
    }
    const mat = [...out.values()];
    this.currentSamples = originalNumSamples + totalSamples(mat);
    return mat;
  }

  // ---- selectors ------------------------------------------------------------------------------

  private selected(vs: VectorSelector): Selection {
    const d = this.ctx.data.get(vs);
    if (!d) throw new PromQLError('internal', 'vector selector was not populated');
    return d;
  }

  /** Instant selector: per series (decoded one at a time), the newest sample within the lookback at each step. */
  private evalVectorSelector(vs: VectorSelector): Matrix {
    const mat: Matrix = [];
    const max = this.ctx.maxSamples;
    const lookback = this.ctx.lookbackDelta;
    const sel = this.selected(vs);
    const buf = new SampleBuffer();
    for (let si = 0; si < sel.series.length; si++) {
      this.checkDone();
      if (!sel.read(si, buf)) continue;
      const sts = buf.ts;
      const svs = buf.vs;
      const n = buf.n;
      const stale = buf.nStale > 0 ? buf.staleTs : null;
      const ns = buf.nStale;
      const ts: number[] = [];
      const vals: number[] = [];
      let i = 0;
      let j = 0;
      for (let t = this.start; t <= this.end; t += this.interval) {
        const ref = (vs.timestamp ?? t) - vs.originalOffset;
        while (i < n && sts[i]! <= ref) i++;
        if (i === 0) continue;
        const st = sts[i - 1]!;
        if (st < ref - lookback) continue;
        if (stale !== null) {
          while (j < ns && stale[j]! <= ref) j++;
          if (j > 0 && stale[j - 1]! > st) continue; // The newest sample is a stale marker.
        }
        if (this.currentSamples >= max) throw tooManySamples();
        ts.push(t);
        vals.push(svs[i - 1]!);
        this.currentSamples++;
      }
      if (ts.length > 0) mat.push({ metric: sel.series[si]!.labels, ts, vs: vals });
    }
    return mat;
  }

  /** The samples of a vector selector at one time, with their own timestamps (for timestamp()). */
  private vectorSelectorAt(vs: VectorSelector, ref: number): Vector {
    const out: Vector = [];
    const lookback = this.ctx.lookbackDelta;
    for (const s of this.selected(vs).all()) {
      const i = upperBound(s.ts, ref);
      if (i === 0) continue;
      const t = s.ts[i - 1]!;
      if (t < ref - lookback) continue;
      if (s.staleTs) {
        const j = upperBound(s.staleTs, ref);
        if (j > 0 && s.staleTs[j - 1]! > t) continue;
      }
      out.push({ metric: s.labels, t, v: s.vs[i - 1]! });
      this.currentSamples++;
      if (this.currentSamples > this.ctx.maxSamples) throw tooManySamples();
    }
    return out;
  }

  private evalMatrixSelector(ms: MatrixSelector): Matrix {
    const vs = ms.vectorSelector;
    const maxt = (vs.timestamp ?? this.start) - vs.originalOffset;
    const mint = maxt - ms.range;
    const mat: Matrix = [];
    for (const s of this.selected(vs).all()) {
      this.checkDone();
      const lo = lowerBound(s.ts, mint);
      const hi = upperBound(s.ts, maxt);
      if (hi <= lo) continue;
      if (this.currentSamples + (hi - lo) > this.ctx.maxSamples) throw tooManySamples();
      this.currentSamples += hi - lo;
      mat.push({ metric: s.labels, ts: Array.from(s.ts.subarray(lo, hi)), vs: Array.from(s.vs.subarray(lo, hi)) });
    }
    return mat;
  }

  // ---- subqueries and step invariants -------------------------------------------------------------

  private evalSubquery(sq: SubqueryExpr): Matrix {
    const offset = sq.originalOffset;
    const interval = sq.step !== 0 ? sq.step : this.ctx.noStepSubqueryInterval(sq.range);
    // With @ the subquery is anchored at that time; otherwise it follows the enclosing steps.
    // (@ subqueries normally run in a single-step evaluator; as the argument of an @-unsafe
    // function such as predict_linear they do not, and Prometheus 2.42 then lets the end move with
    // the steps: end = @ + (end - start) - offset.)
    const end = (sq.timestamp !== null ? sq.timestamp + (this.end - this.start) : this.end) - offset;
    const base = (sq.timestamp ?? this.start) - offset - sq.range;
    // The first step is the first multiple of the interval at or after base (Go integer division).
    let start = interval * Math.trunc(base / interval);
    if (start < base) start += interval;
    const ev = this.child(start, end, interval);
    const res = ev.evalMatrix(sq.expr);
    this.currentSamples = ev.currentSamples;
    return res;
  }

  private evalStepInvariant(e: StepInvariantExpr): Value {
    const inner = e.expr;
    if (inner.type === 'StringLiteral' || inner.type === 'NumberLiteral') return this.eval(inner);
    const ev = this.child(this.start, this.start, this.interval);
    const res = ev.eval(inner);
    this.currentSamples = ev.currentSamples;
    const u = unwrap(inner);
    if (isStringValue(res) || u.type === 'MatrixSelector' || u.type === 'SubqueryExpr') return res;
    // Repeat the single-step result for every step.
    const max = this.ctx.maxSamples;
    for (const s of res) {
      if (s.ts.length !== 1) throw new PromQLError('internal', 'unexpected number of samples');
      const v = s.vs[0]!;
      for (let ts = this.start + this.interval; ts <= this.end; ts += this.interval) {
        s.ts.push(ts);
        s.vs.push(v);
        this.currentSamples++;
        if (this.currentSamples > max) throw tooManySamples();
      }
    }
    return res;
  }

  // ---- operators --------------------------------------------------------------------------------

  private evalUnary(e: UnaryExpr): Matrix {
    const mat = this.evalMatrix(e.expr);
    if (e.op === '-') {
      for (const s of mat) {
        s.metric = dropMetricName(s.metric);
        for (let i = 0; i < s.vs.length; i++) s.vs[i] = -s.vs[i]!;
      }
      if (containsSameLabelset(mat)) execError('vector cannot contain metrics with the same labelset');
    }
    return mat;
  }

  private evalBinary(e: BinaryExpr): Matrix {
    const lt = exprType(e.lhs);
    const rt = exprType(e.rhs);
    const op = e.op;
    if (lt === 'scalar' && rt === 'scalar') {
      return this.rangeEval(
        null,
        (v) => [{ metric: EMPTY_LABELS, t: 0, v: scalarBinop(op, v[0]![0]!.v, v[1]![0]!.v) }],
        [e.lhs, e.rhs],
      );
    }
    if (lt === 'vector' && rt === 'vector') {
      const matching = e.vectorMatching!;
      const sigf = signatureFunc(matching);
      switch (op) {
        case 'and':
          return this.rangeEval(sigf, (v, sh) => vectorAnd(v[0]!, v[1]!, sh[0]!, sh[1]!), [e.lhs, e.rhs]);
        case 'or':
          return this.rangeEval(sigf, (v, sh) => vectorOr(v[0]!, v[1]!, sh[0]!, sh[1]!), [e.lhs, e.rhs]);
        case 'unless':
          return this.rangeEval(sigf, (v, sh) => vectorUnless(v[0]!, v[1]!, sh[0]!, sh[1]!), [e.lhs, e.rhs]);
        default:
          return this.rangeEval(
            sigf,
            (v, sh, enh) =>
              vectorBinop(op, v[0]!, v[1]!, matching, e.returnBool, sh[0]!, sh[1]!, enh.resultMetrics),
            [e.lhs, e.rhs],
          );
      }
    }
    if (lt === 'vector') {
      return this.rangeEval(null, (v) => vectorScalarBinop(op, v[0]!, v[1]![0]!.v, false, e.returnBool), [
        e.lhs,
        e.rhs,
      ]);
    }
    return this.rangeEval(null, (v) => vectorScalarBinop(op, v[1]!, v[0]![0]!.v, true, e.returnBool), [
      e.lhs,
      e.rhs,
    ]);
  }

  private evalAggregate(e: AggregateExpr): Matrix {
    const grouping = [...e.grouping].sort(compareStrings);
    const keyFn = groupingKeyFunc(grouping, e.without);
    const param = e.param ? unwrap(e.param) : null;
    if (param === null && canAggregateMatrix(e.op)) return this.aggregateWhole(e, grouping);
    if (param && param.type === 'StringLiteral') {
      const label = param.val;
      return this.rangeEval(keyFn, (v, sh) => aggregate(e.op, grouping, e.without, label, v[0]!, sh[0]!), [e.expr]);
    }
    const stepwise = (given?: EvaluatedInputs): Matrix =>
      this.rangeEval(
        keyFn,
        (v, sh) => aggregate(e.op, grouping, e.without, e.param ? v[0]![0]!.v : 0, v[1]!, sh[1]!),
        [e.param, e.expr],
        given,
      );
    if (e.op === 'quantile') return this.quantileWhole(e, grouping, stepwise);
    return stepwise();
  }

  /**
   * Parameterless aggregations over the whole input at once (aggregateMatrix), with the sample
   * accounting rangeEval would do step by step. Over a range function (`sum(rate(x[5m]))`) the
   * function's output series go straight into the aggregation, without a matrix in between.
   */
  private aggregateWhole(e: AggregateExpr, grouping: readonly string[]): Matrix {
    const originalNumSamples = this.currentSamples;
    const nSteps = Math.floor((this.end - this.start) / this.interval) + 1;
    let inner = e.expr;
    while (inner.type === 'ParenExpr') inner = inner.expr;
    let res: MatrixAggregation;
    if (inner.type === 'Call' && rangeArgIndex(inner) >= 0 && inner.func.name !== 'absent_over_time') {
      res = this.aggregateRangeFunction(e, inner, grouping, nSteps);
    } else {
      const input = this.evalMatrix(e.expr);
      res = aggregateMatrix(e.op, grouping, e.without, input, this.start, this.interval, nSteps, () => this.checkDone());
    }
    return this.accountAggregation(originalNumSamples, res);
  }

  /**
   * The sample accounting rangeEval does step by step, for an aggregation computed at once:
   * at each step the inputs of that step and the outputs so far are held.
   */
  private accountAggregation(originalNumSamples: number, res: MatrixAggregation): Matrix {
    const { out, inPerStep, outPerStep } = res;
    const max = this.ctx.maxSamples;
    let temp = this.currentSamples;
    for (let k = 0; k < inPerStep.length; k++) {
      const n = inPerStep[k]!;
      if (n > 0 && temp + n > max) throw tooManySamples();
      temp += outPerStep[k]!;
      if (temp + n > max) throw tooManySamples();
    }
    this.currentSamples = originalNumSamples + totalSamples(out);
    return out;
  }

  /**
   * `quantile` over the whole input at once: each (group, step) collects its values in input
   * order, then `quantile` as aggregate() computes it. When groups × steps would be too many
   * cells, `stepwise` evaluates it step by step (over the matrices already evaluated).
   */
  private quantileWhole(e: AggregateExpr, grouping: readonly string[], stepwise: (given?: EvaluatedInputs) => Matrix): Matrix {
    const nSteps = Math.floor((this.end - this.start) / this.interval) + 1;
    if (nSteps > MAX_CELLS) return stepwise();
    const originalNumSamples = this.currentSamples;
    const paramMat = this.evalMatrix(e.param!);
    const input = this.evalMatrix(e.expr);
    const { start, interval } = this;
    const { groupOf, groupLabels } = assignGroups(input, grouping, e.without);
    if (groupLabels.length * nSteps > MAX_CELLS) return stepwise({ matrixes: [paramMat, input], originalNumSamples });
    const inPerStep = new Float64Array(nSteps);
    const q = new Float64Array(nSteps).fill(NaN);
    for (const s of paramMat) {
      for (let j = 0; j < s.ts.length; j++) {
        const k = (s.ts[j]! - start) / interval;
        q[k] = s.vs[j]!;
        inPerStep[k] = inPerStep[k]! + 1;
      }
    }
    const cells: (number[] | undefined)[] = new Array<number[] | undefined>(groupLabels.length * nSteps);
    for (let i = 0; i < input.length; i++) {
      if ((i & 1023) === 0) this.checkDone();
      const s = input[i]!;
      const base = groupOf[i]! * nSteps;
      for (let j = 0; j < s.ts.length; j++) {
        const k = (s.ts[j]! - start) / interval;
        inPerStep[k] = inPerStep[k]! + 1;
        const c = base + k;
        const vals = cells[c];
        if (vals === undefined) cells[c] = [s.vs[j]!];
        else vals.push(s.vs[j]!);
      }
    }
    const outPerStep = new Float64Array(nSteps);
    const out: Matrix = [];
    for (let g = 0; g < groupLabels.length; g++) {
      const ts: number[] = [];
      const vs: number[] = [];
      for (let k = 0; k < nSteps; k++) {
        const vals = cells[g * nSteps + k];
        if (vals === undefined) continue;
        ts.push(start + k * interval);
        vs.push(quantile(q[k]!, vals));
        outPerStep[k] = outPerStep[k]! + 1;
      }
      if (ts.length > 0) out.push({ metric: groupLabels[g]!, ts, vs });
    }
    return this.accountAggregation(originalNumSamples, { out, inPerStep, outPerStep });
  }

  private aggregateRangeFunction(e: AggregateExpr, call: Call, grouping: readonly string[], nSteps: number): MatrixAggregation {
    const input = this.rangeFunctionInput(call, rangeArgIndex(call));
    const keepName = FUNCTION_IMPLS[call.func.name]!.keepMetricName === true;
    const count = input.sel !== null ? input.sel.series.length : input.sub.length;
    const labelsAt = (i: number): Labels => (input.sel !== null ? input.sel.series[i]!.labels : input.sub[i]!.labels);
    // The function's output labels: the input's without the metric name (unless kept). Two
    // inputs that differ only in their names would make the function fail: leave such cases to
    // the matrix path, which reports that error when both have output.
    let fuse = true;
    if (!keepName && count > 1) {
      const name0 = getLabelValue(labelsAt(0), METRIC_NAME);
      let same = true;
      for (let i = 1; i < count && same; i++) same = getLabelValue(labelsAt(i), METRIC_NAME) === name0;
      if (!same) fuse = !hasDuplicateLabels(count, labelsAt, true);
    }
    const keyFn = groupingKeyFunc(grouping, e.without);
    const labelsOf = groupLabelsFunc(grouping, e.without);
    // Grouping by __name__ sees the output labels, which have no name (only by() keeps it).
    const needDrop = !keepName && !e.without && grouping.includes(METRIC_NAME);
    const keyIds = new Int32Array(count);
    const keyIndex = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const ls = needDrop ? dropMetricName(labelsAt(i)) : labelsAt(i);
      const k = keyFn(ls);
      let id = keyIndex.get(k);
      if (id === undefined) {
        id = keyIndex.size;
        keyIndex.set(k, id);
      }
      keyIds[i] = id;
    }
    if (!fuse || keyIndex.size * nSteps > MAX_CELLS) {
      const mat = this.rangeFunctionMatrix(call, input);
      return aggregateMatrix(e.op, grouping, e.without, mat, this.start, this.interval, nSteps, () => this.checkDone());
    }
    // Groups are numbered in order of first output, as aggregating the matrix would.
    const groupOfKey = new Int32Array(keyIndex.size).fill(-1);
    const groupLabels: Labels[] = [];
    const cells = new Cells(e.op, keyIndex.size, nSteps);
    const inPerStep = new Float64Array(nSteps);
    const outPerStep = new Float64Array(nSteps);
    const { start, interval } = this;
    this.streamRangeFunction(call, input, (i, labels, ts, vs, n) => {
      const id = keyIds[i]!;
      let g = groupOfKey[id]!;
      if (g < 0) {
        g = groupLabels.length;
        groupOfKey[id] = g;
        groupLabels.push(labelsOf(keepName ? labels : dropMetricName(labels)));
      }
      cells.add(g, ts, vs, 0, n, Infinity, start, interval, 0, inPerStep);
    });
    const out: Matrix = [];
    for (let g = 0; g < groupLabels.length; g++) {
      const ts: number[] = [];
      const vs: number[] = [];
      cells.emit(g, nSteps, 0, start, interval, ts, vs, outPerStep);
      if (ts.length > 0) out.push({ metric: groupLabels[g]!, ts, vs });
    }
    return { out, inPerStep, outPerStep };
  }

  // ---- function calls -------------------------------------------------------------------------

  private evalCall(e: Call): Matrix {
    const name = e.func.name;
    const impl = FUNCTION_IMPLS[name];
    if (!impl) throw new PromQLError('internal', `function ${JSON.stringify(name)} is not implemented`);

    if (name === 'timestamp') {
      // On a plain selector, timestamp() returns the samples' own timestamps, not the step's.
      const arg = unwrap(e.args[0]!);
      if (arg.type === 'VectorSelector') {
        // Prometheus 2.42 anchors an @ selector here at its timestamp, ignoring its offset.
        return this.rangeEval(
          null,
          (_v, _h, enh) => {
            const ref = arg.timestamp ?? enh.ts - arg.originalOffset;
            return impl.instant!([this.vectorSelectorAt(arg, ref)], e.args, enh);
          },
          [],
        );
      }
    }

    const matrixArgIndex = rangeArgIndex(e);
    if (matrixArgIndex < 0) {
      const fn = impl.instant!;
      return this.rangeEval(null, (v, _h, enh) => fn(v, e.args, enh), e.args);
    }
    return this.evalRangeFunction(e, matrixArgIndex);
  }

  private evalRangeFunction(e: Call, matrixArgIndex: number): Matrix {
    const input = this.rangeFunctionInput(e, matrixArgIndex);
    return this.rangeFunctionMatrix(e, input);
  }

  /** Evaluates the range argument (a subquery is evaluated here) and the scalar arguments. */
  private rangeFunctionInput(e: Call, matrixArgIndex: number): RangeInput {
    const arg = unwrap(e.args[matrixArgIndex]!) as MatrixSelector | SubqueryExpr;
    let input: RangeInput;
    if (arg.type === 'SubqueryExpr') {
      const mat = this.evalMatrix(arg);
      input = {
        sel: null,
        sub: mat.map((s) => ({ labels: s.metric, ts: Float64Array.from(s.ts), vs: Float64Array.from(s.vs), staleTs: null })),
        subquerySamples: totalSamples(mat),
        range: arg.range,
        at: arg.timestamp,
        offset: arg.originalOffset,
        others: [],
      };
    } else {
      input = {
        sel: this.selected(arg.vectorSelector),
        sub: [],
        subquerySamples: 0,
        range: arg.range,
        at: arg.vectorSelector.timestamp,
        offset: arg.vectorSelector.originalOffset,
        others: [],
      };
    }
    // The other arguments are scalars with a value at every step.
    input.others = e.args.map((a, i) => (i === matrixArgIndex || exprType(a) === 'string' ? null : this.evalMatrix(a)));
    return input;
  }

  /** The range function's result as a matrix. */
  private rangeFunctionMatrix(e: Call, input: RangeInput): Matrix {
    const keepName = FUNCTION_IMPLS[e.func.name]!.keepMetricName === true;
    const mat: Matrix = [];
    // Dropping the metric name can make two input series equal only if their names differ.
    let firstName: string | null = null;
    let namesDiffer = false;
    this.streamRangeFunction(e, input, (_i, labels, ts, vs, n) => {
      if (!keepName && !namesDiffer) {
        const name = getLabelValue(labels, METRIC_NAME);
        if (firstName === null) firstName = name;
        else if (name !== firstName) namesDiffer = true;
      }
      const ots = new Array<number>(n);
      const ovs = new Array<number>(n);
      for (let j = 0; j < n; j++) {
        ots[j] = ts[j]!;
        ovs[j] = vs[j]!;
      }
      mat.push({ metric: keepName ? labels : dropMetricName(labels), ts: ots, vs: ovs });
    });
    if (e.func.name === 'absent_over_time') return this.absentOverTime(mat, e);
    if (namesDiffer && containsSameLabelset(mat)) execError('vector cannot contain metrics with the same labelset');
    return mat;
  }

  /**
   * Evaluates a range function one input series at a time over all steps (as Prometheus does) and
   * hands each output series to `emit` in reused arrays (`ts`/`vs`, first `n` entries; input labels,
   * metric name not dropped). Afterwards the output samples are counted in currentSamples, as if
   * the result matrix were held.
   */
  private streamRangeFunction(
    e: Call,
    input: RangeInput,
    emit: (inputIndex: number, labels: Labels, ts: Float64Array, vs: Float64Array, n: number) => void,
  ): void {
    const impl = FUNCTION_IMPLS[e.func.name]!;
    const fn = impl.range!;
    const { sel, sub, range, at, offset, others } = input;
    const hasOthers = others.some((o) => o !== null);
    const scalars: number[] = others.map(() => NaN);
    const enh = new EvalNodeHelper();
    const max = this.ctx.maxSamples;
    const w: RangeWindow = { ts: [], vs: [], lo: 0, hi: 0, rangeStart: 0, rangeEnd: 0, range, resets: null };
    let resets = impl.counterResets === true ? new Int32Array(1024) : null;
    let windowCount = 0;
    const buf = sel !== null ? new SampleBuffer() : null;
    const count = sel !== null ? sel.series.length : sub.length;
    const nSteps = Math.floor((this.end - this.start) / this.interval) + 1;
    const outTs = new Float64Array(nSteps);
    const outVs = new Float64Array(nSteps);

    for (let si = 0; si < count; si++) {
      this.checkDone();
      let labels: Labels;
      let sts: ArrayLike<number>;
      let n: number;
      if (sel !== null) {
        if (!sel.read(si, buf!)) continue;
        labels = sel.series[si]!.labels;
        sts = buf!.ts;
        w.vs = buf!.vs;
        n = buf!.n;
      } else {
        const s = sub[si]!;
        labels = s.labels;
        sts = s.ts;
        w.vs = s.vs;
        n = s.ts.length;
      }
      w.ts = sts;
      if (resets !== null) {
        if (resets.length < n) resets = new Int32Array(Math.max(n, 2 * resets.length));
        const v = w.vs;
        let c = 0;
        if (n > 0) resets[0] = 0;
        for (let j = 1; j < n; j++) {
          if (v[j]! < v[j - 1]!) c++;
          resets[j] = c;
        }
        w.resets = resets;
      }
      this.currentSamples -= windowCount;
      windowCount = 0;
      let out = 0;
      let lo = 0;
      let hi = 0;
      for (let ts = this.start, step = 0; ts <= this.end; ts += this.interval, step++) {
        if (hasOthers) {
          for (let j = 0; j < others.length; j++) {
            const o = others[j];
            if (o) scalars[j] = o[0]!.vs[step]!;
          }
        }
        // An @ range is fixed in single-step evaluation; as the argument of an @-unsafe function
        // in a range evaluation, Prometheus 2.42 shifts it with the step (see evalSubquery).
        const maxt = (at !== null ? at + (ts - this.start) : ts) - offset;
        const mint = maxt - range;
        while (hi < n && sts[hi]! <= maxt) hi++;
        while (lo < hi && sts[lo]! < mint) lo++;
        const c = hi - lo;
        this.currentSamples += c - windowCount;
        windowCount = c;
        if (this.currentSamples > max) throw tooManySamples();
        if (c === 0) continue;
        w.lo = lo;
        w.hi = hi;
        w.rangeStart = mint;
        w.rangeEnd = maxt;
        enh.ts = ts;
        const r = fn(w, scalars, enh);
        if (r !== null) {
          outTs[out] = ts;
          outVs[out++] = r;
        }
      }
      if (out > 0) {
        if (this.currentSamples + out > max) throw tooManySamples();
        this.currentSamples += out;
        emit(si, labels, outTs, outVs, out);
      }
    }
    this.currentSamples -= windowCount + input.subquerySamples;
  }

  /** absent_over_time: 1 at the steps where no input series had samples in range. */
  private absentOverTime(mat: Matrix, e: Call): Matrix {
    const steps = Math.floor((this.end - this.start) / this.interval) + 1;
    for (const s of mat) if (s.ts.length === steps) return [];
    const found = new Set<number>();
    for (const s of mat) for (const t of s.ts) found.add(t);
    if (found.size === steps) return [];
    const out: Series = { metric: labelsForAbsent(e.args[0]!), ts: [], vs: [] };
    for (let ts = this.start; ts <= this.end; ts += this.interval) {
      if (!found.has(ts)) {
        out.ts.push(ts);
        out.vs.push(1);
      }
    }
    return [out];
  }
}
