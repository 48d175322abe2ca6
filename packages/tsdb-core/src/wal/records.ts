/**
 * Prometheus WAL record encoding (tsdb/record/record.go; docs formats.md §6): series (1), samples (2)
 * and tombstones (3). Sample values are raw float64 bits as [hi, lo] uint32 halves.
 */

import { ByteReader, ByteWriter, DecodeError } from '../encoding';
import type { Label } from '../labels';

export const RECORD_SERIES = 1;
export const RECORD_SAMPLES = 2;
export const RECORD_TOMBSTONES = 3;

export interface SeriesRecordEntry {
  ref: number;
  labels: readonly Label[];
}

export interface TombstoneEntry {
  ref: number;
  mint: number;
  maxt: number;
}

/** Samples decoded column-wise; `his[i]`/`los[i]` are the float64 bits of sample i. */
export interface DecodedSamples {
  refs: number[];
  ts: number[];
  his: Uint32Array;
  los: Uint32Array;
}

export type DecodedRecord =
  | { type: 'series'; series: { ref: number; labels: Label[] }[] }
  | { type: 'samples'; samples: DecodedSamples }
  | { type: 'tombstones'; tombstones: TombstoneEntry[] }
  | { type: 'unknown'; code: number };

export function encodeSeriesRecord(entries: readonly SeriesRecordEntry[]): Uint8Array {
  const w = new ByteWriter(64 + entries.length * 64);
  w.putByte(RECORD_SERIES);
  for (const e of entries) {
    w.putBE64(e.ref);
    w.putUvarint(e.labels.length);
    for (const l of e.labels) {
      w.putUvarintString(l.name);
      w.putUvarintString(l.value);
    }
  }
  return w.bytes().slice();
}

export function encodeTombstonesRecord(entries: readonly TombstoneEntry[]): Uint8Array {
  const w = new ByteWriter(1 + entries.length * 16);
  w.putByte(RECORD_TOMBSTONES);
  for (const e of entries) {
    w.putBE64(e.ref);
    w.putVarint(e.mint);
    w.putVarint(e.maxt);
  }
  return w.bytes().slice();
}

/**
 * Builds one samples record incrementally; reuse it across records (reset → add… → finish). The
 * first sample added sets the base ref and timestamp, as Prometheus does.
 */
export class SamplesRecordBuilder {
  private readonly w: ByteWriter;
  private n = 0;
  private baseRef = 0;
  private baseT = 0;

  constructor(initialCapacity = 4096) {
    this.w = new ByteWriter(initialCapacity);
    this.w.putByte(RECORD_SAMPLES);
  }

  reset(): void {
    this.w.reset();
    this.w.putByte(RECORD_SAMPLES);
    this.n = 0;
  }

  add(ref: number, t: number, hi: number, lo: number): void {
    const w = this.w;
    if (this.n === 0) {
      this.baseRef = ref;
      this.baseT = t;
      w.putBE64(ref);
      w.putBE64(t);
    }
    w.putVarint(ref - this.baseRef);
    w.putVarint(t - this.baseT);
    w.putBE32(hi);
    w.putBE32(lo);
    this.n++;
  }

  /** Number of samples added since the last reset. */
  size(): number {
    return this.n;
  }

  /** Encoded size so far, in bytes. */
  byteLength(): number {
    return this.w.length;
  }

  /** The encoded record, as a view valid until the next reset/add. */
  finish(): Uint8Array {
    return this.w.bytes();
  }
}

/** Decodes a WAL record. Throws a DecodeError on malformed input. */
export function decodeRecord(rec: Uint8Array): DecodedRecord {
  if (rec.length === 0) throw new DecodeError('empty WAL record');
  const code = rec[0]!;
  const r = new ByteReader(rec, 1);
  switch (code) {
    case RECORD_SERIES:
      return { type: 'series', series: decodeSeries(r) };
    case RECORD_SAMPLES:
      return { type: 'samples', samples: decodeSamples(r) };
    case RECORD_TOMBSTONES:
      return { type: 'tombstones', tombstones: decodeTombstones(r) };
    default:
      return { type: 'unknown', code };
  }
}

function decodeSeries(r: ByteReader): { ref: number; labels: Label[] }[] {
  const out: { ref: number; labels: Label[] }[] = [];
  while (r.remaining() > 0) {
    const ref = r.readBE64();
    const n = r.readUvarint();
    if (n > r.remaining()) throw new DecodeError(`series record: label count ${n} exceeds record size`);
    const labels: Label[] = new Array<Label>(n);
    for (let i = 0; i < n; i++) {
      const name = r.readUvarintString();
      const value = r.readUvarintString();
      labels[i] = { name, value };
    }
    out.push({ ref, labels });
  }
  return out;
}

function decodeSamples(r: ByteReader): DecodedSamples {
  const refs: number[] = [];
  const ts: number[] = [];
  if (r.remaining() === 0) return { refs, ts, his: new Uint32Array(0), los: new Uint32Array(0) };
  const baseRef = r.readBE64();
  const baseT = r.readBE64();
  // Every sample takes at least 10 bytes (two 1-byte varints and 8 value bytes).
  const max = Math.floor(r.remaining() / 10);
  const his = new Uint32Array(max);
  const los = new Uint32Array(max);
  let n = 0;
  while (r.remaining() > 0) {
    refs.push(baseRef + r.readVarint());
    ts.push(baseT + r.readVarint());
    his[n] = r.readBE32();
    los[n] = r.readBE32();
    n++;
  }
  return { refs, ts, his: his.subarray(0, n), los: los.subarray(0, n) };
}

function decodeTombstones(r: ByteReader): TombstoneEntry[] {
  const out: TombstoneEntry[] = [];
  while (r.remaining() > 0) {
    const ref = r.readBE64();
    const mint = r.readVarint();
    const maxt = r.readVarint();
    out.push({ ref, mint, maxt });
  }
  return out;
}
