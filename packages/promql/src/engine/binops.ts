import { METRIC_NAME, type Labels } from '@strata/tsdb-core';
import type { BinaryOp, VectorMatching } from '../parser/ast';
import { isComparisonOp } from '../parser/ast';
import { PromQLError } from '../errors';
import {
  deleteLabels,
  dropMetricName,
  getLabelValue,
  keepLabels,
  labelsString,
  seriesKey,
  setLabel,
  signatureOn,
  signatureWithout,
} from './labels';
import type { Sample, Vector } from './types';

/**
 * Binary operators (Prometheus engine.go: VectorAnd/Or/Unless, VectorBinop, VectorscalarBinop,
 * scalarBinop and vectorElemBinop).
 */

/** Go's math.Pow where it differs from JS `**` (1^NaN, 1^±Inf, (-1)^±Inf are 1 in Go). */
export function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (x === -1 && (y === Infinity || y === -Infinity)) return 1;
  return Math.pow(x, y);
}

function arith(op: BinaryOp, l: number, r: number): number {
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return l / r;
    case '^':
      return goPow(l, r);
    case '%':
      return l % r;
    case 'atan2':
      return Math.atan2(l, r);
    default:
      throw new PromQLError('internal', `operator "${op}" not allowed for arithmetic`);
  }
}

function compare(op: BinaryOp, l: number, r: number): boolean {
  switch (op) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '>':
      return l > r;
    case '<':
      return l < r;
    case '>=':
      return l >= r;
    case '<=':
      return l <= r;
    default:
      throw new PromQLError('internal', `operator "${op}" is not a comparison`);
  }
}

export function scalarBinop(op: BinaryOp, l: number, r: number): number {
  if (isComparisonOp(op)) return compare(op, l, r) ? 1 : 0;
  return arith(op, l, r);
}


export function shouldDropMetricName(op: BinaryOp): boolean {
  return op === '+' || op === '-' || op === '*' || op === '/' || op === '%' || op === '^';
}

/** The signature function for the matching labels of a vector-vector operation. */
export function signatureFunc(matching: VectorMatching): (ls: Labels) => string {
  const names = new Set(matching.matchingLabels);
  return matching.on ? (ls) => signatureOn(ls, names) : (ls) => signatureWithout(ls, names);
}

export function vectorAnd(lhs: Vector, rhs: Vector, lsig: readonly string[], rsig: readonly string[]): Vector {
  if (lhs.length === 0 || rhs.length === 0) return [];
  const right = new Set(rsig);
  const out: Vector = [];
  for (let i = 0; i < lhs.length; i++) if (right.has(lsig[i]!)) out.push(lhs[i]!);
  return out;
}

export function vectorOr(lhs: Vector, rhs: Vector, lsig: readonly string[], rsig: readonly string[]): Vector {
  if (lhs.length === 0) return rhs.slice();
  if (rhs.length === 0) return lhs.slice();
  const left = new Set(lsig);
  const out: Vector = lhs.slice();
  for (let j = 0; j < rhs.length; j++) if (!left.has(rsig[j]!)) out.push(rhs[j]!);
  return out;
}

export function vectorUnless(lhs: Vector, rhs: Vector, lsig: readonly string[], rsig: readonly string[]): Vector {
  if (lhs.length === 0 || rhs.length === 0) return lhs.slice();
  const right = new Set(rsig);
  const out: Vector = [];
  for (let i = 0; i < lhs.length; i++) if (!right.has(lsig[i]!)) out.push(lhs[i]!);
  return out;
}

/** Per-node cache of result label sets, keyed by the identities of the two input label sets. */
export type ResultMetricCache = Map<Labels, Map<Labels, Labels>>;

function matchLabels(ls: Labels, matching: VectorMatching): Labels {
  const names = new Set(matching.matchingLabels);
  return ls.filter((l) => (matching.on ? names.has(l.name) : !names.has(l.name) && l.name !== METRIC_NAME));
}

