/**
 * The Bucket conformance suite, run against every backend (filesystem.test.ts, s3.test.ts). Not part
 * of the build (tsconfig excludes src/testing).
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Bucket } from '../bucket';
import { InvalidKeyError, ObjectNotFoundError, isNotFound } from '../errors';

export interface ConformanceOptions {
  /** A new, empty bucket for one test. */
  makeBucket(): Promise<Bucket>;
}

const ULID1 = '01HGW2N7EHBQ5Z7X3Y4M8PQRS1';
const ULID2 = '01HGW2N7EHBQ5Z7X3Y4M8PQRS2';
const ULID3 = '01HGW2N7EHBQ5Z7X3Y4M8PQRS3';

/** Deterministic-enough bytes that differ per call (random, so part boundaries are not all zeros). */
export function bytes(n: number): Buffer {
  return randomBytes(n);
}

/** `buf` as a stream of `chunk`-byte pieces (how a file read stream delivers it). */
export function chunkedStream(buf: Buffer, chunk = 64 * 1024): Readable {
  function* gen(): Generator<Buffer> {
    for (let off = 0; off < buf.length; off += chunk) yield buf.subarray(off, Math.min(buf.length, off + chunk));
  }
  return Readable.from(gen());
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

export function bucketConformance(opts: ConformanceOptions): void {
  let bucket: Bucket;
  beforeEach(async () => {
    bucket = await opts.makeBucket();
  });
  afterEach(async () => {
    await bucket.close?.();
  });

  it('uploads and gets small objects; an upload replaces the object', async () => {
    await bucket.upload('a/b/small.txt', Buffer.from('hello, world'));
    expect((await bucket.get('a/b/small.txt')).toString()).toBe('hello, world');

    await bucket.upload('a/b/small.txt', Buffer.from('replaced'));
    expect((await bucket.get('a/b/small.txt')).toString()).toBe('replaced');

    // A Uint8Array view into a larger buffer: only the view's bytes are stored.
    const backing = Buffer.from('xxABCDEFyy');
    await bucket.upload('view', new Uint8Array(backing.buffer, backing.byteOffset + 2, 6));
    expect((await bucket.get('view')).toString()).toBe('ABCDEF');

    await bucket.upload('empty', Buffer.alloc(0));
    expect((await bucket.get('empty')).length).toBe(0);
    expect(await bucket.exists('empty')).toBe(true);

    // A small stream (one PUT).
    await bucket.upload('stream-small', chunkedStream(Buffer.from('streamed bytes'), 4));
    expect((await bucket.get('stream-small')).toString()).toBe('streamed bytes');
  });

  it('uploads a large (12.5 MiB) streamed object and a large Buffer, byte for byte', async () => {
    const big = bytes(12 * 1024 * 1024 + 512 * 1024 + 7);
    await bucket.upload('tenant-1/big/stream', chunkedStream(big));
    const got = await bucket.get('tenant-1/big/stream');
    expect(got.length).toBe(big.length);
    expect(sha(got)).toBe(sha(big));
    expect((await bucket.attributes('tenant-1/big/stream')).size).toBe(big.length);

    const big2 = bytes(12 * 1024 * 1024 + 3);
    await bucket.upload('tenant-1/big/buffer', big2);
    expect(sha(await bucket.get('tenant-1/big/buffer'))).toBe(sha(big2));

    // Ranges across the 5 MiB part boundary.
    const off = 5 * 1024 * 1024 - 100;
    expect((await bucket.getRange('tenant-1/big/stream', off, 200)).equals(big.subarray(off, off + 200))).toBe(true);
  });

  it('gets byte ranges', async () => {
    const data = Buffer.from('0123456789abcdefghij');
    await bucket.upload('r/obj', data);
    expect((await bucket.getRange('r/obj', 0, 4)).toString()).toBe('0123');
    expect((await bucket.getRange('r/obj', 10, 6)).toString()).toBe('abcdef');
    // Past the end: what is there.
    expect((await bucket.getRange('r/obj', 15, 100)).toString()).toBe('fghij');
    expect((await bucket.getRange('r/obj', 19, 1)).toString()).toBe('j');
    // At or past the end, or zero length: empty.
    expect((await bucket.getRange('r/obj', 20, 5)).length).toBe(0);
    expect((await bucket.getRange('r/obj', 50, 5)).length).toBe(0);
    expect((await bucket.getRange('r/obj', 3, 0)).length).toBe(0);
    await expect(bucket.getRange('r/obj', -1, 2)).rejects.toThrow(RangeError);
    await expect(bucket.getRange('r/obj', 0, 1.5)).rejects.toThrow(RangeError);
  });

  it('reports existence and attributes', async () => {
    const before = Date.now();
    await bucket.upload('t/x/meta.json', Buffer.from('{"version":1}'));
    const after = Date.now();
    expect(await bucket.exists('t/x/meta.json')).toBe(true);
    expect(await bucket.exists('t/x/other.json')).toBe(false);
    // A "directory" is not an object.
    expect(await bucket.exists('t/x')).toBe(false);
    expect(await bucket.exists('t')).toBe(false);

    const attrs = await bucket.attributes('t/x/meta.json');
    expect(attrs.size).toBe(13);
    expect(attrs.lastModified).toBeInstanceOf(Date);
    // S3 Last-Modified has second precision.
    expect(attrs.lastModified.getTime()).toBeGreaterThanOrEqual(before - 2000);
    expect(attrs.lastModified.getTime()).toBeLessThanOrEqual(after + 2000);
  });

  it('deletes objects; deleting a missing object is not an error', async () => {
    await bucket.upload('tenant-1/d/one', Buffer.from('1'));
    await bucket.upload('tenant-1/d/two', Buffer.from('2'));
    await bucket.delete('tenant-1/d/one');
    expect(await bucket.exists('tenant-1/d/one')).toBe(false);
    expect(await bucket.exists('tenant-1/d/two')).toBe(true);
    await expect(bucket.get('tenant-1/d/one')).rejects.toBeInstanceOf(ObjectNotFoundError);

    await bucket.delete('tenant-1/d/one'); // again
    await bucket.delete('never/existed');
    await bucket.delete('tenant-1'); // a "directory": not an object, nothing happens
    expect(await bucket.exists('tenant-1/d/two')).toBe(true);

    // Once a "directory" holds no object it is not listed any more, as in S3.
    await bucket.delete('tenant-1/d/two');
    expect(await bucket.iter('')).toEqual([]);
    expect(await bucket.iter('tenant-1/')).toEqual([]);
  });

  describe('iter', () => {
    const layout = [
      `tenant-1/${ULID1}/meta.json`,
      `tenant-1/${ULID1}/index`,
      `tenant-1/${ULID1}/chunks/000001`,
      `tenant-1/${ULID1}/chunks/000002`,
      `tenant-1/${ULID2}/meta.json`,
      `tenant-1/bucket-index.json.gz`,
      `tenant-2/${ULID3}/meta.json`,
      `tenant-10/${ULID3}/meta.json`,
      'top-level.txt',
    ];
    beforeEach(async () => {
      await Promise.all(layout.map((k) => bucket.upload(k, Buffer.from(k))));
    });

    it('lists the names directly under a prefix, directories with a trailing /', async () => {
      expect(await bucket.iter('')).toEqual(['tenant-1/', 'tenant-10/', 'tenant-2/', 'top-level.txt']);
      expect(await bucket.iter('tenant-1/')).toEqual([
        `tenant-1/${ULID1}/`,
        `tenant-1/${ULID2}/`,
        'tenant-1/bucket-index.json.gz',
      ]);
      // A prefix is a directory: "tenant-1" is "tenant-1/", never "tenant-10/".
      expect(await bucket.iter('tenant-1')).toEqual(await bucket.iter('tenant-1/'));
      expect(await bucket.iter(`tenant-1/${ULID1}`)).toEqual([
        `tenant-1/${ULID1}/chunks/`,
        `tenant-1/${ULID1}/index`,
        `tenant-1/${ULID1}/meta.json`,
      ]);
      expect(await bucket.iter(`tenant-1/${ULID1}/chunks/`)).toEqual([
        `tenant-1/${ULID1}/chunks/000001`,
        `tenant-1/${ULID1}/chunks/000002`,
      ]);
      expect(await bucket.iter('tenant-3/')).toEqual([]);
      expect(await bucket.iter('top-level.txt')).toEqual([]);
    });

    it('lists every object below a prefix with recursive', async () => {
      expect(await bucket.iter('tenant-1', { recursive: true })).toEqual([
        `tenant-1/${ULID1}/chunks/000001`,
        `tenant-1/${ULID1}/chunks/000002`,
        `tenant-1/${ULID1}/index`,
        `tenant-1/${ULID1}/meta.json`,
        `tenant-1/${ULID2}/meta.json`,
        'tenant-1/bucket-index.json.gz',
      ]);
      expect(await bucket.iter('', { recursive: true })).toEqual([...layout].sort());
      expect(await bucket.iter('tenant-3', { recursive: true })).toEqual([]);
    });
  });

  it('throws ObjectNotFoundError for missing objects', async () => {
    await bucket.upload('present/x', Buffer.from('x'));
    for (const op of [
      () => bucket.get('missing/obj'),
      () => bucket.getRange('missing/obj', 0, 10),
      () => bucket.getRange('missing/obj', 0, 0),
      () => bucket.attributes('missing/obj'),
      () => bucket.get('present'), // a "directory"
      () => bucket.attributes('present'),
    ]) {
      const err = await op().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ObjectNotFoundError);
      expect(isNotFound(err)).toBe(true);
    }
    await expect(bucket.get('missing/obj')).rejects.toMatchObject({ key: 'missing/obj' });
    expect(await bucket.exists('missing/obj')).toBe(false);
  });

  it('rejects invalid keys and prefixes before any I/O', async () => {
    const bad = ['', '/abs', '/', 'a//b', 'a/../b', '..', '../up', 'a/./b', '.', 'dir/', 'nul\0byte', 'x/.strata-tmp-1'];
    for (const key of bad) {
      await expect(bucket.get(key)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(bucket.getRange(key, 0, 1)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(bucket.upload(key, Buffer.from('x'))).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(bucket.delete(key)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(bucket.exists(key)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(bucket.attributes(key)).rejects.toBeInstanceOf(InvalidKeyError);
    }
    for (const prefix of ['/', '/abs/', 'a//', '../', 'a/../', './']) {
      await expect(bucket.iter(prefix)).rejects.toBeInstanceOf(InvalidKeyError);
    }
    // Nothing was written.
    expect(await bucket.iter('', { recursive: true })).toEqual([]);
  });

  it('handles concurrent uploads: different keys all land, one key ends with one whole version', async () => {
    const versions = [bytes(50_000), bytes(50_000), bytes(50_000), bytes(50_000)];
    await Promise.all([
      ...versions.map((v) => bucket.upload('c/same', v)),
      ...versions.map((v, i) => bucket.upload(`c/k${i}`, v)),
    ]);
    const got = await bucket.get('c/same');
    expect(versions.some((v) => v.equals(got))).toBe(true);
    for (let i = 0; i < versions.length; i++) expect((await bucket.get(`c/k${i}`)).equals(versions[i]!)).toBe(true);
  });
}
