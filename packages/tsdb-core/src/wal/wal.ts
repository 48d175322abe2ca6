/**
 * Write-ahead log in Prometheus's segment format (tsdb/wlog; docs formats.md §6): numbered segment
 * files of 32 KiB pages holding CRC32C-protected fragments. Records are buffered by `log()` and made
 * durable by `sync()`, which coalesces concurrent callers into one write + fdatasync.
 */

import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { crc32c } from '../crc32c';
import { ByteWriter } from '../encoding';

export const WAL_PAGE_SIZE = 32 * 1024;
export const WAL_DEFAULT_SEGMENT_SIZE = 128 * 1024 * 1024;

const HEADER_SIZE = 7;
const FRAG_FULL = 1;
const FRAG_FIRST = 2;
const FRAG_MIDDLE = 3;
const FRAG_LAST = 4;
const COMPRESSION_MASK = 0x18;
const READ_BLOCK = 32 * WAL_PAGE_SIZE;
const MAX_SPARE_CAPACITY = 4 * 1024 * 1024;

export interface WALOptions {
  /** Segment size in bytes, a multiple of 32 KiB. Default 128 MiB. */
  segmentSize?: number;
}

export interface WALReplayResult {
  records: number;
  /** True if a torn or corrupt tail of the last segment was cut off. */
  repaired: boolean;
}

/** Corruption found while reading a segment. */
export class WALCorruptionError extends Error {
  override readonly name = 'WALCorruptionError';
  constructor(
    readonly segment: number,
    readonly offset: number,
    reason: string,
  ) {
    super(`WAL segment ${segmentName(segment)} is corrupt at offset ${offset}: ${reason}`);
  }
}

/** File name of segment `i`: 8 digits, as Prometheus writes them. */
export function segmentName(i: number): string {
  return String(i).padStart(8, '0');
}

interface PendingSegment {
  index: number;
  writer: ByteWriter;
  /** The segment is complete: fsync and close it once written. */
  done: boolean;
}

export class WAL {
  private readonly pagesPerSegment: number;
  private firstSegment: number;
  /** Segment that `log()` writes to. */
  private segment: number;
  /** Size the current segment will have once everything pending is written. */
  private offset: number;
  private pending: PendingSegment[];
  private readonly spare: ByteWriter[] = [];
  private fh: FileHandle | null = null;
  private fhSegment = -1;
  private flushing: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private failure: Error | null = null;
  private closed: Promise<void> | null = null;

  private constructor(
    private readonly dir: string,
    private readonly segmentSize: number,
    first: number,
    last: number,
    offset: number,
  ) {
    this.pagesPerSegment = segmentSize / WAL_PAGE_SIZE;
    this.firstSegment = first;
    this.segment = last;
    this.offset = offset;
    this.pending = [{ index: last, writer: new ByteWriter(64 * 1024), done: false }];
  }

  /**
   * Opens the WAL in `dir` (created if missing) for appending to its last segment, first cutting off
   * any torn tail of that segment, or starts segment 0 in an empty directory.
   */
  static async open(dir: string, opts: WALOptions = {}): Promise<WAL> {
    const segmentSize = opts.segmentSize ?? WAL_DEFAULT_SEGMENT_SIZE;
    if (!Number.isInteger(segmentSize) || segmentSize < WAL_PAGE_SIZE || segmentSize % WAL_PAGE_SIZE !== 0) {
      throw new RangeError(`WAL segment size ${segmentSize} must be a positive multiple of ${WAL_PAGE_SIZE}`);
    }
    await fsp.mkdir(dir, { recursive: true });
    const segs = await listSegments(dir);
    let first = 0;
    let last = 0;
    let offset = 0;
    if (segs.length > 0) {
      first = segs[0]!;
      last = segs[segs.length - 1]!;
      const file = path.join(dir, segmentName(last));
      // Appending after a torn record would make everything logged from now on unreadable, and
      // appending after zeros that stop mid-page would look like bad page padding; so writing
      // resumes right after the last complete record.
      const scan = await scanSegment(file, last, null);
      offset = scan.goodEnd !== scan.size ? await truncateSegment(file, scan.goodEnd) : scan.size;
    }
    const wal = new WAL(dir, segmentSize, first, last, offset);
    await wal.openSegmentFile(last);
    return wal;
  }

