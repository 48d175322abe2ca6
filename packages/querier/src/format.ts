/**
 * JSON of the Prometheus HTTP API, byte for byte as Prometheus 2.42 writes it (jsoniter with
 * `ConfigCompatibleWithStandardLibrary`, i.e. Go's encoding/json rules, plus Prometheus' own
 * encoders for points). Query results are written by hand into one string: this is the hot path
 * of the read side.
 */
import type { Labels } from '@strata/tsdb-core';
import type { QueryResult } from './engine';

// ---------------------------------------------------------------------------------------------
// Strings

const HEX = '0123456789abcdef';
const NEEDS_ESCAPE_RE = /["\\<>&\u0000-\u001f\u2028\u2029\ud800-\udfff]/;

/**
 * A JSON string literal as Go's encoding/json writes it with HTML escaping: `\"`, `\\`, `\n`, `\r`,
 * `\t`, other control characters as `\u00XX` (Go 1.19: no `\b`/`\f`), `<`, `>`, `&`, U+2028 and
 * U+2029 as `\uXXXX`, and invalid UTF-16 (lone surrogates; invalid UTF-8 in Go) as `\ufffd`.
 */
export function jsonString(s: string): string {
  if (!NEEDS_ESCAPE_RE.test(s)) return '"' + s + '"';
  let out = '"';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string;
    if (c < 0x20) {
      rep = c === 0x0a ? '\\n' : c === 0x0d ? '\\r' : c === 0x09 ? '\\t' : '\\u00' + HEX[c >> 4] + HEX[c & 15];
    } else if (c === 0x22) rep = '\\"';
    else if (c === 0x5c) rep = '\\\\';
    else if (c === 0x3c) rep = '\\u003c';
    else if (c === 0x3e) rep = '\\u003e';
    else if (c === 0x26) rep = '\\u0026';
    else if (c === 0x2028) rep = '\\u2028';
    else if (c === 0x2029) rep = '\\u2029';
    else if (c >= 0xd800 && c <= 0xdfff) {
      if (c <= 0xdbff && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          i++; // a valid pair: written as is
          continue;
        }
      }
      rep = '\\ufffd';
    } else continue;
    out += s.slice(last, i) + rep;
    last = i + 1;
  }
  return out + s.slice(last) + '"';
}

// ---------------------------------------------------------------------------------------------
// Numbers

/**
 * A sample value of a vector or matrix: Go's `strconv.FormatFloat(v, 'f' or 'e', -1, 64)`, the
 * exponent form when |v| < 1e-6 or |v| >= 1e21 (`1e-07`, `1.5e+21`), and `NaN`, `+Inf`, `-Inf`, `-0`.
 * JS's shortest round-trip form switches to exponents at the same bounds; only the exponent
 * needs its second digit.
 */
export function formatSampleValue(v: number): string {
  if (v !== v) return 'NaN';
  if (v === 0) return 1 / v < 0 ? '-0' : '0';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = String(v);
  const e = s.indexOf('e');
  // "1e-7" → "1e-07"; "1e+21" and three-digit exponents stay.
  return e < 0 || s.length - e !== 3 ? s : s.slice(0, e + 2) + '0' + s[e + 2];
}

/** A scalar result value: Go's `strconv.FormatFloat(v, 'f', -1, 64)`, never an exponent. */
export function formatScalarValue(v: number): string {
  if (v !== v) return 'NaN';
  if (v === 0) return 1 / v < 0 ? '-0' : '0';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  // Shortest digits and exponent, then fixed notation.
  const neg = s[0] === '-';
  const mant = s.slice(neg ? 1 : 0, e);
  const exp = Number(s.slice(e + 1));
  const digits = mant.replace('.', '');
  let out: string;
  if (exp >= digits.length - 1) out = digits + '0'.repeat(exp - (digits.length - 1));
  else if (exp < 0) out = '0.' + '0'.repeat(-exp - 1) + digits;
  else out = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  return neg ? '-' + out : out;
}