function resultMetric(
  lhs: Labels,
  rhs: Labels,
  op: BinaryOp,
  matching: VectorMatching,
  cache: ResultMetricCache,
): Labels {
  let byRhs = cache.get(lhs);
  if (!byRhs) {
    byRhs = new Map();
    cache.set(lhs, byRhs);
  }
  const cached = byRhs.get(rhs);
  if (cached) return cached;
  let ls = lhs;
  if (shouldDropMetricName(op)) ls = dropMetricName(ls);
  if (matching.card === 'one-to-one') {
    const names = new Set(matching.matchingLabels);
    ls = matching.on ? keepLabels(ls, names) : deleteLabels(ls, names);
  }
  for (const ln of matching.include) {
    // Labels of group_x(...) are taken from the "one" side.
    ls = setLabel(ls, ln, getLabelValue(rhs, ln));
  }
  byRhs.set(rhs, ls);
  return ls;
}

/** A binary operation between two vectors, set operators excluded. */
export function vectorBinop(
  op: BinaryOp,
  lhsIn: Vector,
  rhsIn: Vector,
  matching: VectorMatching,
  returnBool: boolean,
  lsigIn: readonly string[],
  rsigIn: readonly string[],
  cache: ResultMetricCache,
): Vector {
  if (lhsIn.length === 0 || rhsIn.length === 0) return [];
  let lhs = lhsIn;
  let rhs = rhsIn;
  let lsig = lsigIn;
  let rsig = rsigIn;
  // One-to-many is computed as many-to-one with the sides swapped.
  const swapped = matching.card === 'one-to-many';
  if (swapped) {
    [lhs, rhs] = [rhs, lhs];
    [lsig, rsig] = [rsig, lsig];
  }

  const rightSigs = new Map<string, Sample>();
  for (let i = 0; i < rhs.length; i++) {
    const rs = rhs[i]!;
    const sig = rsig[i]!;
    const dupl = rightSigs.get(sig);
    if (dupl) {
      const oneSide = swapped ? 'left' : 'right';
      throw new PromQLError(
        'execution',
        `found duplicate series for the match group ${labelsString(matchLabels(rs.metric, matching))} on the ${oneSide} hand-side of the operation: [${labelsString(rs.metric)}, ${labelsString(dupl.metric)}];many-to-many matching not allowed: matching labels must be unique on one side`,
      );
    }
    rightSigs.set(sig, rs);
  }

  // For one-to-one the value is null; for many-to-one the set of result label sets per signature.
  const matched = new Map<string, Set<string> | null>();
  const comparison = isComparisonOp(op);
  const out: Vector = [];
  for (let i = 0; i < lhs.length; i++) {
    const ls = lhs[i]!;
    const sig = lsig[i]!;
    const rs = rightSigs.get(sig);
    if (!rs) continue;
    let vl = ls.v;
    let vr = rs.v;
    if (swapped) [vl, vr] = [vr, vl];
    // Comparisons keep the left value when true; arithmetic always keeps its result.
    const keep = comparison ? compare(op, vl, vr) : true;
    let value = comparison ? vl : arith(op, vl, vr);
    if (returnBool) {
      value = keep ? 1 : 0;
    } else if (!keep) {
      continue;
    }
    let metric = resultMetric(ls.metric, rs.metric, op, matching, cache);
    if (returnBool) metric = dropMetricName(metric);
    if (matching.card === 'one-to-one') {
      if (matched.has(sig)) {
        throw new PromQLError(
          'execution',
          'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
        );
      }
      matched.set(sig, null);
    } else {
      const insertKey = seriesKey(metric);
      let inserted = matched.get(sig);
      if (!inserted) {
        inserted = new Set();
        matched.set(sig, inserted);
      } else if (inserted.has(insertKey)) {
        throw new PromQLError('execution', 'multiple matches for labels: grouping labels must ensure unique matches');
      }
      inserted.add(insertKey);
    }
    out.push({ metric, t: 0, v: value });
  }
  return out;
}

/** A binary operation between a vector and a scalar; `swap` when the scalar is the left operand. */
export function vectorScalarBinop(
  op: BinaryOp,
  lhs: Vector,
  scalar: number,
  swap: boolean,
  returnBool: boolean,
): Vector {
  const out: Vector = [];
  const comparison = isComparisonOp(op);
  const drop = shouldDropMetricName(op) || returnBool;
  for (const s of lhs) {
    let lv = s.v;
    let rv = scalar;
    if (swap) [lv, rv] = [rv, lv];
    let keep = comparison ? compare(op, lv, rv) : true;
    // Comparisons return the vector element's value, also with the scalar on the left.
    let value = comparison ? s.v : arith(op, lv, rv);
    if (returnBool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (keep) out.push({ metric: drop ? dropMetricName(s.metric) : s.metric, t: s.t, v: value });
  }
  return out;
}
