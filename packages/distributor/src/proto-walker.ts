/**
 * A cursor over protobuf bytes: the primitives shared by the remote-write decoder and the HA
 * dedupe scan (field numbers as in proto/prometheus). Hand-written for the same reason as the
 * decoder: no per-field objects on the ingest path.
 */
export class DecodeError extends Error {
  override name = 'DecodeError';
}

export class ProtoWalker {
  pos = 0;

  constructor(public b: Uint8Array) {}

  /** A uvarint as a JS number (exact up to 2^53). */
  uvarint(): number {
    const b = this.b;
    let x = 0;
    let s = 0;
    for (;;) {
      if (this.pos >= b.length) throw new DecodeError('unexpected EOF in varint');
      const c = b[this.pos++]!;
      if (s > 49) throw new DecodeError('varint overflow');
      x += (c & 0x7f) * 2 ** s;
      if (c < 0x80) return x;
      s += 7;
    }
  }

  /** Skips a field of wire type `wt` that must end by `end`. */
  skip(wt: number, end: number): void {
    const b = this.b;
    switch (wt) {
      case 0:
        // Any varint, 64-bit negatives included: only its end matters.
        while (this.pos < b.length && b[this.pos]! >= 0x80) this.pos++;
        this.pos++;
        break;
      case 1:
        this.pos += 8;
        break;
      case 2: {
        const len = this.uvarint(); // (not `pos += uvarint()`: that reads pos before the varint)
        this.pos += len;
        break;
      }
      case 5:
        this.pos += 4;
        break;
      default:
        throw new DecodeError(`invalid wire type ${wt}`);
    }
    if (this.pos > end) throw new DecodeError('unexpected EOF');
  }

  /** Enters a length-delimited field: returns its end. */
  sub(end: number): number {
    const len = this.uvarint();
    const e = this.pos + len;
    if (e > end) throw new DecodeError('unexpected EOF');
    return e;
  }
}
