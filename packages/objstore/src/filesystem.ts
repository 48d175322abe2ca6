import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Bucket, IterOptions, ObjectAttributes, UploadBody } from './bucket';
import { ObjectNotFoundError } from './errors';
import { TEMP_FILE_PREFIX, normalizePrefix, validateKey } from './keys';
import { checkRange, toBuffer } from './util';

const NOT_FOUND_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

function errCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null ? ((e as NodeJS.ErrnoException).code ?? undefined) : undefined;
}

function isMissing(e: unknown): boolean {
  const code = errCode(e);
  return code !== undefined && NOT_FOUND_CODES.has(code);
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A bucket in a local directory, for single-process mode and tests (Thanos' `filesystem` provider).
 * Uploads write a temporary file in the target directory, fsync it, rename it over the target and
 * fsync the directory, so readers see the old or the new object and a crash leaves no partial
 * object. `iter` behaves like an S3 listing: directories without objects are not listed, and deletes
 * remove directories they leave empty.
 *
 * Unlike S3, a key cannot be both an object and a "directory" (`a` and `a/b`): the second upload fails.
 */
export class FilesystemBucket implements Bucket {
  readonly name: string;
  readonly rootDir: string;

  constructor(rootDir: string) {
    if (rootDir === '') throw new Error('filesystem bucket: empty root directory');
    this.rootDir = path.resolve(rootDir);
    fs.mkdirSync(this.rootDir, { recursive: true });
    this.name = `fs: ${this.rootDir}`;
  }

  private pathOf(key: string): string {
    validateKey(key);
    return path.join(this.rootDir, ...key.split('/'));
  }

  async get(key: string): Promise<Buffer> {
    const file = this.pathOf(key);
    try {
      return await fsp.readFile(file);
    } catch (e) {
      if (isMissing(e)) throw new ObjectNotFoundError(key, { cause: e });
      throw e;
    }
  }

  async getRange(key: string, offset: number, length: number): Promise<Buffer> {
    const file = this.pathOf(key);
    checkRange(offset, length);
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(file, 'r');
    } catch (e) {
      if (isMissing(e)) throw new ObjectNotFoundError(key, { cause: e });
      throw e;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new ObjectNotFoundError(key);
      const n = Math.max(0, Math.min(length, st.size - offset));
      const buf = Buffer.allocUnsafe(n);
      let got = 0;
      while (got < n) {
        const { bytesRead } = await fh.read(buf, got, n - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === n ? buf : buf.subarray(0, got);
    } catch (e) {
      if (isMissing(e)) throw new ObjectNotFoundError(key, { cause: e });
      throw e;
    } finally {
      await fh.close();
    }
  }

  async upload(key: string, body: UploadBody): Promise<void> {
    const file = this.pathOf(key);
    const dir = path.dirname(file);
    const tmp = path.join(dir, TEMP_FILE_PREFIX + randomBytes(8).toString('hex'));
    let fh: fsp.FileHandle | undefined = await createInDir(dir, tmp);
    try {
      if (body instanceof Uint8Array) {
        await fh.writeFile(body);
      } else {
        for await (const chunk of body as AsyncIterable<unknown>) {
          const buf = toBuffer(chunk);
          let off = 0;
          while (off < buf.length) {
            const { bytesWritten } = await fh.write(buf, off, buf.length - off);
            off += bytesWritten;
          }
        }
      }
      await fh.sync();
      await fh.close();
      fh = undefined;
      await fsp.rename(tmp, file);
    } catch (e) {
      if (fh !== undefined) await fh.close().catch(() => undefined);
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
      await this.removeEmptyDirs(dir);
      throw e;
    }
    await syncDir(dir);
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    try {
      await fsp.unlink(file);
    } catch (e) {
      const code = errCode(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      // unlink on a directory: EISDIR on Linux, EPERM on macOS; a directory is not an object.
      if ((code === 'EISDIR' || code === 'EPERM') && (await isDirectory(file))) return;
      throw e;
    }
    await this.removeEmptyDirs(path.dirname(file));
  }

  async exists(key: string): Promise<boolean> {
    const file = this.pathOf(key);
    try {
      return (await fsp.stat(file)).isFile();
    } catch (e) {
      if (isMissing(e)) return false;
      throw e;
    }
  }

  async attributes(key: string): Promise<ObjectAttributes> {
    const file = this.pathOf(key);
    let st: fs.Stats;
    try {
      st = await fsp.stat(file);
    } catch (e) {
      if (isMissing(e)) throw new ObjectNotFoundError(key, { cause: e });
      throw e;
    }
    if (!st.isFile()) throw new ObjectNotFoundError(key);
    return { size: st.size, lastModified: new Date(st.mtimeMs) };
  }

  async iter(prefix: string, opts: IterOptions = {}): Promise<string[]> {
    const dirKey = normalizePrefix(prefix);
    const dir = dirKey === '' ? this.rootDir : path.join(this.rootDir, ...dirKey.slice(0, -1).split('/'));
    const out: string[] = [];
    if (opts.recursive === true) {
      await walkFiles(dir, dirKey, out);
    } else {
      const entries = await readDir(dir);
      for (const e of entries) {
        if (e.name.startsWith(TEMP_FILE_PREFIX)) continue;
        const kind = await entryKind(dir, e);
        if (kind === 'file') out.push(dirKey + e.name);
        else if (kind === 'dir' && (await hasObject(path.join(dir, e.name)))) out.push(dirKey + e.name + '/');
      }
    }
    return out.sort(compareKeys);
  }

  async close(): Promise<void> {
    // Nothing to release.
  }

  /** Removes `dir` and its parents while they are empty, up to (not including) the root. */
  private async removeEmptyDirs(dir: string): Promise<void> {
    let d = dir;
    while (d !== this.rootDir && d.startsWith(this.rootDir + path.sep)) {
      try {
        await fsp.rmdir(d);
      } catch {
        return; // not empty (or already gone, or raced with an upload): stop
      }
      d = path.dirname(d);
    }
  }
}

async function readDir(dir: string): Promise<fs.Dirent[]> {
  try {
    return await fsp.readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (isMissing(e)) return [];
    throw e;
  }
}

async function entryKind(dir: string, e: fs.Dirent): Promise<'file' | 'dir' | 'other'> {
  if (e.isFile()) return 'file';
  if (e.isDirectory()) return 'dir';
  if (e.isSymbolicLink()) {
    try {
      const st = await fsp.stat(path.join(dir, e.name));
      return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
    } catch {
      return 'other';
    }
  }
  return 'other';
}

/** Whether `dir` holds at least one object, at any depth (S3 has no empty "directories"). */
async function hasObject(dir: string): Promise<boolean> {
  for (const e of await readDir(dir)) {
    if (e.name.startsWith(TEMP_FILE_PREFIX)) continue;
    const kind = await entryKind(dir, e);
    if (kind === 'file') return true;
    if (kind === 'dir' && (await hasObject(path.join(dir, e.name)))) return true;
  }
  return false;
}

async function walkFiles(dir: string, keyPrefix: string, out: string[]): Promise<void> {
  for (const e of await readDir(dir)) {
    if (e.name.startsWith(TEMP_FILE_PREFIX)) continue;
    const kind = await entryKind(dir, e);
    if (kind === 'file') out.push(keyPrefix + e.name);
    else if (kind === 'dir') await walkFiles(path.join(dir, e.name), keyPrefix + e.name + '/', out);
  }
}

/**
 * mkdir -p + exclusive create. Retries when a concurrent delete removed the (then empty) directory
 * between the two steps.
 */
async function createInDir(dir: string, file: string): Promise<fsp.FileHandle> {
  for (let attempt = 0; ; attempt++) {
    await fsp.mkdir(dir, { recursive: true });
    try {
      return await fsp.open(file, 'wx', 0o644);
    } catch (e) {
      if (errCode(e) !== 'ENOENT' || attempt >= 5) throw e;
    }
  }
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** fsync a directory so a rename in it survives a crash; not every platform allows it. */
async function syncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // EISDIR/EPERM/EINVAL on platforms that cannot fsync directories
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
