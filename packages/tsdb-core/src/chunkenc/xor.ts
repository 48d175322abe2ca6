/**
 * Prometheus XOR chunk encoding (chunk encoding 1), byte-exact with tsdb/chunkenc/xor.go; see
 * docs formats.md §5.1. Values travel as the raw IEEE-754 bits in two uint32 halves (hi, lo) so that
 * NaN payloads, notably the stale marker, are stored bit-exactly.
 */

import type { SampleIterator } from '../querier';
import type { SampleBuffer } from '../sample-buffer';
import { BitReader, BitWriter } from './bstream';
import { uvarint64At } from '../encoding';

export const STALE_HI = 0x7ff00000;
export const STALE_LO = 0x00000002;
// Local copies: exported consts compile to property loads on `exports`.
const STALE_HI_BITS = 0x7ff00000;
const STALE_LO_BITS = 0x00000002;

const TWO_32 = 4294967296;
const HEADER_BITS = 16;
const MAX_SAMPLES = 0xffff;
const NO_WINDOW = -1;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

export function isStaleBits(hi: number, lo: number): boolean {
  return hi === STALE_HI && lo === STALE_LO;
}

/** Writes the IEEE-754 bits of `v` into `out` as [hi, lo]. */
export function floatToBits(v: number, out: Uint32Array): void {
  f64[0] = v;
  out[0] = u32[HI]!;
  out[1] = u32[LO]!;
}

export function bitsToFloat(hi: number, lo: number): number {
  u32[HI] = hi;
  u32[LO] = lo;
  return f64[0]!;
}

/** Trailing zero count of a non-zero int32. */
function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/**
 * Appends samples to one XOR chunk. The sample count and first timestamp live only in the buffer,
 * and leading/trailing zero counts share one field, to keep instances small.
 */
export class XorAppender extends BitWriter {
  private t = 0;
  private delta = 0;
  private hi = 0;
  private lo = 0;
  /** leading << 8 | trailing of the current value-xor window, or NO_WINDOW. */
  private window = NO_WINDOW;

  constructor(initialBytes = 32) {
    super(initialBytes, HEADER_BITS);
  }

  numSamples(): number {
    const b = this.buf;
    return (b[0]! << 8) | b[1]!;
  }

