import { compareStrings, labelsToString, seriesKeyFromLabels, WriteBatch, type Label, type MetricMetadataEntry } from '@strata/tsdb-core';
import { DecodeError, ProtoWalker } from './proto-walker';
import { ErrorIds, messages } from './validation-errors';

/**
 * Decodes and validates a remote-write 1.0 `prometheus.WriteRequest` straight from its protobuf
 * bytes into a columnar WriteBatch. Hand-written rather than protobufjs: building a JS object per
 * label and sample costs 2–3× the CPU and most of the GC of the ingest path (measured in
 * style-and-performance.md B.5); this walker allocates only the series-key string per series.
 */

export { DecodeError };

export interface ValidationLimits {
  maxLabelNamesPerSeries: number;
  maxLabelNameLength: number;
  maxLabelValueLength: number;
  /** Samples with a timestamp above this (ms) are rejected as too far in the future. */
  maxTimestamp: number;
}

export interface DecodeOptions {
  /**
   * A label name removed from every series before validation and keying, as if the sender had
   * not sent it: the HA tracker's replica label for requests from the elected replica.
   */
  dropLabel?: string;
}

export interface DiscardSink {
  /** Called once per rejected group of samples; `message` is built lazily for the first only. */
  discard(reasonId: string, samples: number, message: () => string): void;
}

export interface DecodeResult {
  series: number;
  samples: number;
  metadata: number;
  exemplars: number;
  histograms: number;
}

const utf8 = new TextDecoder('utf-8');
const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

function isValidMetricNameBytes(b: Uint8Array, s: number, e: number): boolean {
  if (s === e) return false;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    const alpha = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a;
    if (!alpha && !(i > s && c >= 0x30 && c <= 0x39)) return false;
  }
  return true;
}

function isValidLabelNameBytes(b: Uint8Array, s: number, e: number): boolean {
  if (s === e) return false;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    const alpha = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
    if (!alpha && !(i > s && c >= 0x30 && c <= 0x39)) return false;
  }
  return true;
}

function isValidUtf8(b: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    if (b[i]! >= 0x80) {
      try {
        utf8Fatal.decode(b.subarray(s, e));
        return true;
      } catch {
        return false;
      }
    }
  }
  return true;
}

function cmpBytes(b: Uint8Array, s1: number, l1: number, s2: number, l2: number): number {
  const n = l1 < l2 ? l1 : l2;
  for (let i = 0; i < n; i++) {
    const d = b[s1 + i]! - b[s2 + i]!;
    if (d !== 0) return d;
  }
  return l1 - l2;
}

const NAME_BYTES = [0x5f, 0x5f, 0x6e, 0x61, 0x6d, 0x65, 0x5f, 0x5f]; // "__name__"

export class WriteRequestDecoder extends ProtoWalker {
  /** The request being decoded (a Buffer view of `b`, for latin1 key strings). */
  private buf: Buffer = Buffer.alloc(0);
  // Per-label scratch: nameStart, nameLen, valueStart, valueLen.
  private lbl = new Int32Array(4 * 64);
  private order = new Int32Array(64);
  // The dropLabel of the current request as bytes (null: none); cached across requests.
  private drop: Buffer | null = null;
  private dropName = '';
  private keyScratch: Buffer = Buffer.allocUnsafe(1024);

  constructor() {
    super(new Uint8Array(0));
  }

