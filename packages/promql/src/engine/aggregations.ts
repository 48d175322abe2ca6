import { METRIC_NAME, compareStrings, type Labels } from '@strata/tsdb-core';
import type { AggregateOp } from '../parser/ast';
import { PromQLError } from '../errors';
import { formatGoFloatF, formatGoFloatG, goQuote } from '../parser/lexer';
import { deleteLabels, isValidLabelName, keepLabels, setLabel, signatureOn, signatureWithout } from './labels';
import { lessNaNFirst, quantile } from './quantile';
import type { Matrix, Sample, Vector } from './types';

/**
 * Aggregation operators (Prometheus engine.go `aggregation`, 2.42): groups are created in order of
 * first appearance; sum is a plain float sum, avg an incremental mean, stddev/stdvar Welford,
 * topk/bottomk Go-heap based.
 */

/** The grouping key of a series for `by (grouping)` / `without (grouping)` (grouping sorted). */
export function groupingKeyFunc(grouping: readonly string[], without: boolean): (ls: Labels) => string {
  const names = new Set(grouping);
  if (without) return (ls) => signatureWithout(ls, names);
  if (grouping.length === 0) return () => '';
  return (ls) => signatureOn(ls, names);
}

interface Group {
  labels: Labels;
  value: number;
  mean: number;
  groupCount: number;
  heap: Sample[] | null;
}

/** The largest float64 that converts to int64 without overflow, and the smallest. */
const MAX_INT64 = 9223372036854774784;
const MIN_INT64 = -9223372036854775808;

type Less = (a: Sample, b: Sample) => boolean;
const byValue: Less = (a, b) => lessNaNFirst(a.v, b.v);
const byReverseValue: Less = (a, b) => Number.isNaN(a.v) || a.v > b.v;

// Go's container/heap on a slice with the given Less.
function heapUp(h: Sample[], j: number, less: Less): void {
  for (;;) {
    const i = Math.trunc((j - 1) / 2);
    if (i === j || !less(h[j]!, h[i]!)) break;
    [h[i], h[j]] = [h[j]!, h[i]!];
    j = i;
  }
}
function heapDown(h: Sample[], i0: number, n: number, less: Less): void {
  let i = i0;
  for (;;) {
    const j1 = 2 * i + 1;
    if (j1 >= n || j1 < 0) break;
    let j = j1;
    const j2 = j1 + 1;
    if (j2 < n && less(h[j2]!, h[j1]!)) j = j2;
    if (!less(h[j]!, h[i]!)) break;
    [h[i], h[j]] = [h[j]!, h[i]!];
    i = j;
  }
}
function heapPush(h: Sample[], s: Sample, less: Less): void {
  h.push(s);
  heapUp(h, h.length - 1, less);
}
function heapPop(h: Sample[], less: Less): void {
  const n = h.length - 1;
  [h[0], h[n]] = [h[n]!, h[0]!];
  heapDown(h, 0, n, less);
  h.pop();
}

/** sort.Sort(sort.Reverse(heap)) — stable, which is what Go's insertion sort gives for k ≤ 12. */
function sortReverse(h: Sample[], less: Less): void {
  h.sort((a, b) => (less(b, a) ? -1 : less(a, b) ? 1 : 0));
}