/**
 * A timestamp (ms) of a vector or matrix point, as Prometheus' marshalTimestamp: integer seconds,
 * then `.` and exactly three digits when the ms part is not zero (`1700000000.050`, `-1.500`).
 */
export function formatPointTimestamp(t: number): string {
  let sign = '';
  if (t < 0) {
    sign = '-';
    t = -t;
  }
  const ms = t % 1000;
  const secs = (t - ms) / 1000;
  if (ms === 0) return sign + secs;
  return sign + secs + (ms < 10 ? '.00' : ms < 100 ? '.0' : '.') + ms;
}

/**
 * A timestamp (ms) of a scalar or string result: `float64(t)/1000` through encoding/json, whose
 * shortest form equals JS's for these magnitudes (`1700000000.5`, `-1.5`, `0`).
 */
export function formatFloatTimestamp(t: number): string {
  return String(t / 1000 + 0);
}

// ---------------------------------------------------------------------------------------------
// Query results

/** `{"name":"value",…}`; Labels are sorted by name in UTF-8 byte order, as Go sorts map keys. */
export function labelsJson(ls: Labels): string {
  if (ls.length === 0) return '{}';
  let out = '{';
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i]!;
    if (i > 0) out += ',';
    out += jsonString(l.name) + ':' + jsonString(l.value);
  }
  return out + '}';
}

/** Writes the digits of an int32 n >= 0 at b[p], left-padded with zeros to `width`; the new end. */
function writeInt32Digits(b: Buffer, p: number, n: number, width: number): number {
  let len = 1;
  for (let x = n; x >= 10; x = (x / 10) | 0) len++;
  if (len < width) len = width;
  const end = p + len;
  for (let i = end - 1; i >= p; i--) {
    const q = (n / 10) | 0;
    b[i] = 48 + n - q * 10;
    n = q;
  }
  return end;
}

/** Writes the digits of an integer 0 <= n < 2^53 at b[p] with int32 arithmetic only; the new end. */
function writeDigits(b: Buffer, p: number, n: number): number {
  if (n < 2147483648) return writeInt32Digits(b, p, n | 0, 0);
  const hi = Math.floor(n / 1e9);
  return writeInt32Digits(b, writeDigits(b, p, hi), (n - hi * 1e9) | 0, 9);
}

/** Size of the Buffers a BodyWriter fills. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Collects a response body as Buffer chunks, written byte by byte: points (timestamps, integer
 * values) are formatted straight into the buffer as ASCII digits, other text is UTF-8 encoded into
 * it. No string is built for the points of a large result.
 */
export class BodyWriter {
  private readonly done: Buffer[] = [];
  private doneBytes = 0;
  private buf: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private pos = 0;

  /** The body's Buffers (the writer keeps no state that later writes could change). */
  get chunks(): Buffer[] {
    this.seal();
    return this.done;
  }

  get length(): number {
    return this.doneBytes + this.pos;
  }

  private seal(): void {
    if (this.pos === 0) return;
    this.done.push(this.buf.subarray(0, this.pos));
    this.doneBytes += this.pos;
    this.buf = this.buf.subarray(this.pos);
    this.pos = 0;
  }

  /** Makes room for `n` more bytes. */
  private room(n: number): void {
    if (this.buf.length - this.pos >= n) return;
    this.seal();
    if (this.buf.length < n) this.buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, n));
  }

  /** Appends a string (UTF-8). */
  push(s: string): void {
    if (s.length === 0) return;
    this.room(3 * s.length);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** `[<formatPointTimestamp(t)>,"<formatSampleValue(v)>"]`, after a comma if `comma`. */
  point(t: number, v: number, comma = false): void {
    this.room(64);
    const b = this.buf;
    let p = this.pos;
    if (comma) b[p++] = 0x2c;
    b[p++] = 0x5b; // [
    if (t < 0) {
      b[p++] = 0x2d; // -
      t = -t;
    }
    const ms = t % 1000;
    p = writeDigits(b, p, (t - ms) / 1000);
    if (ms !== 0) {
      b[p++] = 0x2e; // .
      p = writeInt32Digits(b, p, ms, 3);
    }
    b[p++] = 0x2c; // ,
    b[p++] = 0x22; // "
    if (Number.isInteger(v) && v !== 0 && v < 1e15 && v > -1e15) {
      if (v < 0) {
        b[p++] = 0x2d;
        v = -v;
      }
      p = writeDigits(b, p, v);
    } else {
      const str = formatSampleValue(v);
      for (let i = 0; i < str.length; i++) b[p++] = str.charCodeAt(i);
    }
    b[p++] = 0x22; // "
    b[p++] = 0x5d; // ]
    this.pos = p;
  }

  toBuffer(): Buffer {
    const chunks = this.chunks;
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.doneBytes);
  }

  toString(): string {
    return this.toBuffer().toString('utf8');
  }
}

