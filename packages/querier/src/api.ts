/**
 * The Prometheus HTTP query API (`/api/v1/…`) over one tenant's Querier, compatible byte for byte
 * with Prometheus 2.42 (see docs formats.md §7). Mounted by `server` under `/prometheus`.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { errorMessageWithLimit, formatDuration, type Logger } from '@strata/common';
import { compareLabels, compareStrings, labelsKey, type Labels, type Matcher, type Querier } from '@strata/tsdb-core';
import type { QueryEngine, QueryOptions, QueryResult, SelectorParser } from './engine';
import { ApiError, invalidParamError, isApiErrorType, type ApiErrorType } from './errors';
import {
  BodyWriter,
  encodeJson,
  errorJson,
  jsonString,
  labelsJson,
  stringArrayJson,
  successJson,
  writeQueryData,
} from './format';
import {
  MAX_TIME,
  MIN_TIME,
  checkRangeParams,
  durationParam,
  formValue,
  fromMillis,
  labelNameParam,
  parseGoInt,
  parseUrlEncoded,
  requiredTimeParam,
  timeBefore,
  timeParam,
  toEngineMillis,
  toMillis,
  type FormValues,
} from './params';

/** `/api/v1/status/buildinfo` data; written in the object's key order. */
export interface BuildInfo {
  version: string;
  revision: string;
  branch: string;
  buildUser: string;
  buildDate: string;
  goVersion: string;
  [extra: string]: unknown;
}

/** One metadata entry of `/api/v1/metadata`. */
export interface MetricMetadata {
  type: string;
  help: string;
  unit: string;
}

/**
 * Metric metadata of a tenant by metric name. `metric` restricts it to one metric; `limit` (when
 * given, >= 0) is the maximum number of metrics; the API applies both again.
 */
export type MetadataProvider = (
  tenant: string,
  metric: string | undefined,
  limit: number | undefined,
) => Promise<Record<string, MetricMetadata[]>> | Record<string, MetricMetadata[]>;

export interface PrometheusApiDeps {
  engine: QueryEngine;
  parseSelector: SelectorParser;
  querierFor(tenant: string): Querier | Promise<Querier>;
  /** The tenant of a request; throws an error with `.status` (401 no org id, 400 invalid). */
  tenantFrom(req: Request): string;
  buildInfo: BuildInfo;
  metadataFor?: MetadataProvider;
  /**
   * Parses a PromQL expression and returns how many series selectors it holds (throws an error
   * with errorType 'bad_data' on a syntax error); used by /query_exemplars.
   */
  countSelectors?: (expr: string) => number;
  logger?: Logger;
  /** Current time in ms (default `Date.now`): the default `time` of /query. */
  now?: () => number;
  /** Per-tenant `max_query_length` in ms (0 = unlimited), enforced on range queries. */
  maxQueryLength?: (tenant: string) => number;
}

const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/** Mimir's text for a range query longer than the tenant's max_query_length. */
export function maxQueryLengthMessage(lengthMs: number, limitMs: number): string {
  return errorMessageWithLimit(
    'max-query-length',
    `the query time range exceeds the limit (query length: ${formatDuration(lengthMs)}, limit: ${formatDuration(limitMs)})`,
    'querier.max-query-length',
  );
}
/** Go's limit on a urlencoded body (`http: POST too large`). */
const MAX_FORM_BYTES = 10 << 20;
const NOT_FOUND_MESSAGE = '404 page not found';

interface Ctx {
  req: Request;
  res: Response;
  tenant: string;
  form: FormValues;
  /** The first error parsing the form (reported only by /series, like Prometheus' ParseForm). */
  formError: string | undefined;
}

/**
 * Answers the `data` JSON: a string, or a BodyWriter for large query results; null for "no data",
 * which Prometheus answers with 204 No Content.
 */
type Endpoint = (ctx: Ctx) => Promise<string | BodyWriter | null>;

const SUCCESS_PREFIX = Buffer.from('{"status":"success","data":');
const SUCCESS_SUFFIX = Buffer.from('}');

/**
 * Builds the router of `/api/v1/{query,query_range,series,labels,label/:name/values,metadata,
 * status/buildinfo}`. GET query parameters and POST urlencoded bodies are accepted everywhere
 * (body values first, as Go's FormValue); other methods get 405, other paths under `/api/v1` a
 * JSON 404. Mount it before any body parser (an already parsed `req.body` object is used as is).
 */