export function aggregate(
  op: AggregateOp,
  groupingIn: readonly string[],
  without: boolean,
  param: number | string,
  vec: Vector,
  groupingKeys: readonly string[],
): Vector {
  let grouping = groupingIn;
  let k = 0;
  if (op === 'topk' || op === 'bottomk') {
    const f = param as number;
    if (!(f <= MAX_INT64 && f >= MIN_INT64)) {
      throw new PromQLError('execution', `Scalar value ${formatGoFloatG(f)} overflows int64`);
    }
    k = Math.trunc(f);
    if (k < 1) return [];
  }
  const q = op === 'quantile' ? (param as number) : 0;
  let valueLabel = '';
  let recompute = false;
  if (op === 'count_values') {
    valueLabel = param as string;
    if (!isValidLabelName(valueLabel)) {
      throw new PromQLError('execution', `invalid label name ${goQuote(valueLabel)}`);
    }
    if (!without) grouping = [...grouping, valueLabel].sort(compareStrings);
    // The value label changes the series, so the precomputed grouping keys do not apply.
    recompute = true;
  }
  const keyFn = recompute ? groupingKeyFunc(grouping, without) : null;
  const groupingSet = new Set(grouping);
  const withoutSet = without ? new Set([...grouping, METRIC_NAME]) : null;

  const groups = new Map<string, Group>();
  const ordered: Group[] = [];
  for (let si = 0; si < vec.length; si++) {
    const s = vec[si]!;
    let metric = s.metric;
    if (op === 'count_values') metric = setLabel(metric, valueLabel, formatGoFloatF(s.v));
    const key = keyFn ? keyFn(metric) : groupingKeys[si]!;
    const group = groups.get(key);
    if (!group) {
      const g: Group = {
        labels: withoutSet ? deleteLabels(metric, withoutSet) : keepLabels(metric, groupingSet),
        value: s.v,
        mean: s.v,
        groupCount: 1,
        heap: null,
      };
      switch (op) {
        case 'stddev':
        case 'stdvar':
          g.value = 0;
          break;
        case 'topk':
        case 'bottomk':
        case 'quantile':
          g.heap = [{ metric: s.metric, t: 0, v: s.v }];
          break;
        case 'group':
          g.value = 1;
          break;
        default:
      }
      groups.set(key, g);
      ordered.push(g);
      continue;
    }
    switch (op) {
      case 'sum':
        group.value += s.v;
        break;
      case 'avg': {
        group.groupCount++;
        const m = group.mean;
        if (m === Infinity || m === -Infinity) {
          // Inf of the same sign cannot be subtracted but the mean is right already; a finite
          // value cannot change an infinite mean.
          if ((s.v === Infinity || s.v === -Infinity) && (m > 0) === (s.v > 0)) break;
          if (Number.isFinite(s.v)) break;
        }
        group.mean += s.v / group.groupCount - group.mean / group.groupCount;
        break;
      }
      case 'group':
        break;
      case 'max':
        if (group.value < s.v || Number.isNaN(group.value)) group.value = s.v;
        break;
      case 'min':
        if (group.value > s.v || Number.isNaN(group.value)) group.value = s.v;
        break;
      case 'count':
      case 'count_values':
        group.groupCount++;
        break;
      case 'stddev':
      case 'stdvar': {
        group.groupCount++;
        const delta = s.v - group.mean;
        group.mean += delta / group.groupCount;
        group.value += delta * (s.v - group.mean);
        break;
      }
      case 'topk':
      case 'bottomk': {
        const h = group.heap!;
        const less = op === 'topk' ? byValue : byReverseValue;
        const top = h[0]!.v;
        const better = op === 'topk' ? top < s.v : top > s.v;
        if (h.length < k || better || Number.isNaN(top)) {
          const sample = { metric: s.metric, t: 0, v: s.v };
          if (h.length === k) {
            if (k === 1) {
              h[0] = sample;
              break;
            }
            heapPop(h, less);
          }
          heapPush(h, sample, less);
        }
        break;
      }
      case 'quantile':
        group.heap!.push(s);
        break;
    }
  }

  const out: Vector = [];
  for (const g of ordered) {
    switch (op) {
      case 'avg':
        g.value = g.mean;
        break;
      case 'count':
      case 'count_values':
        g.value = g.groupCount;
        break;
      case 'stdvar':
        g.value = g.value / g.groupCount;
        break;
      case 'stddev':
        g.value = Math.sqrt(g.value / g.groupCount);
        break;
      case 'topk':
      case 'bottomk': {
        const h = g.heap!;
        if (h.length > 1) sortReverse(h, op === 'topk' ? byValue : byReverseValue);
        for (const s of h) out.push({ metric: s.metric, t: 0, v: s.v });
        continue;
      }
      case 'quantile':
        g.value = quantile(
          q,
          g.heap!.map((s) => s.v),
        );
        break;
      default:
    }
    out.push({ metric: g.labels, t: 0, v: g.value });
  }
  return out;
}

