/**
 * ULIDs (https://github.com/ulid/spec) as Prometheus names its blocks: 26 characters of Crockford
 * base32, the first 10 encoding a 48-bit millisecond timestamp and the last 16 encoding 80 random
 * bits. Only the canonical upper-case form is produced and accepted.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const MAX_TIME = 2 ** 48 - 1;

/** Character code → 5-bit value, or -1. */
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/**
 * A new ULID for `timeMs`. Randomness comes from `crypto.randomBytes`, or, when `random` is given
 * (tests: deterministic names), from 16 calls of `random()` returning numbers in [0, 1).
 */
export function newULID(timeMs: number = Date.now(), random?: () => number): string {
  if (!Number.isInteger(timeMs) || timeMs < 0 || timeMs > MAX_TIME) {
    throw new RangeError(`ulid: time ${timeMs} is not an integer in [0, 2^48)`);
  }
  let s = '';
  let t = timeMs;
  for (let i = 0; i < 10; i++) {
    s = ALPHABET[t % 32]! + s;
    t = Math.floor(t / 32);
  }
  if (random !== undefined) {
    for (let i = 0; i < 16; i++) {
      const r = Math.floor(random() * 32);
      if (!(r >= 0 && r < 32)) throw new RangeError('ulid: random() must return numbers in [0, 1)');
      s += ALPHABET[r]!;
    }
    return s;
  }
  // 80 bits = 10 bytes = 16 groups of 5 bits, taken MSB first.
  const b = randomBytes(10);
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < 10; i++) {
    acc = ((acc << 8) | b[i]!) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      s += ALPHABET[(acc >>> bits) & 31]!;
    }
  }
  return s;
}

/** True for a canonical ULID: 26 characters of the Crockford alphabet (upper case), the first 0–7. */
export function isULID(s: string): boolean {
  if (typeof s !== 'string' || s.length !== 26) return false;
  const c0 = s.charCodeAt(0);
  if (c0 < 0x30 || c0 > 0x37) return false;
  for (let i = 1; i < 26; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || DECODE[c]! < 0) return false;
  }
  return true;
}

/** The millisecond timestamp of a ULID. */
export function ulidTime(id: string): number {
  if (!isULID(id)) throw new Error(`ulid: ${JSON.stringify(id)} is not a valid ULID`);
  let t = 0;
  for (let i = 0; i < 10; i++) t = t * 32 + DECODE[id.charCodeAt(i)]!;
  return t;
}
