/**
 * A remote-write 1.0 test client: a hand-rolled protobuf encoder and decoder for
 * `prometheus.WriteRequest` (byte-exact float64 values, so NaN payloads such as the stale marker
 * survive), snappy block compression, and an HTTP `push`.
 *
 * The encoder is deliberately independent of the code under test (packages/distributor), and fast
 * enough for the load generator in tests/bench. `protoRoot()` gives the protobufjs view of
 * proto/prometheus/*.proto for messages this file does not hand-roll (histograms, remote read).
 */
import * as http from 'node:http';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import * as snappy from 'snappyjs';

// ---------------------------------------------------------------------------------------------
// Types

export interface Label {
  name: string;
  value: string;
}

/** A record is sent sorted by name; an array is sent exactly as given (order, duplicates, empties). */
export type LabelsInput = Readonly<Record<string, string>> | readonly Readonly<Label>[];

export interface SampleInput {
  /** Timestamp in ms since the epoch (a bigint for values beyond ±2^53). */
  t: number | bigint;
  /** Value; ignored when `bits` is given. */
  v: number;
  /** Raw IEEE-754 bits of the value, written as little-endian fixed64 (e.g. STALE_NAN_BITS). */
  bits?: bigint;
}

export interface ExemplarInput {
  labels?: LabelsInput;
  t: number | bigint;
  v: number;
  bits?: bigint;
}

export interface SeriesInput {
  labels: LabelsInput;
  samples?: readonly SampleInput[];
  exemplars?: readonly ExemplarInput[];
}

export type MetricTypeName = 'unknown' | 'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'info' | 'stateset';

export interface MetadataInput {
  /** MetricMetadata.MetricType as a number (0..7) or its lower-case name. */
  type: number | MetricTypeName;
  metricFamilyName: string;
  help?: string;
  unit?: string;
}

export interface DecodedSample {
  t: number;
  v: number;
  /** The value's exact bits (NaN payloads included). */
  bits: bigint;
}

export interface DecodedExemplar extends DecodedSample {
  labels: Label[];
}

export interface DecodedSeries {
  labels: Label[];
  samples: DecodedSample[];
  exemplars: DecodedExemplar[];
  /** Native histograms, decoded with protobufjs (`longs: Number`). */
  histograms: Record<string, unknown>[];
}

export interface DecodedMetadata {
  type: number;
  metricFamilyName: string;
  help: string;
  unit: string;
}

export interface DecodedWriteRequest {
  timeseries: DecodedSeries[];
  metadata: DecodedMetadata[];
}

// ---------------------------------------------------------------------------------------------
// Constants

/** Prometheus' stale marker (value.StaleNaN), a signalling NaN. */
export const STALE_NAN_BITS = 0x7ff0000000000002n;
/** The NaN Prometheus itself produces (value.NormalNaN). */
export const NORMAL_NAN_BITS = 0x7ff8000000000001n;

export const METRIC_TYPES: Readonly<Record<MetricTypeName, number>> = {
  unknown: 0,
  counter: 1,
  gauge: 2,
  histogram: 3,
  gaugehistogram: 4,
  summary: 5,
  info: 6,
  stateset: 7,
};

/** A stale-marker sample at `t`. */
export function staleSample(t: number | bigint): SampleInput {
  return { t, v: Number.NaN, bits: STALE_NAN_BITS };
}

/** The float64 bits of `v` as an unsigned bigint. */
export function float64Bits(v: number): bigint {
  SCRATCH_F64[0] = v;
  return SCRATCH_U64[0]!;
}

const SCRATCH_F64 = new Float64Array(1);
const SCRATCH_U64 = new BigUint64Array(SCRATCH_F64.buffer);

// ---------------------------------------------------------------------------------------------
// Encoding

const TAG_TS_LABELS = 0x0a; // TimeSeries.labels = 1, LEN
const TAG_TS_SAMPLES = 0x12; // TimeSeries.samples = 2, LEN
const TAG_TS_EXEMPLARS = 0x1a; // TimeSeries.exemplars = 3, LEN
const TAG_WR_TIMESERIES = 0x0a; // WriteRequest.timeseries = 1, LEN
const TAG_WR_METADATA = 0x1a; // WriteRequest.metadata = 3, LEN
const TAG_LABEL_NAME = 0x0a; // Label.name = 1
const TAG_LABEL_VALUE = 0x12; // Label.value = 2
const TAG_SAMPLE_VALUE = 0x09; // Sample.value = 1, I64
const TAG_SAMPLE_TS = 0x10; // Sample.timestamp = 2, VARINT
const TAG_EXEMPLAR_LABELS = 0x0a; // Exemplar.labels = 1
const TAG_EXEMPLAR_VALUE = 0x11; // Exemplar.value = 2, I64
const TAG_EXEMPLAR_TS = 0x18; // Exemplar.timestamp = 3, VARINT
const TWO_POW_32 = 4294967296;