export function createPrometheusApiRouter(deps: PrometheusApiDeps): Router {
  const now = deps.now ?? Date.now;
  const log = deps.logger;
  const router = Router({ caseSensitive: true, strict: true });

  const send = (res: Response, status: number, body: string): void => {
    if (res.headersSent || res.destroyed) return;
    res.status(status);
    res.setHeader('Content-Type', 'application/json');
    res.end(body);
  };

  const sendSuccess = (res: Response, data: string | BodyWriter): void => {
    if (typeof data === 'string') {
      send(res, 200, successJson(data));
      return;
    }
    if (res.headersSent || res.destroyed) return;
    res.status(200);
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Content-Length', SUCCESS_PREFIX.length + data.length + SUCCESS_SUFFIX.length);
    res.cork();
    res.write(SUCCESS_PREFIX);
    for (const c of data.chunks) res.write(c);
    res.end(SUCCESS_SUFFIX);
    res.uncork();
  };

  const sendError = (req: Request, res: Response, err: ApiError): void => {
    if (err.status >= 500) log?.warn({ path: req.path, errorType: err.errorType, err: err.message }, 'query API request failed');
    send(res, err.status, errorJson(err.errorType, err.message));
  };

  const handle = (endpoint: Endpoint, needsTenant: boolean) => {
    return async (req: Request, res: Response): Promise<void> => {
      if (req.method === 'OPTIONS') {
        res.setHeader('Allow', 'GET, POST, OPTIONS');
        res.status(204).end();
        return;
      }
      if (req.method !== 'GET' && req.method !== 'POST') {
        res.setHeader('Allow', 'GET, POST, OPTIONS');
        send(res, 405, errorJson('bad_data', `method ${req.method} not allowed`));
        return;
      }
      try {
        let tenant = '';
        if (needsTenant) {
          try {
            tenant = await deps.tenantFrom(req);
          } catch (e) {
            throw tenantError(e);
          }
        }
        const { form, error } = await readForm(req);
        const data = await endpoint({ req, res, tenant, form, formError: error });
        if (data === null) res.status(204).end();
        else sendSuccess(res, data);
      } catch (e) {
        const err = toApiError(e, 'execution');
        if (!(e instanceof ApiError) && !hasErrorType(e)) {
          log?.error({ path: req.path, err: e }, 'unexpected error in query API');
        }
        sendError(req, res, err);
      }
    };
  };

  // --- /query and /query_range

  const runQuery = async (
    ctx: Ctx,
    timeoutNs: number | undefined,
    run: (opts: QueryOptions) => Promise<QueryResult>,
  ): Promise<QueryResult> => {
    if (timeoutNs !== undefined && timeoutNs <= 0) {
      throw new ApiError('timeout', 'query timed out in query queue');
    }
    const ac = new AbortController();
    const onClose = (): void => {
      if (!ctx.res.writableFinished) ac.abort(new ApiError('canceled', 'context canceled'));
    };
    ctx.res.once('close', onClose);
    let timer: NodeJS.Timeout | undefined;
    try {
      const p = run({ signal: ac.signal });
      const timeoutMs = timeoutNs === undefined ? Infinity : Math.max(1, Math.ceil(timeoutNs / 1e6));
      if (timeoutMs > 0x7fffffff) return await p;
      return await new Promise<QueryResult>((resolve, reject) => {
        timer = setTimeout(() => {
          const err = new ApiError('timeout', 'query timed out in expression evaluation');
          ac.abort(err);
          reject(err);
        }, timeoutMs);
        p.then(resolve, reject);
      });
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      ctx.res.off('close', onClose);
    }
  };

  const optionalTimeout = (form: FormValues): number | undefined =>
    formValue(form, 'timeout') === '' ? undefined : durationParam(form, 'timeout');

  const query: Endpoint = async (ctx) => {
    const { form } = ctx;
    const ts = timeParam(form, 'time', fromMillis(Math.floor(now())));
    const timeoutNs = optionalTimeout(form);
    const expr = formValue(form, 'query');
    const q = await querier(ctx.tenant);
    let result: QueryResult;
    try {
      result = await runQuery(ctx, timeoutNs, (opts) => deps.engine.instantQuery(q, expr, toEngineMillis(ts), opts));
    } catch (e) {
      const err = toApiError(e, 'execution');
      // Parse and validation errors name the parameter on /query (not on /query_range).
      if (err.errorType === 'bad_data' && !err.message.startsWith('invalid parameter ')) {
        throw invalidParamError('query', err.message);
      }
      throw err;
    }
    return queryDataBody(result);
  };

  const queryRange: Endpoint = async (ctx) => {
    const { form } = ctx;
    const start = requiredTimeParam(form, 'start');
    const end = requiredTimeParam(form, 'end');
    // Prometheus checks the order of start and end before it parses step.
    if (timeBefore(end, start)) throw invalidParamError('end', 'end timestamp must not be before start time');
    const stepNs = durationParam(form, 'step');
    const stepMs = checkRangeParams(start, end, stepNs);
    const maxLen = deps.maxQueryLength?.(ctx.tenant) ?? 0;
    const len = toEngineMillis(end) - toEngineMillis(start);
    if (maxLen > 0 && len > maxLen) throw new ApiError('bad_data', maxQueryLengthMessage(len, maxLen));
    const timeoutNs = optionalTimeout(form);
    const expr = formValue(form, 'query');
    const q = await querier(ctx.tenant);
    const result = await runQuery(ctx, timeoutNs, (opts) =>
      deps.engine.rangeQuery(q, expr, toEngineMillis(start), toEngineMillis(end), stepMs, opts),
    );
    return queryDataBody(asMatrix(result));
  };

  // --- metadata endpoints

  const querier = async (tenant: string): Promise<Querier> => {
    try {
      return await deps.querierFor(tenant);
    } catch (e) {
      throw toApiError(e, 'internal');
    }
  };

  /** Parses `match[]` values; each set needs a matcher that does not match the empty string. */
  const matcherSets = (values: readonly string[], param: string | undefined): Matcher[][] => {
    const sets: Matcher[][] = [];
    const fail = (msg: string): never => {
      throw param === undefined ? new ApiError('bad_data', msg) : invalidParamError(param, msg);
    };
    for (const v of values) {
      try {
        sets.push(deps.parseSelector(v));
      } catch (e) {
        fail(e instanceof Error ? e.message : String(e));
      }
    }
    for (const set of sets) {
      if (!set.some((m) => !m.matchesEmpty())) fail('match[] must contain at least one non-empty matcher');
    }
    return sets;
  };

  const storageError = (e: unknown): ApiError => toApiError(e, 'execution');

  const series: Endpoint = async (ctx) => {
    const { form } = ctx;
    if (ctx.formError !== undefined) {
      throw new ApiError('bad_data', `error parsing form values: ${ctx.formError}`);
    }
    const matches = form.get('match[]') ?? [];
    if (matches.length === 0) throw new ApiError('bad_data', 'no match[] parameter provided');
    const start = toMillis(timeParam(form, 'start', MIN_TIME));
    const end = toMillis(timeParam(form, 'end', MAX_TIME));
    const sets = matcherSets(matches, 'match[]');
    const q = await querier(ctx.tenant);
    const seen = new Map<string, Labels>();
    try {
      for (const set of sets) {
        for (const s of await q.select(start, end, set)) {
          const key = labelsKey(s.labels);
          if (!seen.has(key)) seen.set(key, s.labels);
        }
      }
    } catch (e) {
      throw storageError(e);
    }
    const all = [...seen.values()];
    if (sets.length > 1) all.sort(compareLabels);
    else if (!isSorted(all)) all.sort(compareLabels);
    let out = '[';
    for (let i = 0; i < all.length; i++) out += (i > 0 ? ',' : '') + labelsJson(all[i]!);
    return out + ']';
  };

  const labels: Endpoint = async (ctx) => {
    const { form } = ctx;
    const start = toMillis(timeParam(form, 'start', MIN_TIME));
    const end = toMillis(timeParam(form, 'end', MAX_TIME));
    const sets = matcherSets(form.get('match[]') ?? [], undefined);
    const q = await querier(ctx.tenant);
    const names = new Set<string>();
    try {
      for (const set of sets.length > 0 ? sets : [[]]) {
        for (const n of await q.labelNames(start, end, set)) names.add(n);
      }
    } catch (e) {
      throw storageError(e);
    }
    return stringArrayJson([...names].sort(compareStrings));
  };

  const labelValues: Endpoint = async (ctx) => {
    const { form } = ctx;
    const name = labelNameParam(String(ctx.req.params['name'] ?? ''));
    const start = toMillis(timeParam(form, 'start', MIN_TIME));
    const end = toMillis(timeParam(form, 'end', MAX_TIME));
    const sets = matcherSets(form.get('match[]') ?? [], undefined);
    const q = await querier(ctx.tenant);
    const values = new Set<string>();
    try {
      for (const set of sets.length > 0 ? sets : [[]]) {
        for (const v of await q.labelValues(name, start, end, set)) values.add(v);
      }
    } catch (e) {
      throw storageError(e);
    }
    return stringArrayJson([...values].sort(compareStrings));
  };

  const metadata: Endpoint = async (ctx) => {
    const { form } = ctx;
    /** An integer parameter, -1 when absent (Prometheus' strconv.Atoi and its error text). */
    const intParam = (name: string): number => {
      const v = formValue(form, name);
      if (v === '') return -1;
      const n = parseGoInt(v);
      if (n === undefined) throw new ApiError('bad_data', `${name} must be a number`);
      return n;
    };
    const limit = intParam('limit');
    // limit_per_metric (newer Prometheus, and Mimir): at most that many entries per metric (> 0).
    const limitPerMetric = intParam('limit_per_metric');
    const metric = formValue(form, 'metric');
    if (deps.metadataFor === undefined) return '{}';
    let md: Record<string, MetricMetadata[]>;
    try {
      md = await deps.metadataFor(ctx.tenant, metric === '' ? undefined : metric, limit >= 0 ? limit : undefined);
    } catch (e) {
      throw toApiError(e, 'internal');
    }
    let names = Object.keys(md).sort(compareStrings);
    if (metric !== '') names = names.filter((n) => n === metric);
    if (limit >= 0) names = names.slice(0, limit);
    let out = '{';
    names.forEach((n, i) => {
      let entries = md[n] ?? [];
      if (limitPerMetric > 0) entries = entries.slice(0, limitPerMetric);
      out += (i > 0 ? ',' : '') + jsonString(n) + ':[';
      entries.forEach((m, j) => {
        out += (j > 0 ? ',' : '') + '{"type":' + jsonString(m.type) + ',"help":' + jsonString(m.help) + ',"unit":' + jsonString(m.unit) + '}';
      });
      out += ']';
    });
    return out + '}';
  };

  // Strata stores no exemplars: answer as Prometheus does with exemplar storage off, after the
  // same parameter checks (an expression without selectors: 204 No Content).
  const queryExemplars: Endpoint = async (ctx) => {
    const { form } = ctx;
    const start = timeParam(form, 'start', MIN_TIME);
    const end = timeParam(form, 'end', MAX_TIME);
    if (timeBefore(end, start)) throw new ApiError('bad_data', 'end timestamp must not be before start timestamp');
    if (deps.countSelectors === undefined) return '[]';
    let n: number;
    try {
      n = deps.countSelectors(formValue(form, 'query'));
    } catch (e) {
      throw toApiError(e, 'bad_data');
    }
    return n === 0 ? null : '[]';
  };

  const buildInfoJson = encodeJson(deps.buildInfo);
  const buildInfo: Endpoint = async () => buildInfoJson;

  router.all('/api/v1/query', handle(query, true));
  router.all('/api/v1/query_range', handle(queryRange, true));
  router.all('/api/v1/series', handle(series, true));
  router.all('/api/v1/labels', handle(labels, true));
  router.all('/api/v1/label/:name/values', handle(labelValues, true));
  router.all('/api/v1/metadata', handle(metadata, true));
  router.all('/api/v1/query_exemplars', handle(queryExemplars, true));
  router.all('/api/v1/status/buildinfo', handle(buildInfo, false));
  router.use('/api/v1', (_req: Request, res: Response) => send(res, 404, errorJson('not_found', NOT_FOUND_MESSAGE)));
  // Errors raised by express itself (e.g. a bad %-escape in a path parameter).
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!req.path.startsWith('/api/v1/') || res.headersSent) {
      next(err);
      return;
    }
    const status = (err as { status?: unknown }).status;
    const s = typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
    sendError(req, res, new ApiError(s < 500 ? 'bad_data' : 'internal', err instanceof Error ? err.message : String(err), s));
  });
  return router;
}