/** Writes the `data` object of /query and /query_range: `{"resultType":…,"result":…}`. */
export function writeQueryData(r: QueryResult, w: BodyWriter): void {
  w.push('{"resultType":"' + r.resultType + '","result":');
  switch (r.resultType) {
    case 'vector': {
      const res = r.result;
      w.push('[');
      for (let i = 0; i < res.length; i++) {
        const s = res[i]!;
        w.push((i > 0 ? ',{"metric":' : '{"metric":') + labelsJson(s.metric) + ',"value":');
        w.point(s.t, s.v);
        w.push('}');
      }
      w.push(']');
      break;
    }
    case 'matrix': {
      const res = r.result;
      w.push('[');
      for (let i = 0; i < res.length; i++) {
        const s = res[i]!;
        const ts = s.ts;
        const vs = s.vs;
        const n = ts.length;
        // Prometheus leaves "values" out of a series without float points.
        w.push((i > 0 ? ',{"metric":' : '{"metric":') + labelsJson(s.metric) + (n > 0 ? ',"values":[' : '}'));
        if (n === 0) continue;
        for (let j = 0; j < n; j++) w.point(ts[j]!, vs[j]!, j > 0);
        w.push(']}');
      }
      w.push(']');
      break;
    }
    case 'scalar':
      w.push('[' + formatFloatTimestamp(r.result.t) + ',"' + formatScalarValue(r.result.v) + '"]');
      break;
    case 'string':
      w.push('[' + formatFloatTimestamp(r.result.t) + ',' + jsonString(r.result.v) + ']');
      break;
  }
  w.push('}');
}

/** The `data` object of /query and /query_range as a string (see writeQueryData). */
export function queryDataJson(r: QueryResult): string {
  const w = new BodyWriter();
  writeQueryData(r, w);
  return w.toString();
}

// ---------------------------------------------------------------------------------------------
// Envelope and other data

/**
 * Generic JSON with Go's encoding rules: strings as `jsonString`, finite numbers in JS's shortest
 * form (encoding/json's float64 form for these), object keys in insertion order (as a Go struct's
 * fields; sort map-like keys before calling), `undefined` members left out.
 */
export function encodeJson(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return jsonString(v);
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`unsupported value: ${v}`);
      return String(v + 0);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) return '[' + v.map((x) => encodeJson(x === undefined ? null : x)).join(',') + ']';
      let out = '{';
      let first = true;
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += jsonString(k) + ':' + encodeJson(x);
      }
      return out + '}';
    }
    default:
      throw new TypeError(`unsupported JSON type: ${typeof v}`);
  }
}

/** `{"status":"success","data":<dataJson>}` */
export function successJson(dataJson: string): string {
  return '{"status":"success","data":' + dataJson + '}';
}

/** `{"status":"error","errorType":…,"error":…}` */
export function errorJson(errorType: string, message: string): string {
  return '{"status":"error","errorType":' + jsonString(errorType) + ',"error":' + jsonString(message) + '}';
}

/** A JSON array of strings (label names or values). */
export function stringArrayJson(xs: readonly string[]): string {
  let out = '[';
  for (let i = 0; i < xs.length; i++) {
    if (i > 0) out += ',';
    out += jsonString(xs[i]!);
  }
  return out + ']';
}