  /** First timestamp, decoded from the chunk (not kept in a field, to save memory); 0 if empty. */
  minTime(): number {
    const b = this.buf;
    if (((b[0]! << 8) | b[1]!) === 0) return 0;
    // Zigzag varint at byte 2; exact for |t| < 2^52 ms (over 100,000 years).
    let z = 0;
    let mul = 1;
    for (let i = 2; i < 12; i++) {
      const c = b[i]!;
      z += (c & 0x7f) * mul;
      if (c < 0x80) break;
      mul *= 128;
    }
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  maxTime(): number {
    return this.t;
  }

  /**
   * Appends a sample. `t` is an integer ms timestamp not below the previous one; time deltas must
   * stay within ±2^53 (any realistic timestamps do).
   */
  append(t: number, hi: number, lo: number): void {
    const b = this.buf;
    const num = (b[0]! << 8) | b[1]!;
    if (num >= MAX_SAMPLES) throw new RangeError('xor chunk: more than 65535 samples');
    if (num >= 2) {
      const delta = t - this.t;
      const dod = delta - this.delta;
      if (delta < 0) this.outOfOrder(t);
      if (dod === 0) {
        this.writeBit(0);
      } else if (dod >= -8191 && dod <= 8192) {
        this.writeBits((0b10 << 14) | (dod & 0x3fff), 16);
      } else if (dod >= -65535 && dod <= 65536) {
        this.writeBits((0b110 << 17) | (dod & 0x1ffff), 20);
      } else if (dod >= -524287 && dod <= 524288) {
        this.writeBits((0b1110 << 20) | (dod & 0xfffff), 24);
      } else {
        this.writeBits(0b1111, 4);
        this.writeBits(Math.floor(dod / TWO_32) >>> 0, 32);
        this.writeBits(dod >>> 0, 32);
      }
      this.delta = delta;
      this.writeValue(hi, lo);
    } else if (num === 1) {
      const delta = t - this.t;
      if (delta < 0) this.outOfOrder(t);
      this.writeUvarint(delta);
      this.delta = delta;
      this.writeValue(hi, lo);
    } else {
      this.writeVarint(t);
      this.writeBits(hi >>> 0, 32);
      this.writeBits(lo >>> 0, 32);
    }
    // buf may have been replaced by a write above.
    const nb = this.buf;
    nb[0] = (num + 1) >>> 8;
    nb[1] = num + 1;
    this.t = t;
    // Kept as int32 so the fields stay small integers rather than boxed doubles.
    this.hi = hi | 0;
    this.lo = lo | 0;
  }

  private outOfOrder(t: number): never {
    throw new RangeError(`xor chunk: timestamp ${t} is before the last appended timestamp ${this.t}`);
  }

  private writeValue(hi: number, lo: number): void {
    const xh = hi ^ this.hi;
    const xl = lo ^ this.lo;
    if ((xh | xl) === 0) {
      this.writeBit(0);
      return;
    }
    let lead = xh !== 0 ? Math.clz32(xh) : 32 + Math.clz32(xl);
    if (lead > 31) lead = 31;
    const trail = xl !== 0 ? ctz32(xl) : 32 + ctz32(xh);
    const w = this.window;
    let sig: number;
    let shift: number;
    if (w !== NO_WINDOW && lead >= w >>> 8 && trail >= (w & 0xff)) {
      shift = w & 0xff;
      sig = 64 - (w >>> 8) - shift;
      this.writeBits(0b10, 2);
    } else {
      this.window = (lead << 8) | trail;
      shift = trail;
      sig = 64 - lead - trail;
      // '11', 5 bits leading, 6 bits significant count (64 is written as 0).
      this.writeBits((0b11 << 11) | (lead << 6) | (sig & 63), 13);
    }
    if (shift === 0) {
      if (sig > 32) this.writeBits(xh >>> 0, sig - 32);
      this.writeBits(xl >>> 0, sig > 32 ? 32 : sig);
    } else if (shift < 32) {
      const h = xh >>> shift;
      const l = ((xl >>> shift) | (xh << (32 - shift))) >>> 0;
      if (sig > 32) {
        this.writeBits(h, sig - 32);
        this.writeBits(l, 32);
      } else {
        this.writeBits(l, sig);
      }
    } else {
      this.writeBits(xh >>> (shift - 32), sig);
    }
  }
}

/** Iterates an XOR chunk; `reset` reuses the instance for another chunk. */
export class XorIterator extends BitReader implements SampleIterator {
  t = 0;
  v = 0;
  stale = false;
  hi = 0;
  lo = 0;
  private total = 0;
  private read = 0;
  private delta = 0;
  private leading = 0;
  private trailing = 0;

  constructor(data: Uint8Array) {
    super(data, HEADER_BITS);
    this.reset(data);
  }

  reset(data: Uint8Array): void {
    if (data.length < 2) throw new Error(`xor chunk: ${data.length} bytes is shorter than the 2-byte header`);
    this.data = data;
    this.bitPos = HEADER_BITS;
    this.bitEnd = data.length * 8;
    this.total = (data[0]! << 8) | data[1]!;
    this.read = 0;
    this.t = 0;
    this.v = 0;
    this.stale = false;
    this.hi = 0;
    this.lo = 0;
    this.delta = 0;
    this.leading = 0;
    this.trailing = 0;
  }

  /** Number of samples in the chunk (from its header). */
  numSamples(): number {
    return this.total;
  }

  next(): boolean {
    const n = this.read;
    if (n >= this.total) return false;
    if (n >= 2) {
      if (this.readBit() !== 0) {
        let dod: number;
        if (this.readBit() === 0) {
          dod = this.readBits(14);
          if (dod > 8192) dod -= 16384;
        } else if (this.readBit() === 0) {
          dod = this.readBits(17);
          if (dod > 65536) dod -= 131072;
        } else if (this.readBit() === 0) {
          dod = this.readBits(20);
          if (dod > 524288) dod -= 1048576;
        } else {
          const h = this.readBits(32) | 0;
          dod = h * TWO_32 + this.readBits(32);
        }
        this.delta += dod;
      }
      this.t += this.delta;
      this.readValue();
    } else if (n === 1) {
      this.delta = this.readUvarintSigned();
      this.t += this.delta;
      this.readValue();
    } else {
      this.t = this.readVarint();
      this.hi = this.readBits(32);
      this.lo = this.readBits(32);
    }
    this.read = n + 1;
    const hi = this.hi;
    const lo = this.lo;
    this.v = bitsToFloat(hi, lo);
    this.stale = hi === STALE_HI && lo === STALE_LO;
    return true;
  }

