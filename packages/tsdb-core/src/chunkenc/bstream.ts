/**
 * Bit streams for chunk encodings, MSB-first within each byte (Prometheus `bstream`). Both classes
 * are meant to be extended by an encoder or iterator so that one object holds all the state (there
 * may be a million open chunks).
 */

const TWO_32 = 4294967296;

export class BitWriter {
  protected buf: Uint8Array;
  /** Number of bits written so far. */
  protected bitLen: number;

  constructor(initialBytes: number, startBits = 0) {
    this.buf = new Uint8Array(Math.max(initialBytes, (startBits + 7) >>> 3, 1));
    this.bitLen = startBits;
  }

  /** The written bytes (last one zero-padded), as a view valid until the next write. */
  bytes(): Uint8Array {
    return this.buf.subarray(0, (this.bitLen + 7) >>> 3);
  }

  byteLength(): number {
    return (this.bitLen + 7) >>> 3;
  }

  private grow(needBytes: number): void {
    let cap = this.buf.length * 2;
    while (cap < needBytes) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf);
    this.buf = next;
  }

  protected writeBit(bit: number): void {
    const pos = this.bitLen;
    const i = pos >>> 3;
    if (i >= this.buf.length) this.grow(i + 1);
    if (bit !== 0) this.buf[i]! |= 0x80 >>> (pos & 7);
    this.bitLen = pos + 1;
  }

  /**
   * Writes the low `n` bits of `v`, 1 ≤ n ≤ 32. Bits of `v` above `n` must be zero (any value is
   * fine for n = 32). Relies on bytes past the write position being zero, which holds because the
   * stream only ever appends.
   */
  protected writeBits(v: number, n: number): void {
    const pos = this.bitLen;
    const end = pos + n;
    if ((end + 7) >>> 3 > this.buf.length) this.grow((end + 7) >>> 3);
    const b = this.buf;
    let i = pos >>> 3;
    const free = 8 - (pos & 7);
    if (n <= free) {
      b[i]! |= v << (free - n);
    } else {
      n -= free;
      b[i++]! |= v >>> n;
      while (n >= 8) {
        n -= 8;
        b[i++] = v >>> n; // the typed array keeps the low 8 bits
      }
      if (n > 0) b[i] = v << (8 - n);
    }
    this.bitLen = end;
  }

  /** Go `binary.PutUvarint` of the 64-bit value (hi, lo), a byte at a time at the current bit position. */
  protected writeUvarint64(hi: number, lo: number): void {
    hi >>>= 0;
    lo >>>= 0;
    while (hi !== 0 || lo >= 0x80) {
      this.writeBits((lo & 0x7f) | 0x80, 8);
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.writeBits(lo, 8);
  }

  /** Go `binary.PutUvarint(uint64(v))` for a safe integer (negative values as two's complement). */
  protected writeUvarint(v: number): void {
    this.writeUvarint64(Math.floor(v / TWO_32), v >>> 0);
  }

  /** Go `binary.PutVarint` (zigzag) for a safe integer. */
  protected writeVarint(v: number): void {
    const hi = Math.floor(v / TWO_32) | 0;
    const lo = v >>> 0;
    const sign = hi >> 31;
    this.writeUvarint64(((hi << 1) | (lo >>> 31)) ^ sign, (lo << 1) ^ sign);
  }
}

export class BitReader {
  protected data: Uint8Array;
  protected bitPos: number;
  protected bitEnd: number;

  constructor(data: Uint8Array, startBits = 0) {
    this.data = data;
    this.bitPos = startBits;
    this.bitEnd = data.length * 8;
  }

  protected truncated(): never {
    throw new Error(`bit stream truncated at bit ${this.bitPos} of ${this.bitEnd}`);
  }

  protected readBit(): number {
    const pos = this.bitPos;
    if (pos >= this.bitEnd) this.truncated();
    this.bitPos = pos + 1;
    return (this.data[pos >>> 3]! >>> (7 - (pos & 7))) & 1;
  }

  /** Reads `n` bits (1 ≤ n ≤ 32) as an unsigned number. */
  protected readBits(n: number): number {
    const pos = this.bitPos;
    const end = pos + n;
    if (end > this.bitEnd) this.truncated();
    const d = this.data;
    let i = pos >>> 3;
    const avail = 8 - (pos & 7);
    let v = d[i]! & (0xff >>> (pos & 7));
    this.bitPos = end;
    if (n <= avail) return v >>> (avail - n);
    n -= avail;
    i++;
    while (n >= 8) {
      v = (v << 8) | d[i++]!;
      n -= 8;
    }
    if (n > 0) v = (v << n) | (d[i]! >>> (8 - n));
    return v >>> 0;
  }

  /** Go `binary.Uvarint` read a byte at a time at the current bit position, into `out` as [hi, lo]. */
  protected readUvarint64(out: Uint32Array): void {
    let hi = 0;
    let lo = 0;
    for (let k = 0; k < 10; k++) {
      const c = this.readBits(8);
      const g = c & 0x7f;
      const shift = k * 7;
      if (shift < 32) {
        lo |= g << shift;
        if (shift > 25) hi |= g >>> (32 - shift);
      } else {
        hi |= g << (shift - 32);
      }
      if (c < 0x80) {
        if (k === 9 && c > 1) break;
        out[0] = hi;
        out[1] = lo;
        return;
      }
    }
    throw new Error(`bit stream: uvarint overflows 64 bits at bit ${this.bitPos}`);
  }

  /** Go `binary.Varint` (zigzag) at the current bit position, as a number. */
  protected readVarint(): number {
    const h = scratch;
    this.readUvarint64(h);
    const zhi = h[0]!;
    const zlo = h[1]!;
    const mask = -(zlo & 1);
    const hi = (zhi >>> 1) ^ mask;
    const lo = ((zlo >>> 1) | (zhi << 31)) ^ mask;
    return hi * TWO_32 + (lo >>> 0);
  }

  /** Go `int64(binary.Uvarint())` at the current bit position, as a number. */
  protected readUvarintSigned(): number {
    const h = scratch;
    this.readUvarint64(h);
    return (h[0]! | 0) * TWO_32 + h[1]!;
  }
}

const scratch = new Uint32Array(2);
