import type { Labels } from '@strata/tsdb-core';

/**
 * Values flowing through evaluation, as in Prometheus' `promql/value.go`. A Matrix holds, per
 * series, the points computed at the evaluator's step timestamps (or raw samples for a range
 * vector); a Vector is one step's samples.
 */

export interface Sample {
  metric: Labels;
  /** Sample timestamp (ms). For step vectors it is the step time. */
  t: number;
  v: number;
}

export type Vector = Sample[];

export interface Series {
  metric: Labels;
  ts: number[];
  vs: number[];
}

export type Matrix = Series[];

export interface StringValue {
  readonly kind: 'string';
  t: number;
  v: string;
}

export type Value = Matrix | StringValue;

export function isStringValue(v: Value): v is StringValue {
  return !Array.isArray(v);
}

/**
 * The samples of one selected series, loaded once per query. `ts`/`vs` hold the real samples in
 * time order; `staleTs` the timestamps of stale markers (null when there are none). Stale markers
 * end a series for instant lookups and are never part of a range.
 */
export interface SelectedSeries {
  readonly labels: Labels;
  readonly ts: Float64Array;
  readonly vs: Float64Array;
  readonly staleTs: Float64Array | null;
}

export const EMPTY_LABELS: Labels = Object.freeze([]) as Labels;