  private readValue(): void {
    if (this.readBit() === 0) return;
    if (this.readBit() !== 0) {
      this.leading = this.readBits(5);
      let sig = this.readBits(6);
      if (sig === 0) sig = 64;
      this.trailing = 64 - this.leading - sig;
      if (this.trailing < 0) {
        throw new Error(`xor chunk: corrupt value encoding (leading ${this.leading}, ${sig} significant bits)`);
      }
    }
    const shift = this.trailing;
    const sig = 64 - this.leading - shift;
    let xh: number;
    let xl: number;
    if (sig > 32) {
      const h = this.readBits(sig - 32);
      const l = this.readBits(32);
      if (shift === 0) {
        xh = h;
        xl = l;
      } else {
        xh = (h << shift) | (l >>> (32 - shift));
        xl = l << shift;
      }
    } else {
      const l = this.readBits(sig);
      if (shift === 0) {
        xh = 0;
        xl = l;
      } else if (shift < 32) {
        xh = l >>> (32 - shift);
        xl = l << shift;
      } else {
        xh = l << (shift - 32);
        xl = 0;
      }
    }
    this.hi = (this.hi ^ xh) >>> 0;
    this.lo = (this.lo ^ xl) >>> 0;
  }
}

/**
 * Scratch for decodeXorInto: the chunk being decoded as big-endian 32-bit words, so that reading
 * up to 32 bits at any bit position takes two loads. Grows to the largest chunk seen.
 */
let words = new Int32Array(64);
/** Zero words after a chunk's last one: one sample reads at most 145 bits past its start. */
const WORDS_PAD = 8;

/** 32 bits of `w` from bit `pos` on (MSB first), as an int32; branch-free for pos % 32 === 0. */
function peek32(w: Int32Array, pos: number): number {
  const i = pos >>> 5;
  const s = pos & 31;
  return (w[i]! << s) | ((w[i + 1]! >>> 1) >>> (31 - s));
}

/** Result of uvarint64At as [hi, lo] (a typed array, so that setting it never boxes a number). */
const uv = new Uint32Array(2);

/**
 * Reproduces the error XorIterator throws on a chunk the fast decoder found truncated or corrupt
 * at sample `k` (the samples before it decoded fine in both).
 */
function xorDecodeError(b: Uint8Array, start: number, end: number, k: number): never {
  const it = new XorIterator(b.subarray(start, end));
  for (let i = 0; i <= k; i++) it.next();
  throw new Error(`xor chunk: sample ${k} is corrupt`);
}

/**
 * Appends the samples of the XOR chunk b[start, end) with mint <= t <= maxt to `buf` (stale markers
 * to its stale column), exactly as iterating the chunk with XorIterator would, stopping at the first
 * sample after maxt; throws XorIterator's errors on a truncated or corrupt chunk. All decoder state
 * lives in locals and values are written as their raw bits, so a chunk decodes without allocating.
 */
export function decodeXorInto(b: Uint8Array, start: number, end: number, mint: number, maxt: number, buf: SampleBuffer): void {
  if (end - start < 2) throw new Error(`xor chunk: ${end - start} bytes is shorter than the 2-byte header`);
  const total = (b[start]! << 8) | b[start + 1]!;
  if (total === 0) return;
  buf.ensure(total);
  const ts = buf.ts;
  const vw = buf.vbits;
  let n = buf.n;

  // Sample 0: varint timestamp and 64 raw value bits, byte-aligned.
  let p = start + 2;
  let len = uvarint64At(b, p, end, uv);
  if (len < 0 || p + len + 8 > end) xorDecodeError(b, start, end, 0);
  p += len;
  const zhi = uv[0]!;
  const zlo = uv[1]!;
  const mask = -(zlo & 1);
  let t = ((zhi >>> 1) ^ mask) * TWO_32 + ((((zlo >>> 1) | (zhi << 31)) ^ mask) >>> 0);
  let hi = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
  let lo = (b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!;
  p += 8;
  let k = 0;
  if (t >= mint) {
    if (t > maxt) return;
    if (hi === STALE_HI_BITS && lo === STALE_LO_BITS) buf.pushStale(t);
    else {
      ts[n] = t;
      vw[2 * n + LO] = lo;
      vw[2 * n + HI] = hi;
      n++;
    }
  }
  if (total === 1) {
    buf.n = n;
    return;
  }

  // Sample 1: uvarint delta (still byte-aligned), then an XOR value like every later sample.
  len = uvarint64At(b, p, end, uv);
  if (len < 0) {
    buf.n = n;
    xorDecodeError(b, start, end, 1);
  }
  // uint64 → int64, as Go converts the delta.
  let delta = (uv[0]! | 0) * TWO_32 + uv[1]!;

  // Later samples are bit-packed: copy the chunk into `words` (bit positions are from `start`).
  const nbytes = end - start;
  const full = nbytes >>> 2;
  if (words.length < full + 1 + WORDS_PAD) words = new Int32Array(2 * (full + 1 + WORDS_PAD));
  const w32 = words;
  let q = start;
  for (let j = 0; j < full; j++, q += 4) w32[j] = (b[q]! << 24) | (b[q + 1]! << 16) | (b[q + 2]! << 8) | b[q + 3]!;
  let last = 0;
  for (let j = 0; j < 4; j++) last = (last << 8) | (q + j < end ? b[q + j]! : 0);
  w32[full] = last;
  for (let j = 1; j <= WORDS_PAD; j++) w32[full + j] = 0;
  let pos = (p + len - start) * 8;
  const bitEnd = nbytes * 8;
  let leading = 0;
  let trailing = 0;
  let sig = 64;
  for (k = 1; k < total; k++) {
    // One 32-bit window serves the timestamp bits and, mostly, the value's control bits.
    let w = peek32(w32, pos);
    if (k >= 2) {
      if (w >= 0) {
        // dod 0
        pos += 1;
        w <<= 1;
      } else {
        let dod: number;
        if ((w & 0x40000000) === 0) {
          dod = (w >>> 16) & 0x3fff;
          if (dod > 8192) dod -= 16384;
          pos += 16;
          w <<= 16;
        } else if ((w & 0x20000000) === 0) {
          dod = (w >>> 12) & 0x1ffff;
          if (dod > 65536) dod -= 131072;
          pos += 20;
          w = peek32(w32, pos);
        } else if ((w & 0x10000000) === 0) {
          dod = (w >>> 8) & 0xfffff;
          if (dod > 524288) dod -= 1048576;
          pos += 24;
          w = peek32(w32, pos);
        } else {
          pos += 4;
          const h = peek32(w32, pos);
          pos += 32;
          dod = h * TWO_32 + (peek32(w32, pos) >>> 0);
          pos += 32;
          w = peek32(w32, pos);
        }
        delta += dod;
      }
    }
    t += delta;
    // Value: '0' unchanged; '10' XOR in the previous window; '11' a new window (5 bits leading
    // zeros, 6 bits significant count), then the significant bits.
    if (w >= 0) {
      pos += 1;
    } else {
      if ((w & 0x40000000) !== 0) {
        leading = (w >>> 25) & 31;
        sig = (w >>> 19) & 63;
        if (sig === 0) sig = 64;
        trailing = 64 - leading - sig;
        if (trailing < 0) {
          buf.n = n;
          xorDecodeError(b, start, end, k);
        }
        pos += 13;
      } else {
        pos += 2;
      }
      let xh: number;
      let xl: number;
      if (sig > 32) {
        const h = peek32(w32, pos) >>> (64 - sig);
        pos += sig - 32;
        const l = peek32(w32, pos);
        pos += 32;
        if (trailing === 0) {
          xh = h;
          xl = l;
        } else {
          xh = (h << trailing) | (l >>> (32 - trailing));
          xl = l << trailing;
        }
      } else {
        const l = peek32(w32, pos) >>> (32 - sig);
        pos += sig;
        if (trailing === 0) {
          xh = 0;
          xl = l;
        } else if (trailing < 32) {
          xh = l >>> (32 - trailing);
          xl = l << trailing;
        } else {
          xh = l << (trailing - 32);
          xl = 0;
        }
      }
      hi ^= xh;
      lo ^= xl;
    }
    if (pos > bitEnd) {
      buf.n = n;
      xorDecodeError(b, start, end, k);
    }
    if (t < mint) continue;
    if (t > maxt) break;
    if (hi === STALE_HI_BITS && lo === STALE_LO_BITS) buf.pushStale(t);
    else {
      ts[n] = t;
      vw[2 * n + LO] = lo;
      vw[2 * n + HI] = hi;
      n++;
    }
  }
  buf.n = n;
}
