import { compareLabels, type Labels, type Querier } from '@strata/tsdb-core';
import { type Expr, type VectorSelector, documentedType, exprType } from '../parser/ast';
import { parseExpr } from '../parser/parser';
import { PromQLError } from '../errors';
import { type EvalContext, Evaluator } from './evaluator';
import { preprocessExpr } from './preprocess';
import { type SelectPlan, Selection, planSelects } from './selectors';
import { type Matrix, isStringValue } from './types';

export type QueryResult =
  | { resultType: 'vector'; result: { metric: Labels; t: number; v: number }[] }
  | { resultType: 'matrix'; result: { metric: Labels; ts: number[]; vs: number[] }[] }
  | { resultType: 'scalar'; result: { t: number; v: number } }
  | { resultType: 'string'; result: { t: number; v: string } };

export interface EngineOptions {
  /** How far back an instant selector looks for the latest sample (ms). Default 5m. */
  lookbackDelta?: number;
  /** Most samples a query may hold in memory at once. Default 50e6 (Prometheus' default). */
  maxSamples?: number;
  /** Query timeout (ms). Default 2m. */
  timeoutMs?: number;
  /** Step of subqueries written without one (`[1h:]`), ms. Default 1m (Prometheus' global evaluation interval). */
  noStepSubqueryIntervalMs?: number;
}

/** Per-query overrides. */
export interface QueryOptions {
  /** Aborting cancels the query (errorType `canceled`). */
  signal?: AbortSignal;
  lookbackDelta?: number;
  timeoutMs?: number;
}

const DEFAULT_LOOKBACK_DELTA = 5 * 60 * 1000;
const DEFAULT_MAX_SAMPLES = 50_000_000;
const DEFAULT_TIMEOUT = 2 * 60 * 1000;
const DEFAULT_NO_STEP_SUBQUERY_INTERVAL = 60 * 1000;

/**
 * The PromQL engine (semantics of Prometheus 2.42). A query parses the expression, loads every
 * selector's series once over the whole time range it needs (one `Querier.select` per selector),
 * then evaluates step by step in memory.
 */
export class Engine {
  private readonly lookbackDelta: number;
  private readonly maxSamples: number;
  private readonly timeoutMs: number;
  private readonly noStepSubqueryIntervalMs: number;

  constructor(opts: EngineOptions = {}) {
    this.lookbackDelta = opts.lookbackDelta && opts.lookbackDelta > 0 ? opts.lookbackDelta : DEFAULT_LOOKBACK_DELTA;
    this.maxSamples = opts.maxSamples ?? DEFAULT_MAX_SAMPLES;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT;
    this.noStepSubqueryIntervalMs = opts.noStepSubqueryIntervalMs ?? DEFAULT_NO_STEP_SUBQUERY_INTERVAL;
  }

  /** Evaluates `expr` at `timeMs`. Parse errors throw PromQLError `bad_data`. */
  async instantQuery(q: Querier, expr: string | Expr, timeMs: number, opts: QueryOptions = {}): Promise<QueryResult> {
    const ast = typeof expr === 'string' ? parseExpr(expr) : expr;
    return this.exec(q, ast, timeMs, timeMs, 0, opts);
  }

  /**
   * Evaluates `expr` at start, start+step, …, end. Always returns a matrix (series sorted by labels);
   * scalar expressions give one series with empty labels.
   */
  async rangeQuery(
    q: Querier,
    expr: string | Expr,
    startMs: number,
    endMs: number,
    stepMs: number,
    opts: QueryOptions = {},
  ): Promise<QueryResult> {
    const ast = typeof expr === 'string' ? parseExpr(expr) : expr;
    const t = exprType(ast);
    if (t !== 'vector' && t !== 'scalar') {
      throw new PromQLError(
        'bad_data',
        `invalid expression type "${documentedType(t)}" for range query, must be Scalar or instant Vector`,
      );
    }
    if (endMs < startMs) throw new PromQLError('bad_data', 'end timestamp must not be before start time');
    if (!(stepMs > 0)) {
      throw new PromQLError(
        'bad_data',
        'zero or negative query resolution step widths are not accepted. Try a positive integer',
      );
    }
    return this.exec(q, ast, startMs, endMs, stepMs, opts);
  }