function uvarintLen(n: number): number {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** Length of an int64 varint: negative values take 10 bytes (two's complement, not zigzag). */
function int64Len(t: number | bigint): number {
  if (typeof t === 'bigint') return t < 0n ? 10 : uvarintLen64(t);
  if (t < 0) return 10;
  if (!Number.isSafeInteger(t)) throw new RangeError(`timestamp ${t} is not a safe integer; pass a bigint`);
  return uvarintLen(t);
}

function uvarintLen64(n: bigint): number {
  let len = 1;
  while (n >= 128n) {
    n >>= 7n;
    len++;
  }
  return len;
}

function orderedLabels(labels: LabelsInput): readonly Readonly<Label>[] {
  if (Array.isArray(labels)) return labels as readonly Readonly<Label>[];
  const out: Label[] = [];
  for (const name of Object.keys(labels)) out.push({ name, value: (labels as Record<string, string>)[name]! });
  return out.sort((a, b) => compareUtf8(a.name, b.name));
}

/** Compares strings in UTF-8 byte order (Go's string order), which JS `<` gets wrong above U+FFFF. */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    const sa = ca >= 0xd800 && ca <= 0xdfff;
    const sb = cb >= 0xd800 && cb <= 0xdfff;
    if (sa === sb) return ca < cb ? -1 : 1;
    return sa ? 1 : -1;
  }
  return a.length - b.length;
}

/**
 * A growable protobuf writer for WriteRequests. `finish()` returns the encoded bytes and resets the
 * writer, so one instance can encode many requests without reallocating.
 */
export class WriteRequestEncoder {
  private buf: Buffer;
  private pos = 0;

