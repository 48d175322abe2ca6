import type { Matcher } from '@strata/tsdb-core';
import { PromQLError, parseExpr } from '@strata/promql';

/** Parses a `match[]` series selector (Prometheus' parser.ParseMetricSelector). */
export function parseSeriesSelector(s: string): Matcher[] {
  const e = parseExpr(s);
  if (e.type !== 'VectorSelector') {
    throw new PromQLError('bad_data', `1:1: parse error: unexpected expression, expected a series selector`);
  }
  return e.matchers;
}
