import type { Bucket, IterOptions, ObjectAttributes, UploadBody } from '../bucket';
import { ObjectNotFoundError } from '../errors';
import { normalizePrefix, validateKey } from '../keys';
import { readAll } from '../util';

/**
 * An in-memory bucket for unit tests of wrappers. `failNext(op, ...errors)` makes the next calls of
 * an operation throw the given errors, in order; `calls` counts calls per operation.
 */
export class MemoryBucket implements Bucket {
  readonly objects = new Map<string, { data: Buffer; lastModified: Date }>();
  readonly calls: Record<string, number> = {};
  private readonly failures = new Map<string, unknown[]>();

  constructor(readonly name = 'memory') {}

  failNext(op: string, ...errors: unknown[]): void {
    this.failures.set(op, [...(this.failures.get(op) ?? []), ...errors]);
  }

  private enter(op: string): void {
    this.calls[op] = (this.calls[op] ?? 0) + 1;
    const queue = this.failures.get(op);
    if (queue !== undefined && queue.length > 0) throw queue.shift();
  }

  private obj(key: string): { data: Buffer; lastModified: Date } {
    const o = this.objects.get(key);
    if (o === undefined) throw new ObjectNotFoundError(key);
    return o;
  }

  async get(key: string): Promise<Buffer> {
    this.enter('get');
    validateKey(key);
    return Buffer.from(this.obj(key).data);
  }

  async getRange(key: string, offset: number, length: number): Promise<Buffer> {
    this.enter('get_range');
    validateKey(key);
    return Buffer.from(this.obj(key).data.subarray(offset, offset + length));
  }

  async upload(key: string, body: UploadBody): Promise<void> {
    this.enter('upload');
    validateKey(key);
    const data = body instanceof Uint8Array ? Buffer.from(body) : await readAll(body);
    this.objects.set(key, { data, lastModified: new Date() });
  }

  async delete(key: string): Promise<void> {
    this.enter('delete');
    validateKey(key);
    this.objects.delete(key);
  }

  async exists(key: string): Promise<boolean> {
    this.enter('exists');
    validateKey(key);
    return this.objects.has(key);
  }

  async attributes(key: string): Promise<ObjectAttributes> {
    this.enter('attributes');
    validateKey(key);
    const o = this.obj(key);
    return { size: o.data.length, lastModified: o.lastModified };
  }

  async iter(prefix: string, opts: IterOptions = {}): Promise<string[]> {
    this.enter('iter');
    const dir = normalizePrefix(prefix);
    const out = new Set<string>();
    for (const k of this.objects.keys()) {
      if (!k.startsWith(dir)) continue;
      const i = k.indexOf('/', dir.length);
      out.add(opts.recursive === true || i < 0 ? k : k.slice(0, i + 1));
    }
    return [...out].sort();
  }
}