  /**
   * Reads every record of the WAL in `dir` in order (only segments in [from, to] when given; use a
   * bound to read completed segments while the WAL is being written). `rec` is only valid during the callback.
   * A torn or corrupt tail of the last segment is cut off (repaired); corruption anywhere else
   * throws a WALCorruptionError.
   */
  static async replay(
    dir: string,
    onRecord: (rec: Uint8Array) => void,
    range: { from?: number; to?: number } = {},
  ): Promise<WALReplayResult> {
    let segs: number[];
    try {
      segs = await listSegments(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: 0, repaired: false };
      throw e;
    }
    const bounded = range.to !== undefined;
    segs = segs.filter((s) => s >= (range.from ?? 0) && s <= (range.to ?? Infinity));
    let records = 0;
    let repaired = false;
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i]!;
      const file = path.join(dir, segmentName(seg));
      const scan = await scanSegment(file, seg, onRecord);
      records += scan.records;
      if (scan.error) {
        // With an upper bound the segments read are complete ones: a torn tail there is corruption.
        if (bounded || i < segs.length - 1) throw scan.error;
        await truncateSegment(file, scan.goodEnd);
        repaired = true;
      }
    }
    return { records, repaired };
  }

  /** Buffers one record (copied). Throws if the record cannot fit in an empty segment. */
  log(rec: Uint8Array): void {
    this.checkWritable();
    if (!this.fits(rec.length)) {
      if (this.offset === 0 || !this.fitsEmptySegment(rec.length)) {
        throw new RangeError(`WAL record of ${rec.length} bytes does not fit in a ${this.segmentSize}-byte segment`);
      }
      this.cutSegment();
    }
    const w = this.pending[this.pending.length - 1]!.writer;
    let off = this.offset;
    let i = 0;
    let first = true;
    for (;;) {
      let room = WAL_PAGE_SIZE - (off % WAL_PAGE_SIZE);
      if (room < HEADER_SIZE) {
        w.putZeros(room);
        off += room;
        room = WAL_PAGE_SIZE;
      }
      const n = Math.min(rec.length - i, room - HEADER_SIZE);
      const last = i + n === rec.length;
      w.putByte(first ? (last ? FRAG_FULL : FRAG_FIRST) : last ? FRAG_LAST : FRAG_MIDDLE);
      w.putBE16(n);
      w.putBE32(crc32c(rec, i, i + n));
      w.putBytes(rec, i, i + n);
      off += HEADER_SIZE + n;
      i += n;
      first = false;
      if (last) break;
    }
    this.offset = off;
  }

  /**
   * Writes and fdatasyncs everything logged before this call. Calls made while a flush is running
   * share the next flush. Rejects on I/O errors, after which the WAL refuses further use.
   */
  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.queued) return this.queued;
    if (!this.flushing) return this.startFlush();
    const q = this.flushing.then(noop, noop).then(() => {
      this.queued = null;
      return this.startFlush();
    });
    this.queued = q;
    return q;
  }

  /** Completes the current segment and starts the next; resolves with its index once durable. */
  async nextSegment(): Promise<number> {
    this.checkWritable();
    this.cutSegment();
    const index = this.segment;
    await this.sync();
    return index;
  }

  segmentRange(): { first: number; last: number } {
    return { first: this.firstSegment, last: this.segment };
  }

  /** Deletes segments below `segment` (never the one being written). */
  async truncateBefore(segment: number): Promise<void> {
    const limit = Math.min(segment, this.segment);
    // A flush in progress may still be writing a completed segment below the limit.
    if (this.flushing || this.pending[0]!.index < limit) await this.sync();
    for (const s of await listSegments(this.dir)) {
      if (s >= limit) continue;
      await fsp.rm(path.join(this.dir, segmentName(s)), { force: true });
    }
    if (limit > this.firstSegment) this.firstSegment = limit;
  }

  /** Syncs and closes. The last page is zero-padded, as Prometheus does. */
  close(): Promise<void> {
    this.closed ??= this.doClose();
    return this.closed;
  }

  private async doClose(): Promise<void> {
    if (!this.failure) {
      const rest = this.offset % WAL_PAGE_SIZE;
      if (rest !== 0) {
        this.pending[this.pending.length - 1]!.writer.putZeros(WAL_PAGE_SIZE - rest);
        this.offset += WAL_PAGE_SIZE - rest;
      }
    }
    try {
      if (!this.failure) await this.sync();
    } finally {
      const fh = this.fh;
      this.fh = null;
      if (fh) {
        await fh.close().catch((e: unknown) => {
          if (!this.failure) throw e;
        });
      }
    }
  }

  private checkWritable(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('WAL is closed');
  }

  /** Whether a record of `len` bytes fits in what is left of the current segment. */
  private fits(len: number): boolean {
    let off = this.offset;
    const room = WAL_PAGE_SIZE - (off % WAL_PAGE_SIZE);
    if (room < HEADER_SIZE) off += room;
    if (off + HEADER_SIZE > this.segmentSize) return false;
    const inPage = WAL_PAGE_SIZE - (off % WAL_PAGE_SIZE) - HEADER_SIZE;
    const pageStart = off - (off % WAL_PAGE_SIZE);
    const pagesAfter = (this.segmentSize - pageStart) / WAL_PAGE_SIZE - 1;
    return len <= inPage + pagesAfter * (WAL_PAGE_SIZE - HEADER_SIZE);
  }

  private fitsEmptySegment(len: number): boolean {
    return len <= this.pagesPerSegment * (WAL_PAGE_SIZE - HEADER_SIZE);
  }

  private cutSegment(): void {
    const cur = this.pending[this.pending.length - 1]!;
    const rest = this.offset % WAL_PAGE_SIZE;
    if (rest !== 0) cur.writer.putZeros(WAL_PAGE_SIZE - rest);
    cur.done = true;
    this.segment++;
    this.offset = 0;
    this.pending.push({ index: this.segment, writer: this.takeWriter(), done: false });
  }

  private takeWriter(): ByteWriter {
    return this.spare.pop() ?? new ByteWriter(64 * 1024);
  }

  private startFlush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const p: Promise<void> = this.flushPending().finally(() => {
      if (this.flushing === p) this.flushing = null;
    });
    this.flushing = p;
    return p;
  }

  private async flushPending(): Promise<void> {
    const batch = this.pending;
    const cur = batch[batch.length - 1]!;
    if (batch.length === 1 && cur.writer.length === 0 && this.fhSegment === cur.index) return;
    this.pending = [{ index: cur.index, writer: this.takeWriter(), done: false }];
    try {
      for (const p of batch) {
        if (this.fhSegment !== p.index) await this.openSegmentFile(p.index);
        const fh = this.fh!;
        const bytes = p.writer.bytes();
        let written = 0;
        while (written < bytes.length) {
          const { bytesWritten } = await fh.write(bytes, written, bytes.length - written, null);
          written += bytesWritten;
        }
        await fh.datasync();
        if (p.done) {
          this.fh = null;
          this.fhSegment = -1;
          await fh.close();
        }
        p.writer.reset();
        if (p.writer.capacity <= MAX_SPARE_CAPACITY && this.spare.length < 2) this.spare.push(p.writer);
      }
    } catch (e) {
      this.failure = e instanceof Error ? e : new Error(String(e));
      throw this.failure;
    }
  }

  private async openSegmentFile(index: number): Promise<void> {
    if (this.fh) {
      await this.fh.close();
      this.fh = null;
    }
    this.fh = await fsp.open(path.join(this.dir, segmentName(index)), 'a');
    this.fhSegment = index;
    await syncDir(this.dir);
  }
}

