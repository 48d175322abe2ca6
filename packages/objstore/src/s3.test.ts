import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRegistry, nopLogger } from '@strata/common';
import { startS3Server, type S3Server } from '../../../tests/helpers/s3-server';
import { ObjectNotFoundError } from './errors';
import { createBucket } from './factory';
import { withRetries } from './retry';
import { S3Bucket, parseEndpoint, type S3Config } from './s3';
import { bucketConformance, bytes, chunkedStream } from './testing/conformance';

const MiB = 1024 * 1024;

let server: S3Server;
const open: S3Bucket[] = [];
let seq = 0;

function s3Config(bucketName: string, endpoint = server.endpoint): S3Config {
  return {
    endpoint,
    bucketName,
    accessKeyId: server?.accessKey ?? 'S3RVER',
    secretAccessKey: server?.secretKey ?? 'S3RVER',
    insecure: true,
    region: 'us-east-1',
  };
}

function s3Bucket(bucketName: string, endpoint?: string): S3Bucket {
  const b = new S3Bucket(s3Config(bucketName, endpoint), { partSize: 5 * MiB, requestTimeoutMs: 10_000 });
  open.push(b);
  return b;
}

beforeAll(async () => {
  server = await startS3Server();
});

afterAll(async () => {
  await Promise.all(open.map((b) => b.close()));
  await server?.stop();
});

describe('S3Bucket conformance (s3rver over HTTP)', () => {
  bucketConformance({
    makeBucket: async () => {
      const b = s3Bucket(`conformance-${++seq}`);
      await b.ensureBucket();
      return b;
    },
  });
});