function queryDataBody(r: QueryResult): BodyWriter {
  const w = new BodyWriter();
  writeQueryData(r, w);
  return w;
}

/** A range query always answers a matrix, sorted by labels. */
function asMatrix(r: QueryResult): QueryResult {
  switch (r.resultType) {
    case 'matrix':
      if (!isSorted(r.result.map((s) => s.metric))) {
        return { resultType: 'matrix', result: [...r.result].sort((a, b) => compareLabels(a.metric, b.metric)) };
      }
      return r;
    case 'string':
      throw new ApiError('bad_data', 'invalid expression type "string" for range query, must be Scalar or instant Vector');
    case 'scalar':
      return { resultType: 'matrix', result: [{ metric: [], ts: [r.result.t], vs: [r.result.v] }] };
    case 'vector':
      return {
        resultType: 'matrix',
        result: r.result
          .map((s) => ({ metric: s.metric, ts: [s.t], vs: [s.v] }))
          .sort((a, b) => compareLabels(a.metric, b.metric)),
      };
  }
}

function isSorted(ls: readonly Labels[]): boolean {
  for (let i = 1; i < ls.length; i++) if (compareLabels(ls[i - 1]!, ls[i]!) > 0) return false;
  return true;
}

function hasErrorType(e: unknown): boolean {
  return typeof e === 'object' && e !== null && isApiErrorType((e as { errorType?: unknown }).errorType);
}

