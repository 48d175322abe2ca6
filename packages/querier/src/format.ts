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

/** A string this long is turned into bytes: flattening many small ropes early is ~2x faster. */
const FLUSH_CHARS = 16384;

/**
 * Collects a response body as Buffer chunks. Writers append to a local string and hand it over
 * with `push` whenever it exceeds FLUSH_CHARS, so V8 never builds one huge rope.
 */
export class BodyWriter {
  readonly chunks: Buffer[] = [];
  length = 0;

  push(s: string): void {
    if (s.length === 0) return;
    const b = Buffer.from(s, 'utf8');
    this.chunks.push(b);
    this.length += b.length;
  }

  toBuffer(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
  }

  toString(): string {
    return this.toBuffer().toString('utf8');
  }
}

/** Writes the `data` object of /query and /query_range: `{"resultType":…,"result":…}`. */
export function writeQueryData(r: QueryResult, w: BodyWriter): void {
  let out = '{"resultType":"' + r.resultType + '","result":';
  switch (r.resultType) {
    case 'vector': {
      const res = r.result;
      out += '[';
      for (let i = 0; i < res.length; i++) {
        const s = res[i]!;
        if (i > 0) out += ',';
        out +=
          '{"metric":' +
          labelsJson(s.metric) +
          ',"value":[' +
          formatPointTimestamp(s.t) +
          ',"' +
          formatSampleValue(s.v) +
          '"]}';
        if (out.length > FLUSH_CHARS) {
          w.push(out);
          out = '';
        }
      }
      out += ']';
      break;
    }
    case 'matrix': {
      const res = r.result;
      out += '[';
      for (let i = 0; i < res.length; i++) {
        const s = res[i]!;
        if (i > 0) out += ',';
        out += '{"metric":' + labelsJson(s.metric);
        const ts = s.ts;
        const vs = s.vs;
        const n = ts.length;
        // Prometheus leaves "values" out of a series without float points.
        if (n > 0) {
          out += ',"values":[';
          for (let j = 0; j < n; j++) {
            if (j > 0) out += ',';
            out += '[' + formatPointTimestamp(ts[j]!) + ',"' + formatSampleValue(vs[j]!) + '"]';
            if (out.length > FLUSH_CHARS) {
              w.push(out);
              out = '';
            }
          }
          out += ']';
        }
        out += '}';
      }
      out += ']';
      break;
    }
    case 'scalar':
      out += '[' + formatFloatTimestamp(r.result.t) + ',"' + formatScalarValue(r.result.v) + '"]';
      break;
    case 'string':
      out += '[' + formatFloatTimestamp(r.result.t) + ',' + jsonString(r.result.v) + ']';
      break;
  }
  w.push(out + '}');
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
