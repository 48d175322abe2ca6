import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { nopLogger } from '@strata/common';
import { InvalidKeyError, ObjectNotFoundError } from './errors';
import { DEFAULT_RETRY_OPTIONS, backoffDelay, isRetryableError, retrying, withRetries } from './retry';
import { MemoryBucket } from './testing/memory-bucket';

function httpError(statusCode: number, code = ''): Error {
  return Object.assign(new Error(`HTTP ${statusCode} ${code}`), { statusCode, code });
}
function netError(code: string, message = `connect ${code} 127.0.0.1:9`): Error {
  return Object.assign(new Error(message), { code });
}
const fast = { minBackoffMs: 1, maxBackoffMs: 2 };

describe('withRetries', () => {
  it('retries a 503 twice, then succeeds', async () => {
    const mem = new MemoryBucket();
    await mem.upload('k', Buffer.from('v'));
    mem.failNext('get', httpError(503, 'SlowDown'), httpError(503, 'SlowDown'));
    const b = withRetries(mem, fast);
    expect((await b.get('k')).toString()).toBe('v');
    expect(mem.calls['get']).toBe(3);
  });

  it('does not retry not-found, 4xx or invalid keys', async () => {
    const mem = new MemoryBucket();
    const b = withRetries(mem, fast);
    await expect(b.get('missing')).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(mem.calls['get']).toBe(1);

    for (const status of [400, 403, 404, 409]) {
      mem.calls['attributes'] = 0;
      mem.failNext('attributes', httpError(status));
      await expect(b.attributes('k')).rejects.toMatchObject({ statusCode: status });
      expect(mem.calls['attributes']).toBe(1);
    }

    mem.failNext('delete', new InvalidKeyError('..', 'nope'));
    await expect(b.delete('k')).rejects.toBeInstanceOf(InvalidKeyError);
    expect(mem.calls['delete']).toBe(1);
  });

  it('retries network errors on every operation', async () => {
    const mem = new MemoryBucket();
    await mem.upload('a/k', Buffer.from('0123456789'));
    const b = withRetries(mem, fast);
    const errs = () => [netError('ECONNREFUSED'), netError('ECONNRESET', 'socket hang up'), new Error('socket hang up')];
    const ops: Array<[string, () => Promise<unknown>, unknown]> = [
      ['get', () => b.get('a/k'), Buffer.from('0123456789')],
      ['get_range', () => b.getRange('a/k', 2, 3), Buffer.from('234')],
      ['exists', () => b.exists('a/k'), true],
      ['iter', () => b.iter(''), ['a/']],
      ['upload', () => b.upload('a/u', Buffer.from('u')), undefined],
      ['delete', () => b.delete('a/u'), undefined],
    ];
    for (const [op, call, want] of ops) {
      const before = mem.calls[op] ?? 0;
      mem.failNext(op, ...errs());
      expect(await call()).toEqual(want);
      expect(mem.calls[op]! - before).toBe(4);
    }
    mem.failNext('attributes', netError('ETIMEDOUT'));
    expect((await b.attributes('a/k')).size).toBe(10);
  });

  it('gives up after maxRetries with the last error', async () => {
    const mem = new MemoryBucket();
    mem.failNext('exists', ...Array.from({ length: 10 }, (_, i) => httpError(500, `InternalError${i}`)));
    const b = withRetries(mem, { ...fast, maxRetries: 3 });
    await expect(b.exists('k')).rejects.toMatchObject({ code: 'InternalError3' });
    expect(mem.calls['exists']).toBe(4);
  });

  it('retries Buffer uploads but gives stream uploads one attempt (a stream cannot be replayed)', async () => {
    const mem = new MemoryBucket();
    const b = withRetries(mem, fast);
    mem.failNext('upload', httpError(503));
    await b.upload('buf', Buffer.from('x'));
    expect(mem.calls['upload']).toBe(2);

    mem.failNext('upload', httpError(503));
    await expect(b.upload('stream', Readable.from([Buffer.from('x')]))).rejects.toMatchObject({ statusCode: 503 });
    expect(mem.calls['upload']).toBe(3);
  });

  it('re-opens file read streams for each upload attempt', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-retry-'));
    try {
      const file = path.join(dir, 'chunk');
      fs.writeFileSync(file, '0123456789');
      const mem = new MemoryBucket();
      // A failing attempt that consumed part of the body.
      let attempt = 0;
      const upload = mem.upload.bind(mem);
      mem.upload = async (key, body) => {
        if (++attempt === 1) {
          for await (const _ of body as AsyncIterable<Buffer>) break;
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        }
        return upload(key, body);
      };
      const b = withRetries(mem, fast);
      const first = fs.createReadStream(file);
      await b.upload('whole', first);
      expect(attempt).toBe(2);
      expect(first.destroyed).toBe(true);
      expect((await mem.get('whole')).toString()).toBe('0123456789');

      attempt = 0;
      await b.upload('range', fs.createReadStream(file, { start: 2, end: 5 }));
      expect(attempt).toBe(2);
      expect((await mem.get('range')).toString()).toBe('2345');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('logs each retry and passes close through', async () => {
    const mem = new MemoryBucket('logged');
    const warnings: Array<Record<string, unknown>> = [];
    const logger = nopLogger();
    logger.warn = ((obj: Record<string, unknown>) => {
      warnings.push(obj);
    }) as typeof logger.warn;
    mem.failNext('iter', httpError(502), httpError(504));
    await withRetries(mem, fast, logger).iter('t/');
    expect(warnings.map((w) => [w['operation'], w['key'], w['attempt'], w['bucket']])).toEqual([
      ['iter', 't/', 1, 'logged'],
      ['iter', 't/', 2, 'logged'],
    ]);
    expect(withRetries(mem).close).toBeUndefined();
    const closable = Object.assign(new MemoryBucket(), { close: jest.fn(async () => undefined) });
    await withRetries(closable).close!();
    expect(closable.close).toHaveBeenCalledTimes(1);
  });
});

describe('isRetryableError', () => {
  it.each([
    [httpError(500), true],
    [httpError(502), true],
    [httpError(503), true],
    [httpError(504), true],
    [httpError(429), true],
    [httpError(501), false],
    [httpError(400), false],
    [httpError(401), false],
    [httpError(403), false],
    [httpError(404), false],
    [Object.assign(new Error('x'), { status: 503 }), true],
    [Object.assign(new Error('x'), { code: 'SlowDown' }), true],
    [Object.assign(new Error('x'), { code: 'InternalError' }), true],
    [Object.assign(new Error('x'), { code: 'AccessDenied' }), false],
    [Object.assign(new Error('x'), { code: 'NoSuchBucket' }), false],
    [netError('ECONNREFUSED'), true],
    [netError('ECONNRESET'), true],
    [netError('ETIMEDOUT'), true],
    [netError('EPIPE'), true],
    [netError('EAI_AGAIN'), true],
    [new Error('socket hang up'), true],
    [new TypeError('fetch failed', { cause: netError('ECONNREFUSED') }), true],
    [new ObjectNotFoundError('k'), false],
    [new InvalidKeyError('..', 'x'), false],
    [new Error('something else'), false],
    ['a string', false],
    [undefined, false],
  ])('%p → %p', (err, want) => {
    expect(isRetryableError(err)).toBe(want);
  });
});

describe('backoff', () => {
  it('doubles from minBackoffMs up to maxBackoffMs, with jitter in [d/2, d]', () => {
    const o = { maxRetries: 10, minBackoffMs: 100, maxBackoffMs: 1000 };
    expect([0, 1, 2, 3, 4, 10].map((r) => backoffDelay(r, o, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([0, 1, 2, 3, 4].map((r) => backoffDelay(r, o, () => 0))).toEqual([50, 100, 200, 400, 500]);
    expect(DEFAULT_RETRY_OPTIONS).toEqual({ maxRetries: 10, minBackoffMs: 100, maxBackoffMs: 5000 });
  });

  it('waits between attempts', async () => {
    let n = 0;
    const start = Date.now();
    const res = await retrying(
      async () => {
        if (++n < 3) throw httpError(503);
        return 'ok';
      },
      { minBackoffMs: 40, maxBackoffMs: 40 },
    );
    expect(res).toBe('ok');
    expect(Date.now() - start).toBeGreaterThanOrEqual(40); // two waits of 20..40 ms
  });
});
