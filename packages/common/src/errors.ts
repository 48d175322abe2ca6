/**
 * Errors with a stable ID and an HTTP status. IDs are immutable: they appear in messages as
 * `(err-strata-<id>)` and, with `-` replaced by `_`, as the `reason` of discarded-sample metrics.
 */
export class StrataError extends Error {
  constructor(
    readonly id: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'StrataError';
  }
}

export function errorMessage(id: string, msg: string): string {
  return `${msg} (err-strata-${id})`;
}

export function errorMessageWithLimit(id: string, msg: string, flag: string): string {
  return `${msg} (err-strata-${id}). To adjust the related per-tenant limit, configure -${flag}, or contact your service administrator.`;
}

export function errorMessageWithLimits(id: string, msg: string, flags: readonly string[]): string {
  return `${msg} (err-strata-${id}). To adjust the related per-tenant limits, configure ${flags
    .map((f) => '-' + f)
    .join(' and ')}, or contact your service administrator.`;
}

/** The `reason` label value of an error ID. */
export function reasonOf(id: string): string {
  return id.replace(/-/g, '_');
}

export function isStrataError(e: unknown): e is StrataError {
  return e instanceof StrataError;
}
