import { ByteReader, putUvarint32, uvarint32Size } from './encoding';
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

/** Encodes sorted labels (no empty values) into a series key. */
export function seriesKeyFromLabels(ls: Labels): SeriesKey {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const l of ls) {
    const n = utf8.encode(l.name);
    const v = utf8.encode(l.value);
    parts.push(n, v);
    const inner = 1 + uvarint32Size(n.length) + n.length + 1 + uvarint32Size(v.length) + v.length;
    total += 1 + uvarint32Size(inner) + inner;
  }
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let i = 0; i < parts.length; i += 2) {
    const n = parts[i]!;
    const v = parts[i + 1]!;
    const inner = 1 + uvarint32Size(n.length) + n.length + 1 + uvarint32Size(v.length) + v.length;
    buf[pos++] = 0x0a;
    pos = putUvarint32(buf, pos, inner);
    buf[pos++] = 0x0a;
    pos = putUvarint32(buf, pos, n.length);
    buf.set(n, pos);
    pos += n.length;
    buf[pos++] = 0x12;
    pos = putUvarint32(buf, pos, v.length);
    buf.set(v, pos);
    pos += v.length;
  }
  return buf.toString('latin1', 0, pos);
}

/** Decodes a series key back into labels. */
export function labelsFromSeriesKey(key: SeriesKey): Labels {
  const r = new ByteReader(Buffer.from(key, 'latin1'));
  const out: Label[] = [];
  while (r.remaining() > 0) {
    if (r.readByte() !== 0x0a) throw new Error('corrupt series key');
    const end = r.readUvarint() + r.pos;
    let name = '';
    let value = '';
    while (r.pos < end) {
      const tag = r.readByte();
      const s = r.readUvarintString();
      if (tag === 0x0a) name = s;
      else if (tag === 0x12) value = s;
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
