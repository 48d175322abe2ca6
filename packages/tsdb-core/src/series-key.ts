import type { Label, Labels } from './labels';

/**
 * A series key is the canonical byte encoding of a sorted label set, held in a latin1 string (one
 * char per byte). The bytes are exactly the `labels` fields of a remote-write `TimeSeries` message
 * (`0x0a len(Label) 0x0a len(name) name 0x12 len(value) value`, repeated), so a distributor that
 * receives canonical series can use the received bytes as the key without building label objects,
 * and ingesters use it as their series map key. V8 stores latin1 strings at one byte per char.
 */
export type SeriesKey = string;

const utf8 = new TextEncoder();
const utf8dec = new TextDecoder();

function uvarintLen(n: number): number {
  let l = 1;
  while (n >= 0x80) {
    n >>>= 7;
    l++;
  }
  return l;
}

function putUvarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}

/** Encodes sorted labels (no empty values) into a series key. */
export function seriesKeyFromLabels(ls: Labels): SeriesKey {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const l of ls) {
    const n = utf8.encode(l.name);
    const v = utf8.encode(l.value);
    parts.push(n, v);
    const inner = 1 + uvarintLen(n.length) + n.length + 1 + uvarintLen(v.length) + v.length;
    total += 1 + uvarintLen(inner) + inner;
  }
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let i = 0; i < parts.length; i += 2) {
    const n = parts[i]!;
    const v = parts[i + 1]!;
    const inner = 1 + uvarintLen(n.length) + n.length + 1 + uvarintLen(v.length) + v.length;
    buf[pos++] = 0x0a;
    pos = putUvarint(buf, pos, inner);
    buf[pos++] = 0x0a;
    pos = putUvarint(buf, pos, n.length);
    buf.set(n, pos);
    pos += n.length;
    buf[pos++] = 0x12;
    pos = putUvarint(buf, pos, v.length);
    buf.set(v, pos);
    pos += v.length;
  }
  return buf.toString('latin1', 0, pos);
}

function readUvarint(buf: Uint8Array, pos: number): [number, number] {
  let x = 0;
  let s = 0;
  for (;;) {
    const b = buf[pos++];
    if (b === undefined) throw new Error('truncated series key');
    if (b < 0x80) return [x + b * 2 ** s, pos];
    x += (b & 0x7f) * 2 ** s;
    s += 7;
  }
}

/** Decodes a series key back into labels. */
export function labelsFromSeriesKey(key: SeriesKey): Labels {
  const buf = Buffer.from(key, 'latin1');
  const out: Label[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] !== 0x0a) throw new Error('corrupt series key');
    let len: number;
    [len, pos] = readUvarint(buf, pos + 1);
    const end = pos + len;
    let name = '';
    let value = '';
    while (pos < end) {
      const tag = buf[pos]!;
      let l: number;
      [l, pos] = readUvarint(buf, pos + 1);
      const s = utf8dec.decode(buf.subarray(pos, pos + l));
      if (tag === 0x0a) name = s;
      else if (tag === 0x12) value = s;
      pos += l;
    }
    out.push({ name, value });
  }
  return out;
}

/** The value of one label in a key, without decoding the others ('' if absent). */
export function seriesKeyLabel(key: SeriesKey, name: string): string {
  for (const l of labelsFromSeriesKey(key)) if (l.name === name) return l.value;
  return '';
}