/** Aggregations that aggregateMatrix evaluates (no parameter, one value per group and step). */
const MATRIX_OPS: ReadonlySet<AggregateOp> = new Set<AggregateOp>(['sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar']);

export function canAggregateMatrix(op: AggregateOp): boolean {
  return MATRIX_OPS.has(op);
}

/** At most this many (group, step) cells are accumulated at once; longer ranges go in slices of steps. */
export const MAX_CELLS = 1 << 20;

export interface MatrixAggregation {
  out: Matrix;
  /** Input samples and output samples per step, for the evaluator's sample accounting. */
  inPerStep: Float64Array;
  outPerStep: Float64Array;
}

/**
 * (group, step) accumulators of one parameterless aggregation: cell `g * width + k` holds group g
 * at the k-th step of the current slice of steps. The result per cell is the one `aggregate`
 * computes for that step's vector when the contributions arrive in the same order, with the same
 * first-value and update rules.
 */
export class Cells {
  readonly cnt: Float64Array;
  readonly val: Float64Array;
  readonly mean: Float64Array | null;

  constructor(
    readonly op: AggregateOp,
    nGroups: number,
    readonly width: number,
  ) {
    const n = nGroups * width;
    this.cnt = new Float64Array(n);
    this.val = new Float64Array(n);
    this.mean = op === 'avg' || op === 'stddev' || op === 'stdvar' ? new Float64Array(n) : null;
  }

  reset(): void {
    this.cnt.fill(0);
    this.val.fill(0);
  }

  /**
   * Adds points [j, n) of one series, up to the step time `limit`, to group `g`; `first` is the
   * index of the slice's first step. Returns the index of the first point not added.
   */
  add(
    g: number,
    ts: ArrayLike<number>,
    vs: ArrayLike<number>,
    j: number,
    n: number,
    limit: number,
    start: number,
    interval: number,
    first: number,
    inPerStep: Float64Array,
  ): number {
    const { op, cnt, val, mean } = this;
    const base = g * this.width - first;
    for (; j < n; j++) {
      const t = ts[j]!;
      if (t > limit) break;
      const k = (t - start) / interval;
      inPerStep[k] = inPerStep[k]! + 1;
      const c = base + k;
      const v = vs[j]!;
      const seen = cnt[c]!;
      cnt[c] = seen + 1;
      if (seen === 0) {
        switch (op) {
          case 'stddev':
          case 'stdvar':
            val[c] = 0;
            mean![c] = v;
            break;
          case 'avg':
            mean![c] = v;
            break;
          case 'group':
            val[c] = 1;
            break;
          default:
            val[c] = v;
        }
        continue;
      }
      switch (op) {
        case 'sum':
          val[c] = val[c]! + v;
          break;
        case 'avg': {
          const count = seen + 1;
          const m = mean![c]!;
          if (m === Infinity || m === -Infinity) {
            // As aggregate(): same-sign Inf or a finite value cannot change an infinite mean.
            if ((v === Infinity || v === -Infinity) && m > 0 === v > 0) break;
            if (Number.isFinite(v)) break;
          }
          mean![c] = m + (v / count - m / count);
          break;
        }
        case 'max': {
          const cur = val[c]!;
          if (cur < v || Number.isNaN(cur)) val[c] = v;
          break;
        }
        case 'min': {
          const cur = val[c]!;
          if (cur > v || Number.isNaN(cur)) val[c] = v;
          break;
        }
        case 'stddev':
        case 'stdvar': {
          const count = seen + 1;
          const m = mean![c]!;
          const delta = v - m;
          const m2 = m + delta / count;
          mean![c] = m2;
          val[c] = val[c]! + delta * (v - m2);
          break;
        }
        default: // count, group: nothing but the count
      }
    }
    return j;
  }

