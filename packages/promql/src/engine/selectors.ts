import type { Series as StorageSeries } from '@strata/tsdb-core';
import { type Expr, type VectorSelector, inspect } from '../parser/ast';
import type { SelectedSeries } from './types';

export interface SelectPlan {
  readonly node: VectorSelector;
  /** Inclusive time range (ms) the selector can ever look at in this query. */
  readonly mint: number;
  readonly maxt: number;
}

/**
 * The time range each vector selector needs, as Prometheus' getTimeRangesForSelector computes it:
 * the query range shifted by enclosing subqueries (offsets and ranges, reset by an `@` on a
 * subquery), replaced by the selector's own `@`, widened by the lookback delta (instant selectors)
 * or the range (range selectors), and shifted by the selector's offset.
 */
export function planSelects(expr: Expr, startMs: number, endMs: number, lookbackDelta: number): SelectPlan[] {
  const plans: SelectPlan[] = [];
  let evalRange = 0;
  inspect(expr, (node, path) => {
    if (node.type === 'MatrixSelector') {
      evalRange = node.range;
    } else if (node.type === 'VectorSelector') {
      let start = startMs;
      let end = endMs;
      let subqOffset = 0;
      let subqRange = 0;
      let subqTs: number | null = null;
      for (const p of path) {
        if (p.type !== 'SubqueryExpr') continue;
        subqOffset += p.originalOffset;
        subqRange += p.range;
        if (p.timestamp !== null) {
          subqOffset = p.originalOffset;
          subqRange = p.range;
          subqTs = p.timestamp;
        }
      }
      if (subqTs !== null) start = end = subqTs;
      if (node.timestamp !== null) {
        start = end = node.timestamp;
      } else {
        start = start - subqOffset - subqRange;
        end = end - subqOffset;
      }
      start -= evalRange === 0 ? lookbackDelta : evalRange;
      start -= node.originalOffset;
      end -= node.originalOffset;
      evalRange = 0;
      plans.push({ node, mint: start, maxt: end });
    }
  });
  return plans;
}

/** Loads the samples of the selected series within [mint, maxt] into typed arrays. */
/** Growable typed scratch arrays, reused across series so each sample is copied once (by slice). */
class Scratch {
  buf = new Float64Array(1024);
  n = 0;
  push(x: number): void {
    if (this.n === this.buf.length) {
      const b = new Float64Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.n++] = x;
  }
  take(): Float64Array {
    return this.buf.slice(0, this.n);
  }
}

export function materialize(series: readonly StorageSeries[], mint: number, maxt: number): SelectedSeries[] {
  const out: SelectedSeries[] = [];
  const ts = new Scratch();
  const vs = new Scratch();
  const stale = new Scratch();
  for (const s of series) {
    ts.n = 0;
    vs.n = 0;
    stale.n = 0;
    const it = s.iterator();
    while (it.next()) {
      const t = it.t;
      if (t < mint || t > maxt) continue;
      if (it.stale) stale.push(t);
      else {
        ts.push(t);
        vs.push(it.v);
      }
    }
    if (ts.n === 0) continue; // Nothing a query could return (stale markers alone end nothing).
    out.push({ labels: s.labels, ts: ts.take(), vs: vs.take(), staleTs: stale.n > 0 ? stale.take() : null });
  }
  return out;
}

/** The part of loaded series inside [mint, maxt] (views, no copies). */
export function clampView(sel: readonly SelectedSeries[], mint: number, maxt: number): SelectedSeries[] {
  const out: SelectedSeries[] = [];
  for (const s of sel) {
    const lo = lowerBound(s.ts, mint);
    const hi = upperBound(s.ts, maxt);
    if (hi <= lo) continue;
    if (lo === 0 && hi === s.ts.length && !s.staleTs) {
      out.push(s);
      continue;
    }
    let staleTs = s.staleTs;
    if (staleTs) {
      const a = lowerBound(staleTs, mint);
      const b = upperBound(staleTs, maxt);
      staleTs = b > a ? staleTs.subarray(a, b) : null;
    }
    out.push({ labels: s.labels, ts: s.ts.subarray(lo, hi), vs: s.vs.subarray(lo, hi), staleTs });
  }
  return out;
}

/** Number of elements <= x in a sorted array. */
export function upperBound(a: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Number of elements < x in a sorted array. */
export function lowerBound(a: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