function noop(): void {}

async function syncDir(dir: string): Promise<void> {
  const d = await fsp.open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Segment indexes in `dir`, ascending; throws if they are not consecutive. */
async function listSegments(dir: string): Promise<number[]> {
  const segs: number[] = [];
  for (const name of await fsp.readdir(dir)) {
    if (/^\d+$/.test(name)) segs.push(Number(name));
  }
  segs.sort((a, b) => a - b);
  for (let i = 1; i < segs.length; i++) {
    if (segs[i] !== segs[i - 1]! + 1) {
      throw new Error(`WAL in ${dir}: segments are not consecutive (${segs[i - 1]} is followed by ${segs[i]})`);
    }
  }
  return segs;
}

async function truncateSegment(file: string, size: number): Promise<number> {
  const fh = await fsp.open(file, 'r+');
  try {
    await fh.truncate(size);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return size;
}

interface ScanResult {
  records: number;
  /** File offset just past the last complete record. */
  goodEnd: number;
  size: number;
  error: WALCorruptionError | null;
}

/** Reads one segment, calling `onRecord` per complete record, stopping at the first corruption. */
async function scanSegment(
  file: string,
  segment: number,
  onRecord: ((rec: Uint8Array) => void) | null,
): Promise<ScanResult> {
  const fh = await fsp.open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const buf = new Uint8Array(Math.min(READ_BLOCK, Math.max(size, 1)));
    const rec = new ByteWriter(64 * 1024);
    let records = 0;
    let goodEnd = 0;
    let recStart = -1; // file offset of the first fragment of an unfinished record
    const fail = (offset: number, reason: string): ScanResult => ({
      records,
      goodEnd,
      size,
      error: new WALCorruptionError(segment, offset, reason),
    });
    // Blocks are page-aligned, so a well-formed fragment never straddles two blocks.
    for (let pos = 0; pos < size; ) {
      const n = Math.min(buf.length, size - pos);
      let got = 0;
      while (got < n) {
        const { bytesRead } = await fh.read(buf, got, n - got, pos + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (got < n) return fail(pos + got, 'file shrank while reading');
      let o = 0;
      while (o < n) {
        const pageEnd = Math.min(n, (Math.floor(o / WAL_PAGE_SIZE) + 1) * WAL_PAGE_SIZE);
        const type = buf[o]!;
        if (type === 0) {
          for (let k = o + 1; k < pageEnd; k++) {
            if (buf[k] !== 0) return fail(pos + k, 'non-zero byte in page padding');
          }
          o = pageEnd;
          continue;
        }
        if (o + HEADER_SIZE > pageEnd) return fail(pos + o, 'fragment header cut short');
        const len = (buf[o + 1]! << 8) | buf[o + 2]!;
        const crc = ((buf[o + 3]! << 24) | (buf[o + 4]! << 16) | (buf[o + 5]! << 8) | buf[o + 6]!) >>> 0;
        const start = o + HEADER_SIZE;
        const end = start + len;
        if (end > pageEnd) return fail(pos + o, `fragment of ${len} bytes runs past the page end`);
        if (crc32c(buf, start, end) !== crc) return fail(pos + o, 'fragment checksum mismatch');
        if ((type & COMPRESSION_MASK) !== 0) return fail(pos + o, 'compressed fragments are not supported');
        switch (type) {
          case FRAG_FULL:
            if (recStart >= 0) return fail(pos + o, 'full fragment inside an unfinished record');
            onRecord?.(buf.subarray(start, end));
            records++;
            goodEnd = pos + end;
            break;
          case FRAG_FIRST:
            if (recStart >= 0) return fail(pos + o, 'first fragment inside an unfinished record');
            recStart = pos + o;
            rec.reset();
            rec.putBytes(buf, start, end);
            break;
          case FRAG_MIDDLE:
            if (recStart < 0) return fail(pos + o, 'middle fragment without a first fragment');
            rec.putBytes(buf, start, end);
            break;
          case FRAG_LAST:
            if (recStart < 0) return fail(pos + o, 'last fragment without a first fragment');
            rec.putBytes(buf, start, end);
            recStart = -1;
            onRecord?.(rec.bytes());
            records++;
            goodEnd = pos + end;
            break;
          default:
            return fail(pos + o, `invalid fragment type 0x${type.toString(16)}`);
        }
        o = end;
      }
      pos += n;
    }
    if (recStart >= 0) return fail(recStart, 'segment ends inside a multi-fragment record');
    return { records, goodEnd, size, error: null };
  } finally {
    await fh.close();
  }
}