  /** Appends group g's results for the slice's `w` steps (from step index `first`). */
  emit(g: number, w: number, first: number, start: number, interval: number, ts: number[], vs: number[], outPerStep: Float64Array): void {
    const { op, cnt, val, mean } = this;
    const base = g * this.width;
    for (let k = 0; k < w; k++) {
      const c = base + k;
      const count = cnt[c]!;
      if (count === 0) continue;
      let v: number;
      switch (op) {
        case 'avg':
          v = mean![c]!;
          break;
        case 'count':
          v = count;
          break;
        case 'stdvar':
          v = val[c]! / count;
          break;
        case 'stddev':
          v = Math.sqrt(val[c]! / count);
          break;
        default:
          v = val[c]!;
      }
      ts.push(start + (first + k) * interval);
      vs.push(v);
      outPerStep[first + k] = outPerStep[first + k]! + 1;
    }
  }
}

/** The labels of an aggregation group, from the labels of a series in it. */
export function groupLabelsFunc(grouping: readonly string[], without: boolean): (ls: Labels) => Labels {
  if (without) {
    const withoutSet = new Set([...grouping, METRIC_NAME]);
    return (ls) => deleteLabels(ls, withoutSet);
  }
  const groupingSet = new Set(grouping);
  return (ls) => keepLabels(ls, groupingSet);
}

/**
 * The aggregation group of every series of `input` (groupOf[i]), groups numbered in order of first
 * appearance, with their labels.
 */
export function assignGroups(input: Matrix, grouping: readonly string[], without: boolean): { groupOf: Int32Array; groupLabels: Labels[] } {
  const keyFn = groupingKeyFunc(grouping, without);
  const labelsOf = groupLabelsFunc(grouping, without);
  const groupOf = new Int32Array(input.length);
  const index = new Map<string, number>();
  const groupLabels: Labels[] = [];
  for (let i = 0; i < input.length; i++) {
    const metric = input[i]!.metric;
    const k = keyFn(metric);
    let g = index.get(k);
    if (g === undefined) {
      g = groupLabels.length;
      index.set(k, g);
      groupLabels.push(labelsOf(metric));
    }
    groupOf[i] = g;
  }
  return { groupOf, groupLabels };
}

/**
 * The parameterless aggregations over a whole step-aligned matrix at once: each input series is
 * mapped to its group once, then its points are accumulated into (group, step) cells (in slices
 * of steps when groups × steps exceeds `maxCells`). Groups come out in order of first appearance
 * in the input. `tick` is called regularly (timeouts).
 */
export function aggregateMatrix(
  op: AggregateOp,
  grouping: readonly string[],
  without: boolean,
  input: Matrix,
  start: number,
  interval: number,
  nSteps: number,
  tick: () => void,
  maxCells = MAX_CELLS,
): MatrixAggregation {
  const { groupOf, groupLabels } = assignGroups(input, grouping, without);
  const nGroups = groupLabels.length;
  const outTs: number[][] = groupLabels.map(() => []);
  const outVs: number[][] = groupLabels.map(() => []);
  const inPerStep = new Float64Array(nSteps);
  const outPerStep = new Float64Array(nSteps);
  const cursor = new Int32Array(input.length);
  const width = Math.max(1, Math.min(nSteps, Math.floor(maxCells / Math.max(1, nGroups))));
  const cells = new Cells(op, nGroups, width);
  for (let first = 0; first < nSteps; first += width) {
    const w = Math.min(width, nSteps - first);
    const limit = start + (first + w - 1) * interval;
    if (first > 0) cells.reset();
    for (let i = 0; i < input.length; i++) {
      if ((i & 1023) === 0) tick();
      const s = input[i]!;
      cursor[i] = cells.add(groupOf[i]!, s.ts, s.vs, cursor[i]!, s.ts.length, limit, start, interval, first, inPerStep);
    }
    for (let g = 0; g < nGroups; g++) cells.emit(g, w, first, start, interval, outTs[g]!, outVs[g]!, outPerStep);
  }
  const out: Matrix = [];
  for (let g = 0; g < nGroups; g++) if (outTs[g]!.length > 0) out.push({ metric: groupLabels[g]!, ts: outTs[g]!, vs: outVs[g]! });
  return { out, inPerStep, outPerStep };
}
