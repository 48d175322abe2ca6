/**
 * A buffered, append-only file writer for block files: callers encode into `w` (a ByteWriter) and
 * call `maybeFlush()`; the writer tracks the file position, can checksum everything appended
 * between `startCrc()` and `endCrc()` across flushes, and can patch 4 bytes already written
 * (length fields of sections whose size is known only at the end).
 */
import { promises as fsp } from 'node:fs';
import { ByteWriter } from '../encoding';
import { crc32c } from '../crc32c';

/** Buffered bytes after which `maybeFlush` writes to the file. */
export const FLUSH_AT = 1 << 20;

export class BufferedFileWriter {
  readonly w = new ByteWriter(FLUSH_AT + 64 * 1024);
  /** File position of w's first byte. */
  private flushed = 0;
  private crcFrom = -1;
  private crc = 0;

  private constructor(
    readonly path: string,
    private readonly fh: fsp.FileHandle,
  ) {}

  static async create(path: string): Promise<BufferedFileWriter> {
    return new BufferedFileWriter(path, await fsp.open(path, 'wx'));
  }

  /** Current file position (bytes written so far, buffered or not). */
  get pos(): number {
    return this.flushed + this.w.length;
  }

  async maybeFlush(): Promise<void> {
    if (this.w.length >= FLUSH_AT) await this.flush();
  }

  async flush(): Promise<void> {
    const n = this.w.length;
    if (n === 0) return;
    const b = this.w.bytes();
    if (this.crcFrom >= 0) {
      this.crc = crc32c(b, this.crcFrom, n, this.crc);
      this.crcFrom = 0;
    }
    let done = 0;
    while (done < n) {
      const { bytesWritten } = await this.fh.write(b, done, n - done, this.flushed + done);
      done += bytesWritten;
    }
    this.flushed += n;
    this.w.reset();
  }

  /** Appends bytes, flushing first when the buffer is full. */
  async write(bytes: Uint8Array): Promise<void> {
    if (bytes.length >= FLUSH_AT) {
      await this.flush();
      if (this.crcFrom >= 0) this.crc = crc32c(bytes, 0, bytes.length, this.crc);
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await this.fh.write(bytes, done, bytes.length - done, this.flushed + done);
        done += bytesWritten;
      }
      this.flushed += bytes.length;
      return;
    }
    this.w.putBytes(bytes);
    await this.maybeFlush();
  }

  /** Pads with zeros to a multiple of `align`. */
  pad(align: number): void {
    const r = this.pos % align;
    if (r !== 0) this.w.putZeros(align - r);
  }

  startCrc(): void {
    if (this.crcFrom >= 0) throw new Error('BufferedFileWriter: nested checksum');
    this.crcFrom = this.w.length;
    this.crc = 0;
  }

  endCrc(): number {
    if (this.crcFrom < 0) throw new Error('BufferedFileWriter: endCrc without startCrc');
    const c = crc32c(this.w.bytes(), this.crcFrom, this.w.length, this.crc);
    this.crcFrom = -1;
    return c;
  }

  /** Overwrites 4 bytes at file position `pos` (already written) with BE32 `v`. */
  async patchBE32(pos: number, v: number): Promise<void> {
    const b = new Uint8Array([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
    if (pos >= this.flushed) {
      if (this.crcFrom >= 0 && pos - this.flushed + 4 > this.crcFrom) {
        throw new Error('BufferedFileWriter: patch inside a checksummed range');
      }
      this.w.bytes().set(b, pos - this.flushed);
      return;
    }
    if (pos + 4 > this.flushed) await this.flush(); // the 4 bytes straddle the flushed boundary
    await this.fh.write(b, 0, 4, pos);
  }

  /** Flushes, fsyncs and closes. */
  async close(): Promise<void> {
    await this.flush();
    await this.fh.sync();
    await this.fh.close();
  }

  /** Closes without flushing (error paths). */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

/** fsync a directory (so that entries created or renamed in it are durable). */
export async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
