/**
 * Random access to the bytes of one file, so that block readers can work the same way on a local
 * file and on an object in a bucket (ranged GETs).
 */
import { promises as fsp } from 'node:fs';

export interface ByteSource {
  /** Total length in bytes. */
  size(): Promise<number>;
  /**
   * Exactly `length` bytes starting at `offset`. Rejects when the range is not inside the source.
   * The result may be a view into memory owned by the source; callers must not modify it.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
}

function checkRange(what: string, offset: number, length: number, size: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new RangeError(`${what}: invalid range offset=${offset} length=${length}`);
  }
  if (offset + length > size) {
    throw new RangeError(`${what}: range [${offset}, ${offset + length}) is beyond the end (size ${size})`);
  }
}

/** Bytes held in memory. `read` returns views, not copies. */
export class BufferByteSource implements ByteSource {
  constructor(
    readonly bytes: Uint8Array,
    readonly name = 'buffer',
  ) {}

  async size(): Promise<number> {
    return this.bytes.length;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.name, offset, length, this.bytes.length);
    return this.bytes.subarray(offset, offset + length);
  }
}

/** A local file read with positional reads on one file handle. */
export class FileByteSource implements ByteSource {
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly fh: fsp.FileHandle,
    private readonly length: number,
  ) {}

  static async open(path: string): Promise<FileByteSource> {
    const fh = await fsp.open(path, 'r');
    try {
      const st = await fh.stat();
      return new FileByteSource(path, fh, st.size);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async size(): Promise<number> {
    return this.length;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.closed) throw new Error(`${this.path}: read after close`);
    checkRange(this.path, offset, length, this.length);
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(out, done, length - done, offset + done);
      if (bytesRead === 0) {
        throw new Error(`${this.path}: unexpected end of file at offset ${offset + done} (file shrank?)`);
      }
      done += bytesRead;
    }
    return new Uint8Array(out.buffer, out.byteOffset, length);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}
