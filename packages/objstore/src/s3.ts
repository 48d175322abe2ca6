import { AsyncLocalStorage } from 'node:async_hooks';
import * as http from 'node:http';
import * as https from 'node:https';
import { Readable } from 'node:stream';
import { Client, type BucketItem, type ClientOptions } from 'minio';
import type { Bucket, IterOptions, ObjectAttributes, UploadBody } from './bucket';
import { ObjectNotFoundError } from './errors';
import { normalizePrefix, validateKey } from './keys';
import { bytesToBuffer, checkRange, readAll, toBuffer } from './util';

export interface S3Config {
  /** host:port (no scheme), as Mimir's `-blocks-storage.s3.endpoint`. */
  endpoint: string;
  bucketName: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Plain HTTP instead of HTTPS. */
  insecure: boolean;
  /** "" lets the client look the region up. */
  region: string;
}

export interface S3BucketOptions {
  /** Multipart part size in bytes (≥ 5 MiB); uploads larger than this are multipart. Default 64 MiB. */
  partSize?: number;
  /** A request fails with ETIMEDOUT after this long without socket activity. Default 60 s. */
  requestTimeoutMs?: number;
}

export const DEFAULT_PART_SIZE = 64 * 1024 * 1024;
const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** Upload streams are cut into chunks of at most this size before they reach minio's part splitter. */
const CHUNK = 1024 * 1024;

/** The HTTP status of the last response of the current operation, so errors can carry it. */
interface RequestContext {
  status?: number;
}
const requestContext = new AsyncLocalStorage<RequestContext>();

/** Splits `host:port`, `[v6]:port`, `host` (port from the scheme). A leading scheme is tolerated. */
export function parseEndpoint(endpoint: string, insecure: boolean): { host: string; port: number } {
  let e = endpoint.trim().replace(/^[a-z]+:\/\//i, '');
  e = e.replace(/\/+$/, '');
  const defaultPort = insecure ? 80 : 443;
  let host = e;
  let portText: string | undefined;
  if (e.startsWith('[')) {
    const end = e.indexOf(']');
    if (end < 0) throw new Error(`invalid S3 endpoint ${JSON.stringify(endpoint)}`);
    host = e.slice(1, end);
    const rest = e.slice(end + 1);
    if (rest.startsWith(':')) portText = rest.slice(1);
    else if (rest !== '') throw new Error(`invalid S3 endpoint ${JSON.stringify(endpoint)}`);
  } else {
    const i = e.lastIndexOf(':');
    if (i >= 0 && e.indexOf(':') === i) {
      host = e.slice(0, i);
      portText = e.slice(i + 1);
    }
  }
  if (host === '') throw new Error(`invalid S3 endpoint ${JSON.stringify(endpoint)}: no host`);
  if (portText === undefined) return { host, port: defaultPort };
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new Error(`invalid S3 endpoint ${JSON.stringify(endpoint)}: bad port`);
  }
  return { host, port };
}

function codeOf(e: unknown): unknown {
  return typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
}

function* slices(buf: Buffer): Generator<Buffer> {
  for (let off = 0; off < buf.length; off += CHUNK) yield buf.subarray(off, Math.min(buf.length, off + CHUNK));
}

async function* rechunk(head: Buffer[], rest: AsyncIterator<unknown>): AsyncGenerator<Buffer> {
  for (const b of head) yield* slices(b);
  for (;;) {
    const r = await rest.next();
    if (r.done === true) return;
    yield* slices(toBuffer(r.value));
  }
}

/**
 * A bucket in an S3-compatible store through the `minio` client (path-style requests, HTTPS unless
 * `insecure`). minio's own retries are off: wrap with `withRetries`. Errors keep minio's shape, with
 * the HTTP status added as `statusCode`; a missing object is ObjectNotFoundError.
 */
export class S3Bucket implements Bucket {
  readonly name: string;
  /** The underlying client, for operations the Bucket interface does not have. */
  readonly client: Client;
  readonly partSize: number;
  private readonly agent: http.Agent;

  constructor(cfg: S3Config, opts: S3BucketOptions = {}) {
    if (cfg.bucketName === '') throw new Error('S3 bucket: empty bucket name');
    const { host, port } = parseEndpoint(cfg.endpoint, cfg.insecure);
    this.name = cfg.bucketName;
    this.partSize = opts.partSize ?? DEFAULT_PART_SIZE;
    const timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const base = cfg.insecure ? http : https;
    this.agent = cfg.insecure
      ? new http.Agent({ keepAlive: true, maxSockets: 64 })
      : new https.Agent({ keepAlive: true, maxSockets: 64 });
    const transport = {
      request(options: http.RequestOptions, callback?: (res: http.IncomingMessage) => void): http.ClientRequest {
        const ctx = requestContext.getStore();
        if (ctx !== undefined) ctx.status = undefined;
        const req = base.request(options, (res) => {
          if (ctx !== undefined) ctx.status = res.statusCode;
          callback?.(res);
        });
        req.setTimeout(timeoutMs, () => {
          const err = new Error(`S3 request timed out: no activity for ${timeoutMs} ms`) as NodeJS.ErrnoException;
          err.code = 'ETIMEDOUT';
          req.destroy(err);
        });
        return req;
      },
    };
    const clientOpts: ClientOptions = {
      endPoint: host,
      port,
      useSSL: !cfg.insecure,
      accessKey: cfg.accessKeyId,
      secretKey: cfg.secretAccessKey,
      pathStyle: true,
      partSize: this.partSize,
      transport: transport as unknown as ClientOptions['transport'],
      transportAgent: this.agent,
      retryOptions: { disableRetry: true },
    };
    if (cfg.region !== '') clientOpts.region = cfg.region;
    this.client = new Client(clientOpts);
  }

