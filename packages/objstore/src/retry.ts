import * as fs from 'node:fs';
import type { Logger } from '@strata/common';
import type { Bucket, IterOptions, ObjectAttributes, UploadBody } from './bucket';
import { InvalidKeyError, isNotFound } from './errors';
import { sleep } from './util';

export interface RetryOptions {
  /** Retries after the first attempt. Default 10. */
  maxRetries?: number;
  /** Backoff before the first retry; doubles per retry. Default 100 ms. */
  minBackoffMs?: number;
  /** Backoff cap. Default 5 s. */
  maxBackoffMs?: number;
}

export const DEFAULT_RETRY_OPTIONS: Readonly<Required<RetryOptions>> = {
  maxRetries: 10,
  minBackoffMs: 100,
  maxBackoffMs: 5000,
};

const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** S3 error codes that mean "try again" (as minio-go's retryableS3Codes, less credential expiry). */
const RETRYABLE_S3_CODES = new Set([
  'InternalError',
  'ServiceUnavailable',
  'SlowDown',
  'RequestTimeout',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'RequestLimitExceeded',
]);

const NETWORK_MESSAGE = /socket hang up|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|other side closed|network (error|timeout)/i;

function httpStatusOf(e: object): number | undefined {
  const o = e as { statusCode?: unknown; status?: unknown; $metadata?: { httpStatusCode?: unknown } };
  for (const v of [o.statusCode, o.status, o.$metadata?.httpStatusCode]) {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 100 && v < 600) return v;
  }
  return undefined;
}

/**
 * Whether an object store error is worth retrying: 5xx (but 501) and 429 responses, retryable S3
 * error codes (InternalError, SlowDown, …) and network errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT,
 * socket hang up, …). Not-found, invalid keys and every other 4xx are not.
 */
export function isRetryableError(e: unknown, depth = 0): boolean {
  if (typeof e !== 'object' || e === null || depth > 4) return false;
  if (isNotFound(e) || e instanceof InvalidKeyError) return false;
  const status = httpStatusOf(e);
  if (status !== undefined) return (status >= 500 && status !== 501) || status === 429;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_ERROR_CODES.has(code) || RETRYABLE_S3_CODES.has(code))) return true;
  const message = (e as { message?: unknown }).message;
  if (typeof message === 'string' && NETWORK_MESSAGE.test(message)) return true;
  const cause = (e as { cause?: unknown }).cause;
  return cause !== undefined && cause !== e && isRetryableError(cause, depth + 1);
}

/** The wait before retry number `retry` (0-based): exponential, capped, with jitter in [d/2, d]. */
export function backoffDelay(retry: number, opts: Required<RetryOptions>, random: () => number = Math.random): number {
  const d = Math.min(opts.maxBackoffMs, opts.minBackoffMs * 2 ** Math.min(retry, 30));
  return Math.round(d / 2 + random() * (d / 2));
}

/** Calls `fn` until it succeeds, fails with a non-retryable error, or retries run out. */
export async function retrying<T>(
  fn: () => Promise<T>,
  opts: RetryOptions = {},
  logger?: Logger,
  what: Record<string, unknown> = {},
): Promise<T> {
  const o: Required<RetryOptions> = { ...DEFAULT_RETRY_OPTIONS, ...definedOnly(opts) };
  for (let retry = 0; ; retry++) {
    try {
      return await fn();
    } catch (e) {
      if (retry >= o.maxRetries || !isRetryableError(e)) throw e;
      const delayMs = backoffDelay(retry, o);
      logger?.warn({ ...what, attempt: retry + 1, delayMs, err: e }, 'object store operation failed, retrying');
      await sleep(delayMs);
    }
  }
}

function definedOnly(opts: RetryOptions): RetryOptions {
  const out: RetryOptions = {};
  if (opts.maxRetries !== undefined) out.maxRetries = opts.maxRetries;
  if (opts.minBackoffMs !== undefined) out.minBackoffMs = opts.minBackoffMs;
  if (opts.maxBackoffMs !== undefined) out.maxBackoffMs = opts.maxBackoffMs;
  return out;
}

/**
 * For bodies that can be read again: a function giving the body for each attempt. Bytes are
 * reused; a file read stream (`fs.createReadStream(path)`) is re-opened at the same range after the
 * first attempt, and the previous stream is destroyed. Other streams cannot be replayed.
 */
function replayable(body: UploadBody): (() => UploadBody) | undefined {
  if (body instanceof Uint8Array) return () => body;
  if (body instanceof fs.ReadStream && (typeof body.path === 'string' || Buffer.isBuffer(body.path))) {
    const file = body.path;
    const { start, end } = body as unknown as { start?: number; end?: number };
    let current: fs.ReadStream | undefined;
    return () => {
      if (current === undefined) {
        current = body;
      } else {
        current.destroy();
        current = fs.createReadStream(file, { start, end });
      }
      return current;
    };
  }
  return undefined;
}

/**
 * `b` with every operation retried on transient errors (see isRetryableError) with exponential
 * backoff and jitter. Uploads are retried when the body can be read again: Buffer/Uint8Array, and
 * file read streams (`fs.createReadStream(path[, {start, end}])`, re-opened per attempt); any other
 * stream gets a single attempt.
 */
export function withRetries(b: Bucket, opts: RetryOptions = {}, logger?: Logger): Bucket {
  const run = <T>(operation: string, key: string, fn: () => Promise<T>): Promise<T> =>
    retrying(fn, opts, logger, { bucket: b.name, operation, key });
  const wrapped: Bucket = {
    name: b.name,
    get: (key: string) => run('get', key, () => b.get(key)),
    getRange: (key: string, offset: number, length: number) =>
      run('get_range', key, () => b.getRange(key, offset, length)),
    upload: (key: string, body: UploadBody) => {
      const next = replayable(body);
      return next === undefined ? b.upload(key, body) : run('upload', key, () => b.upload(key, next()));
    },
    delete: (key: string) => run('delete', key, () => b.delete(key)),
    exists: (key: string) => run('exists', key, () => b.exists(key)),
    attributes: (key: string): Promise<ObjectAttributes> => run('attributes', key, () => b.attributes(key)),
    iter: (prefix: string, iterOpts?: IterOptions) => run('iter', prefix, () => b.iter(prefix, iterOpts)),
  };
  if (b.close !== undefined) wrapped.close = () => b.close!();
  return wrapped;
}