describe('S3Bucket', () => {
  it('uploads large streams and Buffers as multipart uploads of partSize parts', async () => {
    const b = s3Bucket(server.bucket);
    const initiate = jest.spyOn(b.client, 'initiateNewMultipartUpload');
    const complete = jest.spyOn(b.client, 'completeMultipartUpload');
    const big = bytes(12 * MiB + 12345);

    await b.upload('mp/stream', chunkedStream(big));
    expect(initiate).toHaveBeenCalledTimes(1);
    expect(complete.mock.calls[0]![3]).toHaveLength(3); // 5 + 5 + 2 MiB
    expect((await b.get('mp/stream')).equals(big)).toBe(true);

    await b.upload('mp/buffer', big);
    expect(initiate).toHaveBeenCalledTimes(2);
    expect(complete.mock.calls[1]![3]).toHaveLength(3);
    expect((await b.get('mp/buffer')).equals(big)).toBe(true);

    // One part or less: a single PUT.
    await b.upload('mp/small-stream', chunkedStream(bytes(MiB)));
    await b.upload('mp/small-buffer', bytes(5 * MiB));
    expect(initiate).toHaveBeenCalledTimes(2);
  });

  it('survives a server restart on the same port and directory', async () => {
    const b = s3Bucket(server.bucket);
    await b.upload('restart/kept', Buffer.from('still here'));
    await server.restart();
    expect((await withRetries(b, { minBackoffMs: 10, maxBackoffMs: 50 }).get('restart/kept')).toString()).toBe('still here');
  });

  it('recovers with withRetries when the server is down mid-operation and comes back', async () => {
    const raw = s3Bucket(server.bucket);
    const warnings: unknown[] = [];
    const logger = nopLogger();
    logger.warn = ((obj: unknown) => {
      warnings.push(obj);
    }) as typeof logger.warn;
    const b = withRetries(raw, { maxRetries: 100, minBackoffMs: 20, maxBackoffMs: 100 }, logger);
    await b.upload('outage/existing', Buffer.from('before the outage'));

    // A multipart upload in flight when the server goes away.
    const big = bytes(12 * MiB);
    const inFlight = b.upload('outage/big', big);
    await server.kill();

    // Without retries: a network error.
    await expect(raw.get('outage/existing')).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    const pending = Promise.all([
      b.get('outage/existing'),
      b.upload('outage/new', Buffer.from('written during the outage')),
      b.iter('outage/'),
      b.exists('outage/existing'),
    ]);
    await new Promise((r) => setTimeout(r, 300));
    expect(warnings.length).toBeGreaterThan(0);
    await server.start();

    const [got, , listed, exists] = await pending;
    expect(got.toString()).toBe('before the outage');
    expect(exists).toBe(true);
    expect(listed).toContain('outage/existing');
    await inFlight;
    expect((await b.get('outage/big')).equals(big)).toBe(true);
    expect((await b.get('outage/new')).toString()).toBe('written during the outage');
  });

  it('createBucket creates a missing S3 bucket and wraps it with retries and metrics', async () => {
    const registry = createRegistry(false);
    const cfg = {
      backend: 's3' as const,
      filesystemDir: '',
      s3: s3Config('made-by-create-bucket'),
    };
    const b = await createBucket(cfg, { registry, logger: nopLogger(), component: 'compactor' });
    try {
      await b.upload('tenant-1/x', Buffer.from('x'));
      expect(await b.iter('')).toEqual(['tenant-1/']);
      const check = s3Bucket('made-by-create-bucket');
      expect(await check.exists('tenant-1/x')).toBe(true);
      const ops = await registry.getSingleMetric('thanos_objstore_bucket_operations_total')!.get();
      expect(ops.values).toContainEqual({
        labels: { bucket: 'made-by-create-bucket', component: 'compactor', operation: 'upload' },
        value: 1,
      });
    } finally {
      await b.close?.();
    }
    // A second time, on the existing bucket.
    const again = await createBucket(cfg, { registry, logger: nopLogger(), component: 'querier' });
    expect((await again.get('tenant-1/x')).toString()).toBe('x');
    await again.close?.();
  });

  describe('errors from the server', () => {
    let fake: http.Server;
    let fakeEndpoint: string;
    const script: Array<{ status: number; body: string; type?: string }> = [];
    let requests = 0;

    beforeAll(async () => {
      fake = http.createServer((req, res) => {
        requests++;
        req.resume();
        const next = script.shift() ?? { status: 200, body: 'hello' };
        res.writeHead(next.status, {
          'content-type': next.type ?? 'application/xml',
          'last-modified': new Date().toUTCString(),
          etag: '"abc"',
        });
        res.end(next.body);
      });
      await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
      fakeEndpoint = `127.0.0.1:${(fake.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      fake.closeAllConnections();
      await new Promise((r) => fake.close(r));
    });
    beforeEach(() => {
      script.length = 0;
      requests = 0;
    });

    const xmlError = (code: string): string =>
      `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code} happened</Message></Error>`;

    it('carry the HTTP status, so 5xx are retried and 4xx are not', async () => {
      const b = withRetries(s3Bucket('fake', fakeEndpoint), { minBackoffMs: 1, maxBackoffMs: 5 });

      script.push({ status: 500, body: xmlError('InternalError') }, { status: 503, body: '<html>busy</html>', type: 'text/html' });
      expect((await b.get('k')).toString()).toBe('hello');
      expect(requests).toBe(3);

      requests = 0;
      script.push({ status: 403, body: xmlError('AccessDenied') });
      await expect(b.get('k')).rejects.toMatchObject({ code: 'AccessDenied', statusCode: 403 });
      expect(requests).toBe(1);

      requests = 0;
      script.push({ status: 404, body: xmlError('NoSuchKey') });
      await expect(b.get('k')).rejects.toBeInstanceOf(ObjectNotFoundError);
      expect(requests).toBe(1);

      // HEAD answers have no body: the status alone decides.
      requests = 0;
      script.push({ status: 502, body: '' }, { status: 404, body: '' });
      expect(await b.exists('k')).toBe(false);
      expect(requests).toBe(2);
    });
  });
});

describe('parseEndpoint', () => {
  it('splits host and port', () => {
    expect(parseEndpoint('127.0.0.1:9000', true)).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseEndpoint('s3.amazonaws.com', false)).toEqual({ host: 's3.amazonaws.com', port: 443 });
    expect(parseEndpoint('minio', true)).toEqual({ host: 'minio', port: 80 });
    expect(parseEndpoint('http://minio:9000/', true)).toEqual({ host: 'minio', port: 9000 });
    expect(parseEndpoint('[::1]:9000', true)).toEqual({ host: '::1', port: 9000 });
    expect(() => parseEndpoint('host:abc', true)).toThrow(/bad port/);
    expect(() => parseEndpoint(':9000', true)).toThrow(/no host/);
  });
});
