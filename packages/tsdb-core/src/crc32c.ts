/**
 * CRC-32C (Castagnoli), as Go's `crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))`: reflected
 * polynomial 0x82F63B78, init and final xor 0xFFFFFFFF. Slice-by-8 table lookup.
 */

const POLY = 0x82f63b78;

// Eight 256-entry tables back to back: T[k*256 + b] is the CRC of byte b followed by k zero bytes.
const T = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = T[n]!;
  for (let k = 1; k < 8; k++) {
    c = T[c & 0xff]! ^ (c >>> 8);
    T[k * 256 + n] = c;
  }
}

/**
 * CRC-32C of `buf[start, end)`. `init` is a previous result to continue from, so that
 * `crc32c(b, 0, b.length, crc32c(a)) === crc32c(concat(a, b))`.
 */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length, init = 0): number {
  let crc = ~init;
  let i = start;
  const t = T;
  const end8 = end - 8;
  while (i <= end8) {
    const a = (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)) ^ crc;
    crc =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + buf[i + 4]!]! ^
      t[512 + buf[i + 5]!]! ^
      t[256 + buf[i + 6]!]! ^
      t[buf[i + 7]!]!;
    i += 8;
  }
  while (i < end) {
    crc = t[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
    i++;
  }
  return ~crc >>> 0;
}