  constructor(initialCapacity = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(64, initialCapacity));
  }

  /** Appends one TimeSeries. */
  addSeries(series: SeriesInput): this {
    const labels = encodeLabels(series.labels);
    const samples = series.samples ?? [];
    const exemplars = series.exemplars ?? [];
    let bodyLen = labels.length;
    for (const s of samples) {
      const n = sampleLen(s.t);
      bodyLen += 1 + uvarintLen(n) + n;
    }
    const exLabels: Buffer[] = [];
    for (const e of exemplars) {
      const l = encodeLabels(e.labels ?? [], TAG_EXEMPLAR_LABELS);
      exLabels.push(l);
      const n = l.length + 9 + 1 + int64Len(e.t);
      bodyLen += 1 + uvarintLen(n) + n;
    }
    this.ensure(1 + 10 + bodyLen);
    this.byte(TAG_WR_TIMESERIES);
    this.uvarint(bodyLen);
    this.bytes(labels, 0, labels.length);
    for (const s of samples) this.sample(s.t, s.v, s.bits);
    exemplars.forEach((e, i) => {
      const l = exLabels[i]!;
      this.byte(TAG_TS_EXEMPLARS);
      this.uvarint(l.length + 9 + 1 + int64Len(e.t));
      this.bytes(l, 0, l.length);
      this.byte(TAG_EXEMPLAR_VALUE);
      this.double(e.v, e.bits);
      this.byte(TAG_EXEMPLAR_TS);
      this.int64(e.t);
    });
    return this;
  }

  /**
   * Hot path for generators: appends a TimeSeries with one sample, whose label field bytes were
   * produced once by `encodeLabels` (`labels[start, end)`).
   */
  addSeriesSample(labels: Uint8Array, start: number, end: number, t: number, v: number, bits?: bigint): this {
    const n = sampleLen(t);
    const bodyLen = end - start + 1 + 1 + n; // sample length always fits one varint byte
    this.ensure(1 + 5 + bodyLen);
    this.byte(TAG_WR_TIMESERIES);
    this.uvarint(bodyLen);
    this.bytes(labels, start, end);
    this.sample(t, v, bits);
    return this;
  }

  addMetadata(m: MetadataInput): this {
    const type = typeof m.type === 'number' ? m.type : METRIC_TYPES[m.type];
    const name = Buffer.from(m.metricFamilyName, 'utf8');
    const help = Buffer.from(m.help ?? '', 'utf8');
    const unit = Buffer.from(m.unit ?? '', 'utf8');
    let len = 0;
    if (type) len += 1 + uvarintLen(type);
    if (name.length) len += 1 + uvarintLen(name.length) + name.length;
    if (help.length) len += 1 + uvarintLen(help.length) + help.length;
    if (unit.length) len += 1 + uvarintLen(unit.length) + unit.length;
    this.ensure(1 + 5 + len);
    this.byte(TAG_WR_METADATA);
    this.uvarint(len);
    if (type) {
      this.byte(0x08); // type = 1, VARINT
      this.uvarint(type);
    }
    if (name.length) this.lenField(0x12, name); // metric_family_name = 2
    if (help.length) this.lenField(0x22, help); // help = 4
    if (unit.length) this.lenField(0x2a, unit); // unit = 5
    return this;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  /** Returns a copy of the encoded request and resets the writer. */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.pos = 0;
    return out;
  }

  private sample(t: number | bigint, v: number, bits: bigint | undefined): void {
    this.byte(TAG_TS_SAMPLES);
    this.byte(sampleLen(t));
    this.byte(TAG_SAMPLE_VALUE);
    this.double(v, bits);
    this.byte(TAG_SAMPLE_TS);
    this.int64(t);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  private bytes(src: Uint8Array, start: number, end: number): void {
    this.buf.set(src.subarray(start, end), this.pos);
    this.pos += end - start;
  }

  private lenField(tag: number, data: Buffer): void {
    this.ensure(1 + 5 + data.length);
    this.byte(tag);
    this.uvarint(data.length);
    this.bytes(data, 0, data.length);
  }

  private uvarint(n: number): void {
    while (n >= 128) {
      this.buf[this.pos++] = (n % 128) | 128;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  private int64(t: number | bigint): void {
    if (typeof t === 'number' && t >= 0) {
      this.uvarint(t);
      return;
    }
    let u = BigInt.asUintN(64, BigInt(t));
    while (u >= 128n) {
      this.buf[this.pos++] = Number(u & 127n) | 128;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  private double(v: number, bits: bigint | undefined): void {
    if (bits !== undefined) this.buf.writeBigUInt64LE(BigInt.asUintN(64, bits), this.pos);
    else this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
}

function sampleLen(t: number | bigint): number {
  return 9 + 1 + int64Len(t);
}

/**
 * Encodes a label set as the repeated `labels` field entries of a TimeSeries (tag 1 + length +
 * Label, once per label). Records are sorted by name; arrays keep their order.
 */
export function encodeLabels(labels: LabelsInput, tag = TAG_TS_LABELS): Buffer {
  const ls = orderedLabels(labels);
  const parts: Buffer[] = [];
  let total = 0;
  for (const l of ls) {
    const name = Buffer.from(l.name, 'utf8');
    const value = Buffer.from(l.value, 'utf8');
    // proto3 omits empty strings; Prometheus's gogo encoder does the same.
    const inner =
      (name.length ? 1 + uvarintLen(name.length) + name.length : 0) + (value.length ? 1 + uvarintLen(value.length) + value.length : 0);
    const head = Buffer.allocUnsafe(1 + uvarintLen(inner));
    head[0] = tag;
    writeUvarint(head, 1, inner);
    parts.push(head);
    if (name.length) parts.push(lenPrefixed(TAG_LABEL_NAME, name));
    if (value.length) parts.push(lenPrefixed(TAG_LABEL_VALUE, value));
    total += head.length + inner;
  }
  return Buffer.concat(parts, total);
}

function lenPrefixed(tag: number, data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(1 + uvarintLen(data.length) + data.length);
  out[0] = tag;
  const p = writeUvarint(out, 1, data.length);
  data.copy(out, p);
  return out;
}

function writeUvarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 128) {
    buf[pos++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

/** Serializes a `prometheus.WriteRequest` (not compressed). */
export function encodeWriteRequest(series: readonly SeriesInput[], metadata: readonly MetadataInput[] = []): Buffer {
  const enc = new WriteRequestEncoder(256 + series.length * 256);
  for (const s of series) enc.addSeries(s);
  for (const m of metadata) enc.addMetadata(m);
  return enc.finish();
}

// ---------------------------------------------------------------------------------------------
// Snappy (block format, as remote write uses)

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export function snappyCompress(data: Uint8Array): Buffer {
  return asBuffer(snappy.compress(asBuffer(data)));
}

/** Uncompresses a snappy block; `maxLength` guards against decompression bombs (default 64 MiB). */
export function snappyUncompress(data: Uint8Array, maxLength = 64 << 20): Buffer {
  return asBuffer(snappy.uncompress(asBuffer(data), maxLength));
}

/** encodeWriteRequest + snappyCompress: a ready remote-write body. */
export function encodeWriteBody(series: readonly SeriesInput[], metadata: readonly MetadataInput[] = []): Buffer {
  return snappyCompress(encodeWriteRequest(series, metadata));
}

// ---------------------------------------------------------------------------------------------
// Decoding (hand-rolled; unknown fields of any wire type are skipped)

class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** Reads a varint as two 32-bit halves. */
  varint64(): [lo: number, hi: number] {
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) throw new Error('protobuf: truncated varint');
      const b = this.buf[this.pos++]!;
      const bits = b & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >> 4;
      } else hi |= bits << (shift - 32);
      if (b < 0x80) return [lo >>> 0, hi >>> 0];
    }
    throw new Error('protobuf: varint too long');
  }

  uint(): number {
    const [lo, hi] = this.varint64();
    return hi * TWO_POW_32 + lo;
  }

  int64(): number {
    const [lo, hi] = this.varint64();
    return hi >= 0x80000000 ? (hi - TWO_POW_32) * TWO_POW_32 + lo : hi * TWO_POW_32 + lo;
  }

  fixed64(): bigint {
    if (this.pos + 8 > this.end) throw new Error('protobuf: truncated fixed64');
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  sub(): Reader {
    const len = this.uint();
    if (this.pos + len > this.end) throw new Error('protobuf: truncated length-delimited field');
    const r = new Reader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }

  string(): string {
    const r = this.sub();
    return this.buf.toString('utf8', r.pos, r.end);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint64();
        break;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.sub();
        break;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new Error(`protobuf: unsupported wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new Error('protobuf: truncated field');
  }
}

function bitsToFloat(bits: bigint): number {
  SCRATCH_U64[0] = bits;
  return SCRATCH_F64[0]!;
}

function decodeLabel(r: Reader): Label {
  let name = '';
  let value = '';
  while (r.pos < r.end) {
    const key = r.uint();
    if (key === 0x0a) name = r.string();
    else if (key === 0x12) value = r.string();
    else r.skip(key & 7);
  }
  return { name, value };
}

function decodeSampleLike(r: Reader, valueTag: number, tsTag: number, labels?: Label[]): DecodedSample {
  let t = 0;
  let bits = 0n;
  while (r.pos < r.end) {
    const key = r.uint();
    if (key === valueTag) bits = r.fixed64();
    else if (key === tsTag) t = r.int64();
    else if (labels && key === 0x0a) labels.push(decodeLabel(r.sub()));
    else r.skip(key & 7);
  }
  return { t, v: bitsToFloat(bits), bits };
}

/** Decodes an uncompressed WriteRequest; see `decodeWriteBody` for a snappy body. */
export function decodeWriteRequest(data: Uint8Array): DecodedWriteRequest {
  const buf = asBuffer(data);
  const r = new Reader(buf, 0, buf.length);
  const out: DecodedWriteRequest = { timeseries: [], metadata: [] };
  let histogramType: protobuf.Type | undefined;
  while (r.pos < r.end) {
    const key = r.uint();
    if (key === TAG_WR_TIMESERIES) {
      const ts = r.sub();
      const series: DecodedSeries = { labels: [], samples: [], exemplars: [], histograms: [] };
      while (ts.pos < ts.end) {
        const k = ts.uint();
        if (k === TAG_TS_LABELS) series.labels.push(decodeLabel(ts.sub()));
        else if (k === TAG_TS_SAMPLES) series.samples.push(decodeSampleLike(ts.sub(), TAG_SAMPLE_VALUE, TAG_SAMPLE_TS));
        else if (k === TAG_TS_EXEMPLARS) {
          const labels: Label[] = [];
          const s = decodeSampleLike(ts.sub(), TAG_EXEMPLAR_VALUE, TAG_EXEMPLAR_TS, labels);
          series.exemplars.push({ ...s, labels });
        } else if (k === 0x22) {
          const h = ts.sub();
          histogramType ??= protoRoot().lookupType('prometheus.Histogram');
          const msg = histogramType.decode(buf.subarray(h.pos, h.end));
          series.histograms.push(histogramType.toObject(msg, { longs: Number, enums: Number, defaults: true, oneofs: true }));
        } else ts.skip(k & 7);
      }
      out.timeseries.push(series);
    } else if (key === TAG_WR_METADATA) {
      const m = r.sub();
      const md: DecodedMetadata = { type: 0, metricFamilyName: '', help: '', unit: '' };
      while (m.pos < m.end) {
        const k = m.uint();
        if (k === 0x08) md.type = m.uint();
        else if (k === 0x12) md.metricFamilyName = m.string();
        else if (k === 0x22) md.help = m.string();
        else if (k === 0x2a) md.unit = m.string();
        else m.skip(k & 7);
      }
      out.metadata.push(md);
    } else r.skip(key & 7);
  }
  return out;
}

/** Uncompresses (snappy) and decodes a remote-write body. */
export function decodeWriteBody(body: Uint8Array, maxLength?: number): DecodedWriteRequest {
  return decodeWriteRequest(snappyUncompress(body, maxLength));
}

/** Label array → record (for assertions). */
export function labelsToRecord(labels: readonly Label[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) out[l.name] = l.value;
  return out;
}

// ---------------------------------------------------------------------------------------------
// protobufjs view of proto/prometheus

/** Absolute path of proto/prometheus. */
export const PROMETHEUS_PROTO_DIR = path.resolve(__dirname, '../../proto/prometheus');

let root: protobuf.Root | undefined;

/** proto/prometheus/{remote,types}.proto loaded with protobufjs (types under `prometheus.`). */
export function protoRoot(): protobuf.Root {
  if (!root) {
    const r = new protobuf.Root();
    r.resolvePath = (_origin, target) => path.join(PROMETHEUS_PROTO_DIR, path.basename(target));
    r.loadSync('remote.proto');
    r.resolveAll();
    root = r;
  }
  return root;
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface PushOptions {
  /** Sent as X-Scope-OrgID. */
  tenant?: string;
  basicAuth?: { user: string; pass: string };
  /** Extra headers; they replace the defaults, and `undefined` removes a default header. */
  headers?: Record<string, string | undefined>;
  /** Default 30 s. */
  timeoutMs?: number;
  /** Default POST. */
  method?: string;
  agent?: http.Agent;
}

export interface PushResult {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

export const DEFAULT_PUSH_HEADERS: Readonly<Record<string, string>> = {
  'Content-Encoding': 'snappy',
  'Content-Type': 'application/x-protobuf',
  'User-Agent': 'strata-test-client/0.1',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
};

/**
 * POSTs `body` as is (normally a snappy-compressed WriteRequest, see encodeWriteBody) with the
 * remote-write 1.0 headers. Never throws on HTTP status; rejects on network errors and timeouts.
 */
export function push(url: string, body: Uint8Array, opts: PushOptions = {}): Promise<PushResult> {
  const headers: Record<string, string> = {};
  const set = (k: string, v: string | undefined): void => {
    for (const existing of Object.keys(headers)) if (existing.toLowerCase() === k.toLowerCase()) delete headers[existing];
    if (v !== undefined) headers[k] = v;
  };
  for (const [k, v] of Object.entries(DEFAULT_PUSH_HEADERS)) set(k, v);
  if (opts.tenant !== undefined) set('X-Scope-OrgID', opts.tenant);
  if (opts.basicAuth) set('Authorization', `Basic ${Buffer.from(`${opts.basicAuth.user}:${opts.basicAuth.pass}`).toString('base64')}`);
  for (const [k, v] of Object.entries(opts.headers ?? {})) set(k, v);
  set('Content-Length', String(body.byteLength));

  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'POST', headers, agent: opts.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`push ${url}: timed out after ${opts.timeoutMs ?? 30_000} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Encodes, compresses and pushes `series` (and `metadata`) in one request. */
export function pushSeries(
  url: string,
  series: readonly SeriesInput[],
  opts: PushOptions & { metadata?: readonly MetadataInput[] } = {},
): Promise<PushResult> {
  return push(url, encodeWriteBody(series, opts.metadata), opts);
}