  /**
   * Decodes `buf`, appending valid series to `batch` and reporting rejected ones to `sink`.
   * Throws DecodeError on malformed protobuf (then nothing should be ingested).
   */
  decode(buf: Uint8Array, limits: ValidationLimits, batch: WriteBatch, sink: DiscardSink, opts?: DecodeOptions): DecodeResult {
    this.buf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.b = this.buf;
    this.pos = 0;
    const dropLabel = opts?.dropLabel;
    if (dropLabel === undefined || dropLabel === '') this.drop = null;
    else if (this.drop === null || this.dropName !== dropLabel) {
      this.drop = Buffer.from(dropLabel, 'utf8');
      this.dropName = dropLabel;
    }
    const res: DecodeResult = { series: 0, samples: 0, metadata: 0, exemplars: 0, histograms: 0 };
    const end = buf.length;
    while (this.pos < end) {
      const tag = this.uvarint32();
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 1 && wt === 2) {
        const len = this.uvarint32();
        const e = this.pos + len;
        if (e > end) throw new DecodeError('unexpected EOF in TimeSeries');
        this.timeSeries(e, limits, batch, sink, res);
        this.pos = e;
      } else if (field === 3 && wt === 2) {
        const e = this.sub(end);
        batch.metadata.push(this.metricMetadata(e));
        res.metadata++;
        this.pos = e;
      } else {
        this.skip(wt, this.buf.length);
      }
    }
    if (this.pos !== end) throw new DecodeError('unexpected EOF');
    return res;
  }

  /** A prometheus.MetricMetadata message ending at `end` (strings as UTF-8, unvalidated). */
  private metricMetadata(end: number): MetricMetadataEntry {
    const md: MetricMetadataEntry = { type: 0, metricFamilyName: '', help: '', unit: '' };
    while (this.pos < end) {
      const tag = this.uvarint32();
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 1 && wt === 0) {
        md.type = this.uvarint();
      } else if ((field === 2 || field === 4 || field === 5) && wt === 2) {
        const e = this.sub(end);
        const str = this.buf.toString('utf8', this.pos, e);
        if (field === 2) md.metricFamilyName = str;
        else if (field === 4) md.help = str;
        else md.unit = str;
        this.pos = e;
      } else {
        this.skip(wt, end);
      }
    }
    if (this.pos !== end) throw new DecodeError('unexpected EOF in MetricMetadata');
    return md;
  }

  private timeSeries(end: number, limits: ValidationLimits, batch: WriteBatch, sink: DiscardSink, res: DecodeResult): void {
    const b = this.buf;
    let n = 0; // labels with non-empty values
    let canonical = true; // labels contiguous, each exactly name then value, sorted, no empties
    let labelsStart = -1;
    let labelsEnd = -1;
    let sawOther = false;
    let samples = 0;
    let histograms = 0;
    let futureDiscards = 0;
    let firstFutureTs = 0;
    const drop = this.drop;
    let dropStart = -1; // the dropped Label message, when there is exactly one
    let dropEnd = -1;
    while (this.pos < end) {
      const tag = this.uvarint32();
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 1 && wt === 2) {
        const msgStart = this.pos - 1;
        const len = this.uvarint32();
        const e = this.pos + len;
        if (e > end) throw new DecodeError('unexpected EOF in Label');
        if (labelsStart < 0) labelsStart = msgStart;
        else if (sawOther || labelsEnd !== msgStart) canonical = false;
        let ns = this.pos;
        let nl = 0;
        let vs = this.pos;
        let vl = 0;
        let fieldIdx = 0;
        while (this.pos < e) {
          const t = this.uvarint32();
          if (t === 0x0a) {
            nl = this.uvarint32();
            ns = this.pos;
            this.pos += nl;
            if (fieldIdx !== 0) canonical = false;
          } else if (t === 0x12) {
            vl = this.uvarint32();
            vs = this.pos;
            this.pos += vl;
            if (fieldIdx !== 1) canonical = false;
          } else {
            canonical = false;
            this.skip(t & 7, this.buf.length);
          }
          fieldIdx++;
        }
        if (this.pos !== e) throw new DecodeError('unexpected EOF in Label');
        labelsEnd = e;
        if (drop !== null && nl === drop.length && this.isDropLabel(drop, ns)) {
          if (dropStart >= 0) canonical = false; // twice: rebuild the key from the scratch
          dropStart = msgStart;
          dropEnd = e;
          continue;
        }
        if (vl === 0) {
          canonical = false; // empty values are dropped
          continue;
        }
        if (fieldIdx !== 2) canonical = false;
        if (4 * n + 4 > this.lbl.length) this.growScratch();
        const l = this.lbl;
        l[4 * n] = ns;
        l[4 * n + 1] = nl;
        l[4 * n + 2] = vs;
        l[4 * n + 3] = vl;
        if (n > 0 && cmpBytes(b, l[4 * n - 4]!, l[4 * n - 3]!, ns, nl) >= 0) canonical = false;
        n++;
      } else if (field === 2 && wt === 2) {
        sawOther = true;
        const len = this.uvarint32();
        const e = this.pos + len;
        if (e > end) throw new DecodeError('unexpected EOF in Sample');
        let lo = 0;
        let hi = 0;
        let ts = 0;
        while (this.pos < e) {
          const t = this.uvarint32();
          if (t === 0x09) {
            if (this.pos + 8 > e) throw new DecodeError('unexpected EOF in Sample');
            const p = this.pos;
            lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
            hi = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24)) >>> 0;
            this.pos += 8;
          } else if (t === 0x10) {
            ts = this.int64();
          } else {
            this.skip(t & 7, this.buf.length);
          }
        }
        if (this.pos !== e) throw new DecodeError('unexpected EOF in Sample');
        samples++;
        if (ts > limits.maxTimestamp) {
          if (futureDiscards === 0) firstFutureTs = ts;
          futureDiscards++;
          continue;
        }
        batch.addSample(ts, hi, lo);
      } else if (field === 4 && wt === 2) {
        sawOther = true;
        histograms++;
        this.skip(wt, this.buf.length);
      } else if (field === 3 && wt === 2) {
        sawOther = true;
        res.exemplars++;
        this.skip(wt, this.buf.length);
      } else {
        sawOther = true;
        this.skip(wt, this.buf.length);
      }
    }
    if (this.pos !== end) throw new DecodeError('unexpected EOF in TimeSeries');
    res.series++;
    res.samples += samples;
    res.histograms += histograms;

    const labelErr = this.validateLabels(n, canonical, limits);
    if (labelErr !== null) {
      batch.discardPending();
      sink.discard(labelErr.id, samples + histograms, labelErr.msg);
      return;
    }
    if (futureDiscards > 0) {
      sink.discard(ErrorIds.tooFarInFuture, futureDiscards, () => messages.tooFarInFuture(firstFutureTs, this.metricName(n)));
    }
    if (histograms > 0) {
      sink.discard(ErrorIds.nativeHistogramsUnsupported, histograms, () => messages.nativeHistogramsUnsupported(this.metricName(n)));
    }
    if (batch.numSamples === batch.sampleStart[batch.sampleStart.length - 1]) return; // nothing left to store
    let key: string;
    if (!canonical) key = this.canonicalKey(n);
    else if (dropStart < 0) key = this.buf.toString('latin1', labelsStart, labelsEnd);
    // The received bytes minus the dropped Label message are still the canonical encoding.
    else key = this.keyWithout(labelsStart, dropStart, dropEnd, labelsEnd);
    batch.endSeries(key);
  }

  /** Sorts the label scratch by name (insertion sort: label sets are small and usually sorted). */
  private sortScratch(n: number): void {
    const o = this.order;
    const l = this.lbl;
    const b = this.buf;
    for (let i = 0; i < n; i++) o[i] = i;
    for (let i = 1; i < n; i++) {
      const x = o[i]!;
      let j = i - 1;
      while (j >= 0 && cmpBytes(b, l[4 * o[j]!]!, l[4 * o[j]! + 1]!, l[4 * x]!, l[4 * x + 1]!) > 0) {
        o[j + 1] = o[j]!;
        j--;
      }
      o[j + 1] = x;
    }
  }

  private validateLabels(n: number, canonical: boolean, lim: ValidationLimits): { id: string; msg: () => string } | null {
    const b = this.buf;
    const l = this.lbl;
    if (!canonical) this.sortScratch(n);
    else for (let i = 0; i < n; i++) this.order[i] = i;
    const o = this.order;
    let nameIdx = -1;
    for (let k = 0; k < n; k++) {
      const i = o[k]!;
      if (l[4 * i + 1] === 8 && this.isNameLabel(l[4 * i]!)) {
        nameIdx = i;
        break;
      }
    }
    if (nameIdx < 0) return { id: ErrorIds.missingMetricName, msg: messages.missingMetricName };
    if (!isValidMetricNameBytes(b, l[4 * nameIdx + 2]!, l[4 * nameIdx + 2]! + l[4 * nameIdx + 3]!)) {
      return { id: ErrorIds.invalidMetricName, msg: () => messages.invalidMetricName(this.metricName(n)) };
    }
    if (n > lim.maxLabelNamesPerSeries) {
      return {
        id: ErrorIds.maxLabelNamesPerSeries,
        msg: () => messages.maxLabelNamesPerSeries(n, lim.maxLabelNamesPerSeries, this.seriesString(n)),
      };
    }
    for (let k = 0; k < n; k++) {
      const i = o[k]!;
      const ns = l[4 * i]!;
      const nl = l[4 * i + 1]!;
      const vs = l[4 * i + 2]!;
      const vl = l[4 * i + 3]!;
      if (!isValidLabelNameBytes(b, ns, ns + nl)) {
        return { id: ErrorIds.invalidLabel, msg: () => messages.invalidLabel(this.str(ns, nl), this.seriesString(n)) };
      }
      if (nl > lim.maxLabelNameLength) {
        return { id: ErrorIds.labelNameTooLong, msg: () => messages.labelNameTooLong(this.str(ns, nl), this.seriesString(n)) };
      }
      if (!isValidUtf8(b, vs, vs + vl)) {
        return {
          id: ErrorIds.invalidLabelValue,
          msg: () => messages.invalidLabelValue(this.str(ns, nl), this.str(vs, vl), this.metricName(n)),
        };
      }
      if (vl > lim.maxLabelValueLength) {
        return {
          id: ErrorIds.labelValueTooLong,
          msg: () => messages.labelValueTooLong(this.str(ns, nl), this.str(vs, vl), this.seriesString(n)),
        };
      }
      if (k > 0) {
        const p = o[k - 1]!;
        if (cmpBytes(b, l[4 * p]!, l[4 * p + 1]!, ns, nl) === 0) {
          return { id: ErrorIds.duplicateLabelNames, msg: () => messages.duplicateLabelNames(this.str(ns, nl), this.seriesString(n)) };
        }
      }
    }
    return null;
  }

  /** The bytes [s, e) minus [ds, de) as one flat latin1 string (a concatenation would be a rope). */
  private keyWithout(s: number, ds: number, de: number, e: number): string {
    const len = e - s - (de - ds);
    if (this.keyScratch.length < len) this.keyScratch = Buffer.allocUnsafe(Math.max(len, 2 * this.keyScratch.length));
    const k = this.keyScratch;
    this.buf.copy(k, 0, s, ds);
    this.buf.copy(k, ds - s, de, e);
    return k.toString('latin1', 0, len);
  }

  private isDropLabel(drop: Buffer, s: number): boolean {
    const b = this.buf;
    for (let i = 0; i < drop.length; i++) if (b[s + i] !== drop[i]) return false;
    return true;
  }

  private isNameLabel(s: number): boolean {
    const b = this.buf;
    for (let i = 0; i < 8; i++) if (b[s + i] !== NAME_BYTES[i]) return false;
    return true;
  }

  private str(s: number, l: number): string {
    return utf8.decode(this.buf.subarray(s, s + l));
  }

  private labelsOf(n: number): Label[] {
    const l = this.lbl;
    const out: Label[] = [];
    for (let i = 0; i < n; i++) out.push({ name: this.str(l[4 * i]!, l[4 * i + 1]!), value: this.str(l[4 * i + 2]!, l[4 * i + 3]!) });
    return out.sort((a, b) => compareStrings(a.name, b.name));
  }

  private metricName(n: number): string {
    for (const x of this.labelsOf(n)) if (x.name === '__name__') return x.value;
    return '';
  }

  private seriesString(n: number): string {
    return labelsToString(this.labelsOf(n));
  }

  private canonicalKey(n: number): string {
    return seriesKeyFromLabels(this.labelsOf(n));
  }

  private growScratch(): void {
    const l = new Int32Array(this.lbl.length * 2);
    l.set(this.lbl);
    this.lbl = l;
    this.order = new Int32Array(this.order.length * 2);
  }

  private uvarint32(): number {
    const b = this.buf;
    let p = this.pos;
    let x = 0;
    let s = 0;
    for (;;) {
      if (p >= b.length) throw new DecodeError('unexpected EOF in varint');
      const c = b[p++]!;
      if (s === 28 && c > 0x0f) {
        // Larger than 32 bits: only legal for lengths we then reject as out of range.
        throw new DecodeError('varint overflow');
      }
      x += (c & 0x7f) * 2 ** s;
      if (c < 0x80) break;
      s += 7;
    }
    this.pos = p;
    return x;
  }

  /** A protobuf int64 (two's complement varint, not zigzag) as a JS number. */
  private int64(): number {
    const b = this.buf;
    let p = this.pos;
    let lo = 0;
    let hi = 0;
    let s = 0;
    let c: number;
    do {
      if (p >= b.length) throw new DecodeError('unexpected EOF in varint');
      c = b[p++]!;
      if (s < 28) lo |= (c & 0x7f) << s;
      else if (s === 28) {
        lo |= (c & 0x0f) << 28;
        hi |= (c & 0x7f) >>> 4;
      } else if (s < 64) hi |= (c & 0x7f) << (s - 32);
      else throw new DecodeError('varint overflow');
      s += 7;
    } while (c >= 0x80);
    this.pos = p;
    return (hi | 0) * 4294967296 + (lo >>> 0);
  }

}
