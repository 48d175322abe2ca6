/**
 * A small key-value store for cluster state (the hash ring, HA-tracker elections), as dskit's
 * kv.Client: values are opaque strings (JSON by convention), updates are compare-and-swap.
 */
export interface KVClient {
  /** The current value, or undefined. */
  get(key: string): Promise<string | undefined>;
  /**
   * Read-modify-write with compare-and-swap: `f` gets the current value (undefined if none) and
   * returns the new value, or `null` to leave the key unchanged. Retried on conflict until it
   * succeeds (or `f` returns null); resolves with the value written (or the current one).
   */
  cas(key: string, f: (current: string | undefined) => string | null): Promise<string | undefined>;
  delete(key: string): Promise<void>;
  /** Calls `cb` with the value now and on every change until the signal aborts. */
  watch(key: string, cb: (value: string | undefined) => void, signal: AbortSignal): void;
  /** Keys with this prefix. */
  list(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}