  /** Runs one minio call, translating not-found errors and adding the HTTP status to others. */
  private async call<T>(key: string | undefined, fn: () => Promise<T>): Promise<T> {
    const ctx: RequestContext = {};
    try {
      return await requestContext.run(ctx, fn);
    } catch (e) {
      const code = codeOf(e);
      if (key !== undefined && (code === 'NoSuchKey' || code === 'NotFound')) {
        throw new ObjectNotFoundError(key, { cause: e });
      }
      if (typeof e === 'object' && e !== null && ctx.status !== undefined && ctx.status >= 300) {
        const err = e as { statusCode?: unknown };
        if (err.statusCode === undefined) err.statusCode = ctx.status;
      }
      throw e;
    }
  }

  async get(key: string): Promise<Buffer> {
    validateKey(key);
    return this.call(key, async () => readAll(await this.client.getObject(this.name, key)));
  }

  async getRange(key: string, offset: number, length: number): Promise<Buffer> {
    validateKey(key);
    checkRange(offset, length);
    if (length === 0) {
      await this.attributes(key); // minio reads "length 0" as "to the end"
      return Buffer.alloc(0);
    }
    return this.call(key, async () => {
      try {
        return await readAll(await this.client.getPartialObject(this.name, key, offset, length));
      } catch (e) {
        if (codeOf(e) === 'InvalidRange') return Buffer.alloc(0); // offset at or past the end
        throw e;
      }
    });
  }

  async upload(key: string, body: UploadBody): Promise<void> {
    validateKey(key);
    if (body instanceof Uint8Array) {
      const buf = bytesToBuffer(body);
      await this.call(key, () =>
        buf.length <= this.partSize
          ? this.client.putObject(this.name, key, buf, buf.length)
          : this.client.putObject(this.name, key, Readable.from(slices(buf)), buf.length),
      );
      return;
    }
    try {
      await this.uploadStream(key, body);
    } catch (e) {
      // Release the source (an open file, say): a failed upload never reads it again.
      const destroy = (body as { destroy?: unknown }).destroy;
      if (typeof destroy === 'function') destroy.call(body);
      throw e;
    }
  }

  /** A stream of unknown length: read up to one part; if it ends there, one PUT, else multipart. */
  private async uploadStream(key: string, body: NodeJS.ReadableStream): Promise<void> {
    const it = (body as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let size = 0;
    for (;;) {
      const r = await it.next();
      if (r.done === true) {
        const buf = head.length === 1 ? head[0]! : Buffer.concat(head, size);
        await this.call(key, () => this.client.putObject(this.name, key, buf, buf.length));
        return;
      }
      const chunk = toBuffer(r.value);
      head.push(chunk);
      size += chunk.length;
      if (size > this.partSize) break;
    }
    await this.call(key, () => this.client.putObject(this.name, key, Readable.from(rechunk(head, it))));
  }

  async delete(key: string): Promise<void> {
    validateKey(key);
    try {
      await this.call(key, () => this.client.removeObject(this.name, key));
    } catch (e) {
      if (e instanceof ObjectNotFoundError) return;
      throw e;
    }
  }

  async exists(key: string): Promise<boolean> {
    validateKey(key);
    try {
      await this.call(key, () => this.client.statObject(this.name, key));
      return true;
    } catch (e) {
      if (e instanceof ObjectNotFoundError) return false;
      throw e;
    }
  }

  async attributes(key: string): Promise<ObjectAttributes> {
    validateKey(key);
    const st = await this.call(key, () => this.client.statObject(this.name, key));
    return { size: st.size, lastModified: st.lastModified };
  }

  async iter(prefix: string, opts: IterOptions = {}): Promise<string[]> {
    const dir = normalizePrefix(prefix);
    const recursive = opts.recursive === true;
    const names = await this.call(
      undefined,
      () =>
        new Promise<Set<string>>((resolve, reject) => {
          const out = new Set<string>();
          const stream = this.client.listObjectsV2(this.name, dir, recursive);
          stream.on('data', (item: BucketItem) => {
            const n = item.name ?? item.prefix;
            if (n !== undefined && n !== dir) out.add(n);
          });
          stream.on('error', reject);
          stream.on('end', () => resolve(out));
        }),
    );
    return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Creates the bucket unless it exists. */
  async ensureBucket(): Promise<void> {
    if (await this.call(undefined, () => this.client.bucketExists(this.name))) return;
    try {
      await this.call(undefined, () => this.client.makeBucket(this.name));
    } catch (e) {
      if (codeOf(e) === 'BucketAlreadyOwnedByYou') return;
      throw e;
    }
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}
