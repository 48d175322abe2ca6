import { METRIC_NAME, compareStrings, type Labels } from '@strata/tsdb-core';
import type { AggregateOp } from '../parser/ast';
import { PromQLError } from '../errors';
import { formatGoFloatF, formatGoFloatG, goQuote } from '../parser/lexer';
import { deleteLabels, isValidLabelName, keepLabels, setLabel, signatureOn, signatureWithout } from './labels';
import { lessNaNFirst, quantile } from './quantile';
import type { Sample, Vector } from './types';

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
