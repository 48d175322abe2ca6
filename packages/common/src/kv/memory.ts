import type { KVClient } from './kv';

type Callback = (value: string | undefined) => void;

/**
 * An in-process KV store, for `-target=all` (every component shares one instance) and unit tests.
 * Operations complete synchronously under the hood, so `cas` never conflicts. Watchers are called
 * once per change, in a microtask queued right after the change, with the value that change wrote.
 */
export class MemoryKV implements KVClient {
  private readonly data = new Map<string, string>();
  private readonly watchers = new Map<string, Set<Callback>>();
  private closed = false;

  async get(key: string): Promise<string | undefined> {
    this.checkOpen();
    return this.data.get(key);
  }

  async cas(key: string, f: (current: string | undefined) => string | null): Promise<string | undefined> {
    this.checkOpen();
    const current = this.data.get(key);
    const next = f(current);
    if (next === null || next === current) return current;
    this.data.set(key, next);
    this.notify(key, next);
    return next;
  }

  async delete(key: string): Promise<void> {
    this.checkOpen();
    if (this.data.delete(key)) this.notify(key, undefined);
  }

  watch(key: string, cb: Callback, signal: AbortSignal): void {
    if (this.closed || signal.aborted) return;
    let set = this.watchers.get(key);
    if (set === undefined) {
      set = new Set();
      this.watchers.set(key, set);
    }
    // A distinct wrapper per watch() call, so the same callback can be registered twice.
    const entry: Callback = (v) => cb(v);
    set.add(entry);
    const initial = this.data.get(key);
    queueMicrotask(() => {
      if (!signal.aborted && set.has(entry)) entry(initial);
    });
    signal.addEventListener(
      'abort',
      () => {
        set.delete(entry);
        if (set.size === 0 && this.watchers.get(key) === set) this.watchers.delete(key);
      },
      { once: true },
    );
  }

  async list(prefix: string): Promise<string[]> {
    this.checkOpen();
    const out: string[] = [];
    for (const k of this.data.keys()) if (k.startsWith(prefix)) out.push(k);
    return out.sort();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watchers.clear();
  }

  private notify(key: string, value: string | undefined): void {
    const set = this.watchers.get(key);
    if (set === undefined) return;
    for (const cb of [...set]) {
      queueMicrotask(() => {
        if (set.has(cb)) cb(value);
      });
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('kv: client is closed');
  }
}
