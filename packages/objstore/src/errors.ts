/** Thrown by `get`, `getRange` and `attributes` when the object does not exist. */
export class ObjectNotFoundError extends Error {
  readonly code = 'NotFound';

  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`object not found: ${key}`, options);
    this.name = 'ObjectNotFoundError';
  }
}

/** Thrown, before any I/O, for an object key, prefix, tenant ID or key part that is not allowed. */
export class InvalidKeyError extends Error {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`invalid object key ${JSON.stringify(key)}: ${reason}`);
    this.name = 'InvalidKeyError';
  }
}

/** True for the "object does not exist" error of every backend (and of the wrappers around them). */
export function isNotFound(e: unknown): boolean {
  return (
    e instanceof ObjectNotFoundError ||
    (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'ObjectNotFoundError')
  );
}