/** Maps any thrown value to an ApiError: its own `errorType` if it has one, else `dflt`. */
export function toApiError(e: unknown, dflt: ApiErrorType): ApiError {
  if (e instanceof ApiError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (typeof e === 'object' && e !== null) {
    const t = (e as { errorType?: unknown }).errorType;
    if (isApiErrorType(t)) return new ApiError(t, message);
    if ((e as { name?: unknown }).name === 'AbortError') return new ApiError('canceled', message);
  }
  return new ApiError(dflt, message);
}

/** A tenant resolution error keeps its HTTP status (401 no org id, 400 invalid tenant). */
function tenantError(e: unknown): ApiError {
  const status = (e as { status?: unknown } | null)?.status;
  const s = typeof status === 'number' && status >= 400 && status < 600 ? status : 401;
  return new ApiError(s < 500 ? 'bad_data' : 'internal', e instanceof Error ? e.message : String(e), s);
}

/** Go's ParseForm: urlencoded POST/PUT/PATCH body values first, then the URL query. */
async function readForm(req: Request): Promise<{ form: FormValues; error: string | undefined }> {
  const form: FormValues = new Map();
  let error: string | undefined;
  if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') {
    const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (ct === FORM_CONTENT_TYPE) {
      const parsed: unknown = req.body;
      if (typeof parsed === 'object' && parsed !== null && !Buffer.isBuffer(parsed)) {
        addParsedBody(parsed as Record<string, unknown>, form);
      } else if (typeof parsed === 'string') {
        error = parseUrlEncoded(parsed, form);
      } else if (Buffer.isBuffer(parsed)) {
        error = parseUrlEncoded(parsed.toString('utf8'), form);
      } else if (!req.readableEnded) {
        const body = await readBody(req, MAX_FORM_BYTES);
        error = body === undefined ? 'http: POST too large' : parseUrlEncoded(body, form);
      }
    }
  }
  const url = req.url;
  const qi = url.indexOf('?');
  if (qi >= 0) {
    const e = parseUrlEncoded(url.slice(qi + 1), form);
    error ??= e;
  }
  return { form, error };
}

/** Values of a body another middleware already parsed (strings or string arrays). */
function addParsedBody(body: Record<string, unknown>, form: FormValues): void {
  for (const [k, v] of Object.entries(body)) {
    const vs = (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
    if (vs.length === 0) continue;
    const cur = form.get(k);
    if (cur === undefined) form.set(k, vs);
    else cur.push(...vs);
  }
}

/** Reads the body as UTF-8; undefined when it exceeds `limit` bytes (the rest is drained). */
function readBody(req: Request, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      if (tooLarge) return;
      size += c.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
