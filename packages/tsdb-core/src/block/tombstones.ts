/**
 * The tombstones file (docs formats.md §4.5): deleted time intervals per series ref.
 */
import { ByteReader, ByteWriter } from '../encoding';
import { crc32c } from '../crc32c';
import { BlockCorruptionError } from './errors';
import { TOMBSTONES_MAGIC, TOMBSTONES_VERSION } from './format';

/** An inclusive deleted interval [mint, maxt]. */
export interface Interval {
  mint: number;
  maxt: number;
}

/** Series ref → deleted intervals. */
export type Tombstones = Map<number, Interval[]>;

/** Encodes tombstones (entries sorted by series ref, as Prometheus writes them). */
export function encodeTombstones(ts: Tombstones): Uint8Array {
  const w = new ByteWriter(64);
  w.putBE32(TOMBSTONES_MAGIC);
  w.putByte(TOMBSTONES_VERSION);
  const start = w.length;
  for (const ref of [...ts.keys()].sort((a, b) => a - b)) {
    for (const iv of ts.get(ref)!) {
      w.putUvarint(ref);
      w.putVarint(iv.mint);
      w.putVarint(iv.maxt);
    }
  }
  w.putBE32(crc32c(w.bytes(), start, w.length));
  return w.bytes().slice();
}

/** Decodes and verifies a tombstones file; `file` names it in errors. */
export function decodeTombstones(b: Uint8Array, file = 'tombstones'): Tombstones {
  if (b.length < 9) throw new BlockCorruptionError(`${file}: file of ${b.length} bytes is too short`);
  const magic = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  if (magic !== TOMBSTONES_MAGIC) throw new BlockCorruptionError(`${file}: bad magic 0x${magic.toString(16)}`);
  if (b[4] !== TOMBSTONES_VERSION) throw new BlockCorruptionError(`${file}: unsupported version ${b[4]}`);
  const end = b.length - 4;
  const want = ((b[end]! << 24) | (b[end + 1]! << 16) | (b[end + 2]! << 8) | b[end + 3]!) >>> 0;
  const got = crc32c(b, 5, end);
  if (want !== got) throw new BlockCorruptionError(`${file}: checksum mismatch (stored 0x${want.toString(16)}, computed 0x${got.toString(16)})`);
  const out: Tombstones = new Map();
  const r = new ByteReader(b, 5, end);
  try {
    while (r.remaining() > 0) {
      const ref = r.readUvarint();
      const mint = r.readVarint();
      const maxt = r.readVarint();
      let l = out.get(ref);
      if (l === undefined) out.set(ref, (l = []));
      l.push({ mint, maxt });
    }
  } catch (e) {
    throw new BlockCorruptionError(`${file}: ${(e as Error).message}`);
  }
  for (const l of out.values()) l.sort((x, y) => x.mint - y.mint);
  return out;
}
