/**
 * A minimal protobuf writer for tests that build remote-write bytes by hand, canonical or not
 * (fields in any order, empty strings left out, unknown fields). Written independently of the
 * decoders under test.
 */

/** Base-128 varint of a uint64 (negative numbers as their two's complement, as protobuf int64). */
export function varint(n: number | bigint): number[] {
  let x = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

/** A length-delimited field. */
export const lenField = (field: number, body: number[]): number[] => [(field << 3) | 2, ...varint(body.length), ...body];

/** A string (or raw bytes) field. */
export const str = (field: number, s: string | Uint8Array): number[] =>
  lenField(field, [...(typeof s === 'string' ? Buffer.from(s, 'utf8') : s)]);

/** A prometheus.Label message as a TimeSeries field (empty name or value left out, as protobuf does). */
export const label = (name: string | Uint8Array, value: string | Uint8Array): number[] =>
  lenField(1, [...(name.length ? str(1, name) : []), ...(value.length ? str(2, value) : [])]);

/** A prometheus.Sample message as a TimeSeries field. */
export function sample(t: number, v: number): number[] {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return lenField(2, [0x09, ...b, 0x10, ...varint(t)]);
}
