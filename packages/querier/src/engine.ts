/**
 * What the HTTP API needs from PromQL, declared here so that the querier does not depend on the
 * engine's implementation; `server` wires `@strata/promql`'s Engine and parseSeriesSelector in.
 */
import type { Labels, Matcher, Querier } from '@strata/tsdb-core';

/**
 * A query's value, as `@strata/promql` returns it (times in ms). Arrays are read-only and point
 * columns may be typed arrays, so that engine results are accepted without copying.
 */
export type QueryResult =
  | { resultType: 'vector'; result: readonly { metric: Labels; t: number; v: number }[] }
  | { resultType: 'matrix'; result: readonly { metric: Labels; ts: ArrayLike<number>; vs: ArrayLike<number> }[] }
  | { resultType: 'scalar'; result: { t: number; v: number } }
  | { resultType: 'string'; result: { t: number; v: string } };

/**
 * Extra information the API passes to the engine; an engine may ignore it. `signal` is aborted
 * when the query times out (`timeout` parameter) or the client goes away.
 */
export interface QueryOptions {
  signal?: AbortSignal;
}

/**
 * The PromQL engine. Errors carry `errorType` ('bad_data' for parse/validation errors, 'execution',
 * 'timeout', 'canceled', 'internal') like `@strata/promql`'s PromQLError; other errors count as
 * 'execution', as in Prometheus.
 */
export interface QueryEngine {
  instantQuery(q: Querier, expr: string, timeMs: number, opts?: QueryOptions): Promise<QueryResult>;
  rangeQuery(
    q: Querier,
    expr: string,
    startMs: number,
    endMs: number,
    stepMs: number,
    opts?: QueryOptions,
  ): Promise<QueryResult>;
}

/** Parses one `match[]` series selector (`up{job="x"}`); throws on a syntax error. */
export type SelectorParser = (selector: string) => Matcher[];
