/**
 * Byte-level helpers for Prometheus formats: big-endian fixed widths, Go's `uvarint` (LEB128) and
 * `varint` (zigzag + uvarint), and `ustr` (uvarint length + UTF-8). Integers are JS numbers; 64-bit
 * quantities must be safe integers (|n| < 2^53), or are passed as two uint32 halves.
 */

const TWO_32 = 4294967296;

/** Error thrown by `ByteReader` when the input is too short or malformed. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** Number of bytes `s` takes in UTF-8 (lone surrogates count as U+FFFD, 3 bytes, like TextEncoder). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // 2 UTF-16 units -> 4 bytes
        i++;
      } else {
        n += 2;
      }
    } else {
      n += 2;
    }
  }
  return n;
}

/** Bytes needed by `uvarint(v)` for a non-negative safe integer. */
/** Bytes of a uvarint holding `n` < 2^32 (fast path for lengths). */
export function uvarint32Size(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Writes a uvarint of `n` < 2^32 at `pos`; returns the position after it. */
export function putUvarint32(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}

export function uvarintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** A growable byte buffer with big-endian and varint writers. `bytes()` is a view, valid until the next write. */
export class ByteWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(Math.max(8, initialCapacity));
  }

  get length(): number {
    return this.len;
  }

  /** Size of the internal buffer. */
  get capacity(): number {
    return this.buf.length;
  }

  reset(): void {
    this.len = 0;
  }

  /** The written bytes, as a view into the internal buffer. */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  putByte(b: number): void {
    if (this.len >= this.buf.length) this.ensure(1);
    this.buf[this.len++] = b;
  }

  putBE16(v: number): void {
    this.ensure(2);
    const b = this.buf;
    b[this.len] = v >>> 8;
    b[this.len + 1] = v;
    this.len += 2;
  }

  putBE32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    const i = this.len;
    b[i] = v >>> 24;
    b[i + 1] = v >>> 16;
    b[i + 2] = v >>> 8;
    b[i + 3] = v;
    this.len = i + 4;
  }

  /** Writes a safe integer as a 64-bit two's complement big-endian value. */
  putBE64(v: number): void {
    this.putBE32(Math.floor(v / TWO_32) >>> 0);
    this.putBE32(v >>> 0);
  }

  /** Writes the 64-bit value whose upper and lower 32 bits are `hi` and `lo`. */
  putBE64Halves(hi: number, lo: number): void {
    this.putBE32(hi);
    this.putBE32(lo);
  }

  /** Go `binary.PutUvarint` for a non-negative safe integer. */
  putUvarint(v: number): void {
    this.ensure(10);
    const b = this.buf;
    let i = this.len;
    if (v < 0x80000000) {
      while (v >= 0x80) {
        b[i++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
    } else {
      while (v >= 0x80) {
        b[i++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
    }
    b[i++] = v;
    this.len = i;
  }

  /** Go `binary.PutUvarint` for the 64-bit value (hi, lo). */
  putUvarint64(hi: number, lo: number): void {
    this.ensure(10);
    const b = this.buf;
    let i = this.len;
    hi >>>= 0;
    lo >>>= 0;
    while (hi !== 0 || lo >= 0x80) {
      b[i++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[i++] = lo;
    this.len = i;
  }

  /** Go `binary.PutVarint` (zigzag) for a safe integer. */
  putVarint(v: number): void {
    if (v >= -0x40000000 && v < 0x40000000) {
      this.putUvarint(((v << 1) ^ (v >> 31)) >>> 0);
      return;
    }
    // Zigzag of a large negative number is an odd value above 2^53, so do it on 32-bit halves.
    const hi = Math.floor(v / TWO_32) | 0;
    const lo = v >>> 0;
    const sign = hi >> 31;
    this.putUvarint64(((hi << 1) | (lo >>> 31)) ^ sign, (lo << 1) ^ sign);
  }

  /** `ustr`: uvarint UTF-8 byte length, then the UTF-8 bytes. */
  putUvarintString(s: string): void {
    let ascii = s.length < 64;
    if (ascii) {
      for (let i = 0; i < s.length; i++) {
        if (s.charCodeAt(i) >= 0x80) {
          ascii = false;
          break;
        }
      }
    }
    if (ascii) {
      this.putUvarint(s.length);
      this.ensure(s.length);
      const b = this.buf;
      let j = this.len;
      for (let i = 0; i < s.length; i++) b[j++] = s.charCodeAt(i);
      this.len = j;
      return;
    }
    const n = utf8Length(s);
    this.putUvarint(n);
    this.ensure(n);
    utf8Encoder.encodeInto(s, this.buf.subarray(this.len, this.len + n));
    this.len += n;
  }

  putBytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.ensure(n);
    this.buf.set(start === 0 && end === src.length ? src : src.subarray(start, end), this.len);
    this.len += n;
  }

  /** Appends `n` zero bytes. */
  putZeros(n: number): void {
    this.ensure(n);
    this.buf.fill(0, this.len, this.len + n);
    this.len += n;
  }
}

/** A cursor over bytes. Every read throws a `DecodeError` instead of reading past `end`. */
export class ByteReader {
  pos: number;
  readonly end: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.end) {
      throw new DecodeError(
        `unexpected end of data reading ${what} at offset ${this.pos} (need ${n} bytes, ${this.end - this.pos} left)`,
      );
    }
  }

  readByte(): number {
    if (this.pos >= this.end) this.need(1, 'byte');
    return this.buf[this.pos++]!;
  }

  readBE16(): number {
    this.need(2, 'BE16');
    const b = this.buf;
    const i = this.pos;
    this.pos = i + 2;
    return (b[i]! << 8) | b[i + 1]!;
  }

  readBE32(): number {
    this.need(4, 'BE32');
    const b = this.buf;
    const i = this.pos;
    this.pos = i + 4;
    return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
  }

  /** Reads a 64-bit two's complement value; throws if it is not a safe integer. */
  readBE64(): number {
    this.need(8, 'BE64');
    const hi = this.readBE32() | 0;
    const lo = this.readBE32();
    const v = hi * TWO_32 + lo;
    if (!Number.isSafeInteger(v)) {
      throw new DecodeError(`BE64 at offset ${this.pos - 8} does not fit in a safe integer`);
    }
    return v;
  }

  /** Reads a 64-bit value into `out` as [hi, lo]. */
  readBE64Halves(out: Uint32Array): void {
    this.need(8, 'BE64');
    out[0] = this.readBE32();
    out[1] = this.readBE32();
  }

  /** Go `binary.Uvarint`; throws if the value is not a safe integer. */
  readUvarint(): number {
    const b = this.buf;
    let i = this.pos;
    const end = this.end;
    let v = 0;
    // Up to 4 groups (28 bits) with int32 ops.
    for (let shift = 0; shift < 28; shift += 7) {
      if (i >= end) this.truncated('uvarint');
      const c = b[i++]!;
      v |= (c & 0x7f) << shift;
      if (c < 0x80) {
        this.pos = i;
        return v >>> 0;
      }
    }
    let mul = 268435456; // 2^28
    v >>>= 0;
    for (let k = 4; k < 10; k++) {
      if (i >= end) this.truncated('uvarint');
      const c = b[i++]!;
      if (k === 9 && c > 1) throw new DecodeError(`uvarint overflows 64 bits at offset ${this.pos}`);
      v += (c & 0x7f) * mul;
      if (c < 0x80) {
        if (v > Number.MAX_SAFE_INTEGER) {
          throw new DecodeError(`uvarint at offset ${this.pos} does not fit in a safe integer`);
        }
        this.pos = i;
        return v;
      }
      mul *= 128;
    }
    throw new DecodeError(`uvarint longer than 10 bytes at offset ${this.pos}`);
  }

  /** Go `binary.Uvarint` into `out` as [hi, lo], for full 64-bit values. */
  readUvarint64(out: Uint32Array): void {
    const n = uvarint64At(this.buf, this.pos, this.end, out);
    if (n === UVARINT_TRUNCATED) this.truncated('uvarint');
    if (n < 0) throw new DecodeError(`uvarint overflows 64 bits at offset ${this.pos}`);
    this.pos += n;
  }

  /** Go `binary.Varint` (zigzag); throws if the value is not a safe integer. */
  readVarint(): number {
    const b = this.buf;
    const i = this.pos;
    // Fast path: up to 4 bytes, i.e. |n| < 2^27.
    let v = 0;
    for (let k = 0, shift = 0; k < 4; k++, shift += 7) {
      if (i + k >= this.end) break;
      const c = b[i + k]!;
      v |= (c & 0x7f) << shift;
      if (c < 0x80) {
        this.pos = i + k + 1;
        return (v >>> 1) ^ -(v & 1);
      }
    }
    const h = scratch;
    this.readUvarint64(h);
    const zhi = h[0]!;
    const zlo = h[1]!;
    const mask = -(zlo & 1);
    const hi = (zhi >>> 1) ^ mask;
    const lo = ((zlo >>> 1) | (zhi << 31)) ^ mask;
    const n = hi * TWO_32 + (lo >>> 0);
    if (!Number.isSafeInteger(n)) {
      throw new DecodeError(`varint at offset ${i} does not fit in a safe integer`);
    }
    return n;
  }

  /** Reads a `ustr`. */
  readUvarintString(): string {
    const n = this.readUvarint();
    this.need(n, 'string');
    const b = this.buf;
    const start = this.pos;
    const end = start + n;
    this.pos = end;
    if (n < 32) {
      let s = '';
      let ascii = true;
      for (let i = start; i < end; i++) {
        const c = b[i]!;
        if (c >= 0x80) {
          ascii = false;
          break;
        }
        s += String.fromCharCode(c);
      }
      if (ascii) return s;
    }
    return utf8Decoder.decode(b.subarray(start, end));
  }

  /** Returns the next `n` bytes as a view (no copy). */
  readBytes(n: number): Uint8Array {
    this.need(n, `${n} bytes`);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  skip(n: number): void {
    this.need(n, `${n} bytes`);
    this.pos += n;
  }

  private truncated(what: string): never {
    throw new DecodeError(`unexpected end of data reading ${what} at offset ${this.pos}`);
  }
}

const scratch = new Uint32Array(2);

/** uvarint64At's result for bytes that end before the varint does. */
export const UVARINT_TRUNCATED = -1;
/** uvarint64At's result for a varint longer than 64 bits. */
export const UVARINT_OVERFLOW = -2;

/**
 * Go `binary.Uvarint` of the bytes at b[i] (before `end`) as a full 64-bit value, into `out` as
 * [hi, lo] (uint32 halves: a typed array, so that no number is boxed). Returns its length in
 * bytes, UVARINT_TRUNCATED or UVARINT_OVERFLOW. The one 64-bit varint decoder of the package:
 * ByteReader, the index's series decoder and the XOR chunk decoder use it.
 */
export function uvarint64At(b: Uint8Array, i: number, end: number, out: Uint32Array): number {
  let hi = 0;
  let lo = 0;
  for (let k = 0; k < 10; k++) {
    if (i + k >= end) return UVARINT_TRUNCATED;
    const c = b[i + k]!;
    const g = c & 0x7f;
    const shift = k * 7;
    if (k === 9 && c > 1) return UVARINT_OVERFLOW;
    if (shift < 32) {
      lo |= g << shift;
      if (shift > 25) hi |= g >>> (32 - shift);
    } else {
      hi |= g << (shift - 32);
    }
    if (c < 0x80) {
      out[0] = hi;
      out[1] = lo;
      return k + 1;
    }
  }
  return UVARINT_OVERFLOW;
}
