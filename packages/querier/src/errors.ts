/**
 * Errors of the Prometheus HTTP query API. The messages are Prometheus' own texts (clients and the
 * compliance tester compare them), so they carry no `err-strata-<id>` suffix.
 */

export type ApiErrorType =
  | 'bad_data'
  | 'execution'
  | 'canceled'
  | 'timeout'
  | 'internal'
  | 'not_found'
  | 'not_acceptable'
  | 'unavailable';

const STATUS_BY_TYPE: Record<ApiErrorType, number> = {
  bad_data: 400,
  execution: 422,
  canceled: 499,
  timeout: 503,
  internal: 500,
  not_found: 404,
  not_acceptable: 406,
  unavailable: 500,
};

/** HTTP status of an error type, as Prometheus' `respondError` maps it (unknown types → 500). */
export function statusForErrorType(t: string): number {
  return (STATUS_BY_TYPE as Record<string, number | undefined>)[t] ?? 500;
}

export function isApiErrorType(t: unknown): t is ApiErrorType {
  return typeof t === 'string' && Object.prototype.hasOwnProperty.call(STATUS_BY_TYPE, t);
}

export class ApiError extends Error {
  constructor(
    readonly errorType: ApiErrorType,
    message: string,
    /** Overrides the status derived from `errorType` (tenant errors keep their own status). */
    readonly status: number = statusForErrorType(errorType),
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** `invalid parameter "<name>": <cause>`, Prometheus' `invalidParamError`. */
export function invalidParamError(param: string, cause: string): ApiError {
  return new ApiError('bad_data', `invalid parameter ${goQuote(param)}: ${cause}`);
}

const PRINTABLE_RE = /[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;

/**
 * Go's `strconv.Quote` (what `%q` prints): printable characters as they are, `\a\b\f\n\r\t\v`,
 * `\\`, `\"`, other control characters as `\xHH`, other non-printable ones as `\uHHHH`/`\UHHHHHHHH`.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (c) {
      case 0x07: out += '\\a'; continue;
      case 0x08: out += '\\b'; continue;
      case 0x0c: out += '\\f'; continue;
      case 0x0a: out += '\\n'; continue;
      case 0x0d: out += '\\r'; continue;
      case 0x09: out += '\\t'; continue;
      case 0x0b: out += '\\v'; continue;
      case 0x22: out += '\\"'; continue;
      case 0x5c: out += '\\\\'; continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      out += '\ufffd'; // a lone surrogate becomes U+FFFD when encoded to UTF-8, which Go prints as is
    } else if (PRINTABLE_RE.test(ch)) {
      out += ch;
    } else if (c < 0x20 || c === 0x7f) {
      out += '\\x' + c.toString(16).padStart(2, '0');
    } else if (c < 0x10000) {
      out += '\\u' + c.toString(16).padStart(4, '0');
    } else {
      out += '\\U' + c.toString(16).padStart(8, '0');
    }
  }
  return out + '"';
}
