import type { Labels } from '@strata/tsdb-core';
import type { QueryResult } from '../engine/engine';

/** `name{a="1", b="2"}` (Prometheus' series notation). */
export function labelsToString(ls: Labels): string {
  let name = '';
  const parts: string[] = [];
  for (const l of ls) {
    if (l.name === '__name__') name = l.value;
    else parts.push(`${l.name}=${JSON.stringify(l.value)}`);
  }
  return parts.length === 0 && name !== '' ? name : `${name}{${parts.join(', ')}}`;
}

/** An instant vector result as `{ 'metric{a="b"}': value }`. */
export function vectorOf(r: QueryResult): Record<string, number> {
  if (r.resultType !== 'vector') throw new Error(`expected vector, got ${r.resultType}`);
  const out: Record<string, number> = {};
  for (const s of r.result) {
    const k = labelsToString(s.metric);
    if (k in out) throw new Error(`duplicate series ${k}`);
    out[k] = s.v;
  }
  return out;
}

/** A matrix result as `{ 'metric{a="b"}': [[t, v], …] }` (t in ms). */
export function matrixOf(r: QueryResult): Record<string, [number, number][]> {
  if (r.resultType !== 'matrix') throw new Error(`expected matrix, got ${r.resultType}`);
  const out: Record<string, [number, number][]> = {};
  for (const s of r.result) out[labelsToString(s.metric)] = s.ts.map((t, i) => [t, s.vs[i]!]);
  return out;
}

/** Rounds to 10 significant digits so float noise does not break equality checks. */
export function approx(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(10)) : v;
}

export function approxVector(r: QueryResult): Record<string, number> {
  const v = vectorOf(r);
  for (const k of Object.keys(v)) v[k] = approx(v[k]!);
  return v;
}

export const s = 1000;
export const m = 60 * s;