  private async exec(
    q: Querier,
    parsed: Expr,
    start: number,
    end: number,
    interval: number,
    opts: QueryOptions,
  ): Promise<QueryResult> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const deadline = Date.now() + timeoutMs;
    const lookbackDelta = opts.lookbackDelta && opts.lookbackDelta > 0 ? opts.lookbackDelta : this.lookbackDelta;
    const signal = opts.signal;
    if (signal?.aborted) throw new PromQLError('canceled', 'query was canceled in query execution');

    const expr = preprocessExpr(parsed, start, end);
    const data = await withDeadline(this.load(q, expr, start, end, lookbackDelta), deadline, signal);

    const noStep = this.noStepSubqueryIntervalMs;
    const ctx: EvalContext = {
      maxSamples: this.maxSamples,
      lookbackDelta,
      noStepSubqueryInterval: () => noStep,
      deadline,
      signal,
      data,
    };
    const instant = interval === 0;
    const ev = new Evaluator(ctx, start, end, instant ? 1 : interval);
    const val = ev.eval(expr);

    if (isStringValue(val)) return { resultType: 'string', result: { t: start, v: val.v } };
    if (instant) {
      switch (exprType(expr)) {
        case 'vector':
          return {
            resultType: 'vector',
            result: val.map((s) => ({ metric: s.metric, t: start, v: s.vs[0]! })),
          };
        case 'scalar':
          return { resultType: 'scalar', result: { t: start, v: val[0]?.vs[0] ?? NaN } };
        default:
          return { resultType: 'matrix', result: sortMatrix(val) };
      }
    }
    return { resultType: 'matrix', result: sortMatrix(val) };
  }

  /**
   * Loads the series of every selector. Selectors with the same matchers whose time ranges overlap
   * (e.g. `a / on(x) a`) share one `select` over the union of their ranges.
   */
  private async load(
    q: Querier,
    expr: Expr,
    start: number,
    end: number,
    lookbackDelta: number,
  ): Promise<Map<VectorSelector, Selection>> {
    const groups = new Map<string, SelectPlan[]>();
    for (const p of planSelects(expr, start, end, lookbackDelta)) {
      const key = p.node.matchers
        .map((m) => m.toString())
        .sort()
        .join(',');
      let g = groups.get(key);
      if (!g) groups.set(key, (g = []));
      g.push(p);
    }
    const fetches: { mint: number; maxt: number; plans: SelectPlan[] }[] = [];
    for (const plans of groups.values()) {
      plans.sort((a, b) => a.mint - b.mint);
      let cur: { mint: number; maxt: number; plans: SelectPlan[] } | null = null;
      for (const p of plans) {
        if (cur && p.mint <= cur.maxt + 1) {
          cur.maxt = Math.max(cur.maxt, p.maxt);
          cur.plans.push(p);
        } else {
          cur = { mint: p.mint, maxt: p.maxt, plans: [p] };
          fetches.push(cur);
        }
      }
    }
    const data = new Map<VectorSelector, Selection>();
    await Promise.all(
      fetches.map(async (f) => {
        let series;
        try {
          series = await q.select(f.mint, f.maxt, f.plans[0]!.node.matchers);
        } catch (e) {
          if (e instanceof PromQLError) throw e;
          throw new PromQLError('internal', `expanding series: ${(e as Error).message ?? String(e)}`);
        }
        // Each selector sees only its own range, as if it had been selected alone.
        for (const p of f.plans) data.set(p.node, new Selection(series, p.mint, p.maxt));
      }),
    );
    return data;
  }
}

function sortMatrix(m: Matrix): Matrix {
  return m.sort((a, b) => compareLabels(a.metric, b.metric));
}

/** Rejects with `timeout` / `canceled` when the deadline passes or the signal aborts first. */
function withDeadline<T>(p: Promise<T>, deadline: number, signal: AbortSignal | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new PromQLError('timeout', 'query timed out in query execution')),
      Math.max(0, deadline - Date.now()),
    );
    const onAbort = (): void => reject(new PromQLError('canceled', 'query was canceled in query execution'));
    signal?.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    });
  });
}
