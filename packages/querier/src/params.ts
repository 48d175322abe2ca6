/**
 * Request parameters of the Prometheus HTTP API, parsed as Prometheus 2.42 parses them
 * (`web/api/v1/api.go` parseTime/parseDuration, Go's `strconv.ParseFloat`, `time.Parse(RFC3339Nano)`,
 * `url.ParseQuery`, `prometheus/common` model.ParseDuration), with Prometheus' error texts.
 */
import { ApiError, goQuote, invalidParamError } from './errors';

// ---------------------------------------------------------------------------------------------
// Form values (Go's url.ParseQuery / http.Request.ParseForm)

/** Parameter values by name, in request order: POST body values first, then URL query values. */
export type FormValues = Map<string, string[]>;

const HEX_PAIR_RE = /^[0-9a-fA-F]{2}$/;

/** Go's `url.QueryUnescape`: `+` is a space, `%XX` a byte; throws on a bad escape. */
function queryUnescape(s: string): string {
  if (s.indexOf('%') < 0) return s.indexOf('+') < 0 ? s : s.replace(/\+/g, ' ');
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hex = s.slice(i + 1, i + 3);
      if (!HEX_PAIR_RE.test(hex)) throw new Error(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c === 0x2b) {
      bytes.push(0x20);
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      // Non-ASCII in a raw query is rare; encode the code point as UTF-8.
      const cp = s.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Adds the pairs of an `application/x-www-form-urlencoded` string to `into`, as Go's
 * `url.ParseQuery`: pairs with a `;` or a bad `%` escape are skipped. Returns the first error text.
 */
export function parseUrlEncoded(query: string, into: FormValues): string | undefined {
  let firstErr: string | undefined;
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf('&', start);
    if (end < 0) end = query.length;
    const pair = query.slice(start, end);
    start = end + 1;
    if (pair.includes(';')) {
      firstErr ??= 'invalid semicolon separator in query';
      continue;
    }
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    let key: string;
    let value: string;
    try {
      key = queryUnescape(eq < 0 ? pair : pair.slice(0, eq));
      value = eq < 0 ? '' : queryUnescape(pair.slice(eq + 1));
    } catch (e) {
      firstErr ??= (e as Error).message;
      continue;
    }
    const vs = into.get(key);
    if (vs === undefined) into.set(key, [value]);
    else vs.push(value);
  }
  return firstErr;
}

/** Go's `Request.FormValue`: the first value, or "". */
export function formValue(form: FormValues, name: string): string {
  const vs = form.get(name);
  return vs === undefined || vs.length === 0 ? '' : vs[0]!;
}

// ---------------------------------------------------------------------------------------------
// Numbers (Go's strconv)

const SPECIAL_FLOAT_RE = /^(?:([+-]?)(inf|infinity)|nan)$/i;
const DEC_DIGITS = '\\d(?:_?\\d)*';
const DEC_FLOAT_RE = new RegExp(
  `^[+-]?(?:${DEC_DIGITS}(?:\\.(?:${DEC_DIGITS})?)?|\\.${DEC_DIGITS})(?:[eE][+-]?${DEC_DIGITS})?$`,
);
const HEX_DIGITS = '[0-9a-fA-F](?:_?[0-9a-fA-F])*';
const HEX_FLOAT_RE = new RegExp(
  `^([+-]?)0[xX](?:_?(${HEX_DIGITS})(?:\\.(${HEX_DIGITS})?)?|\\.(${HEX_DIGITS}))[pP]([+-]?${DEC_DIGITS})$`,
);

/**
 * Go's `strconv.ParseFloat(s, 64)`: decimal and hexadecimal (`0x1p-2`) literals with `_` between
 * digits, `inf`/`infinity` with a sign, `nan`. Returns undefined where Go returns an error
 * (syntax, or a finite literal that overflows to ±Inf).
 */
export function parseGoFloat(s: string): number | undefined {
  if (DEC_FLOAT_RE.test(s)) {
    const v = Number(s.indexOf('_') < 0 ? s : s.replace(/_/g, ''));
    return Number.isFinite(v) ? v : undefined;
  }
  const sp = SPECIAL_FLOAT_RE.exec(s);
  if (sp !== null) {
    if (sp[2] === undefined) return NaN;
    return sp[1] === '-' ? -Infinity : Infinity;
  }
  const hx = HEX_FLOAT_RE.exec(s);
  if (hx !== null) {
    const intPart = (hx[2] ?? '').replace(/_/g, '');
    const fracPart = (hx[3] ?? hx[4] ?? '').replace(/_/g, '');
    const exp = Number(hx[5]!.replace(/_/g, '')) - 4 * fracPart.length;
    const mant = Number(BigInt('0x' + (intPart + fracPart || '0')));
    const v = mant * Math.pow(2, exp);
    if (!Number.isFinite(v) && mant !== 0) return undefined;
    return hx[1] === '-' ? -v : v;
  }
  return undefined;
}

const INT_RE = /^[+-]?\d+$/;
const MAX_INT64 = 9223372036854775807n;
const MIN_INT64 = -9223372036854775808n;

/** Go's `strconv.Atoi` on a 64-bit platform; undefined where Go returns an error. */
export function parseGoInt(s: string): number | undefined {
  if (!INT_RE.test(s)) return undefined;
  const b = BigInt(s);
  if (b > MAX_INT64 || b < MIN_INT64) return undefined;
  return Number(b);
}

// ---------------------------------------------------------------------------------------------
// Time

/** An instant as Go's time.Time holds it: whole seconds and nanoseconds in [0, 1e9). */
export interface PromTime {
  readonly sec: number;
  readonly nsec: number;
}

/** Prometheus' `minTime`/`maxTime` (the defaults of `start`/`end` on the metadata endpoints). */
export const MIN_TIME: PromTime = { sec: -9223309901257974, nsec: 0 };
export const MAX_TIME: PromTime = { sec: 9223309901257974, nsec: 999999999 };
/** `minTime.Format(time.RFC3339Nano)`, which clients (client_golang) send back. */
export const MIN_TIME_FORMATTED = '-292273086-05-16T16:47:06Z';
export const MAX_TIME_FORMATTED = '292277025-08-18T07:12:54.999999999Z';

/** time.Time → ms as Prometheus' `timestamp.FromTime` (storage, /series, /labels): floor. */
export function toMillis(t: PromTime): number {
  return t.sec * 1000 + Math.floor(t.nsec / 1e6);
}

/** time.Time → ms as the PromQL engine takes it (`UnixNano() / 1e6`): truncated toward zero. */
export function toEngineMillis(t: PromTime): number {
  const ms = Math.floor(t.nsec / 1e6);
  return t.sec * 1000 + (t.sec < 0 && ms * 1e6 !== t.nsec ? ms + 1 : ms);
}

/** ms since epoch → PromTime. */
export function fromMillis(ms: number): PromTime {
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: Math.round((ms - sec * 1000) * 1e6) };
}

export function timeBefore(a: PromTime, b: PromTime): boolean {
  return a.sec < b.sec || (a.sec === b.sec && a.nsec < b.nsec);
}

/** Go's `math.Round`: half away from zero. */
function goRound(x: number): number {
  const r = Math.trunc(x);
  return Math.abs(x - r) >= 0.5 ? r + Math.sign(x) : r;
}

/** Go's `time.Unix(sec, nsec)` normalisation. */
function unix(sec: number, nsec: number): PromTime {
  if (nsec < 0 || nsec >= 1e9) {
    const n = Math.floor(nsec / 1e9);
    sec += n;
    nsec -= n * 1e9;
  }
  return { sec: sec + 0, nsec: nsec + 0 }; // + 0 turns -0 into 0
}

// RFC3339Nano as Go 1.19's time.Parse reads it: 1-2 digit hour, 1-9 fraction digits after `.` or
// `,`, `Z` or a ±hh:mm offset (not range-checked), no trailing text.
const RFC3339_RE =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function parseRfc3339(s: string): PromTime | undefined {
  const m = RFC3339_RE.exec(s);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const min = Number(m[5]);
  const sec = Number(m[6]);
  if (month < 1 || month > 12 || hour >= 24 || min >= 60 || sec >= 60) return undefined;
  const dim = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day < 1 || day > dim) return undefined;
  let offset = 0;
  if (m[8] !== undefined) {
    offset = (Number(m[9]) * 3600 + Number(m[10]) * 60) * (m[8] === '-' ? -1 : 1);
  }
  const nsec = m[7] === undefined ? 0 : Number(m[7].padEnd(9, '0'));
  return { sec: daysFromCivil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec - offset, nsec };
}

/** Error of a parameter parser; the API wraps its message as Prometheus does. */
export class ParamParseError extends Error {
  override name = 'ParamParseError';
}

/**
 * Prometheus' `parseTime`: float unix seconds (rounded to ms), RFC3339Nano, or the formatted
 * min/max times. Non-finite floats are refused (Prometheus turns them into arbitrary instants).
 */
export function parseTime(s: string): PromTime {
  const f = parseGoFloat(s);
  if (f !== undefined && Number.isFinite(f) && Math.abs(f) < 9.2e18) {
    const whole = Math.trunc(f);
    const frac = goRound((f - whole) * 1000) / 1000;
    return unix(whole, Math.trunc(frac * 1e9));
  }
  if (f === undefined) {
    const t = parseRfc3339(s);
    if (t !== undefined) return t;
    if (s === MIN_TIME_FORMATTED) return MIN_TIME;
    if (s === MAX_TIME_FORMATTED) return MAX_TIME;
  }
  throw new ParamParseError(`cannot parse ${goQuote(s)} to a valid timestamp`);
}

// ---------------------------------------------------------------------------------------------
// Durations

const MAX_INT64_F = 9223372036854775807; // rounds to 2^63, as Go's float64(math.MaxInt64)
const MODEL_DURATION_RE =
  /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
/** Milliseconds per unit of the groups above. */
const UNIT_MS = [31536000000n, 604800000n, 86400000n, 3600000n, 60000n, 1000n, 1n];

/** prometheus/common `model.ParseDuration` in ns; undefined where it errors. */
function parseModelDuration(s: string): number | undefined {
  if (s === '0') return 0;
  if (s === '') return undefined;
  const m = MODEL_DURATION_RE.exec(s);
  if (m === null) return undefined;
  let total = 0n;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const g = m[i + 1];
    if (g === undefined) continue;
    const n = BigInt(g);
    const mult = UNIT_MS[i]!;
    if (n > MAX_INT64 / mult / 1000000n) return undefined;
    total += n * mult * 1000000n;
    if (total > MAX_INT64) return undefined;
  }
  return Number(total);
}

/**
 * Prometheus' `parseDuration`, in nanoseconds: float seconds, or a Prometheus duration
 * (`1h30m`, `5m`, `1d`, `1w`, `1y`, `500ms`). NaN seconds give Go's int64(NaN) on amd64 (the
 * minimum int64), so `step=nan` is refused as a negative step, as by Prometheus.
 */
export function parseDuration(s: string): number {
  const f = parseGoFloat(s);
  if (f !== undefined) {
    const ns = f * 1e9;
    if (ns > MAX_INT64_F || ns < -MAX_INT64_F) {
      throw new ParamParseError(`cannot parse ${goQuote(s)} to a valid duration. It overflows int64`);
    }
    // Go's int64(f) on amd64 gives the minimum int64 for NaN and for exactly 2^63.
    if (Number.isNaN(ns) || ns === MAX_INT64_F) return -MAX_INT64_F;
    return Math.trunc(ns);
  }
  const d = parseModelDuration(s);
  if (d !== undefined) return d;
  throw new ParamParseError(`cannot parse ${goQuote(s)} to a valid duration`);
}

// ---------------------------------------------------------------------------------------------
// Parameter helpers with Prometheus' error wording

/** A time parameter that has a default (`parseTimeParam`): `time`, and `start`/`end` of metadata endpoints. */
export function timeParam(form: FormValues, name: string, dflt: PromTime): PromTime {
  const v = formValue(form, name);
  if (v === '') return dflt;
  try {
    return parseTime(v);
  } catch (e) {
    throw invalidParamError(name, `Invalid time value for '${name}': ${(e as Error).message}`);
  }
}

/** A required time parameter (`start`/`end` of query_range). */
export function requiredTimeParam(form: FormValues, name: string): PromTime {
  try {
    return parseTime(formValue(form, name));
  } catch (e) {
    throw invalidParamError(name, (e as Error).message);
  }
}

/** A duration parameter in ns (`step`, `timeout`). */
export function durationParam(form: FormValues, name: string): number {
  try {
    return parseDuration(formValue(form, name));
  } catch (e) {
    throw invalidParamError(name, (e as Error).message);
  }
}

export const MAX_POINTS_PER_SERIES = 11000;

/**
 * Checks `start`/`end`/`step` of a range query as Prometheus does and returns the step in ms
 * (truncated, like the engine's `durationMilliseconds`). A step that is positive but below 1 ms
 * is refused as a zero step (Prometheus' engine fails it with a division by zero).
 */
export function checkRangeParams(start: PromTime, end: PromTime, stepNs: number): number {
  if (timeBefore(end, start)) {
    throw invalidParamError('end', 'end timestamp must not be before start time');
  }
  const zeroStep = (): ApiError =>
    invalidParamError('step', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
  if (stepNs <= 0) throw zeroStep();
  // end.Sub(start) saturates at the largest time.Duration; Duration / Duration is integer division.
  let diff = (BigInt(end.sec) - BigInt(start.sec)) * 1000000000n + BigInt(end.nsec - start.nsec);
  if (diff > MAX_INT64) diff = MAX_INT64;
  if (diff / BigInt(stepNs) > BigInt(MAX_POINTS_PER_SERIES)) {
    throw new ApiError(
      'bad_data',
      'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    );
  }
  const stepMs = Math.trunc(stepNs / 1e6);
  if (stepMs <= 0) throw zeroStep();
  return stepMs;
}

// ---------------------------------------------------------------------------------------------
// Label names

const LEGACY_LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A classic Prometheus label name (`model.LabelNameRE`). */
export function isLegacyLabelName(name: string): boolean {
  return LEGACY_LABEL_NAME_RE.test(name);
}

/**
 * Reverses the `U__` escaping of label names (prometheus/common `UnescapeName` with
 * ValueEncodingEscaping): `__` is `_`, `_<hex>_` is that code point. Returns `name` unchanged
 * when it is not escaped or the escape is invalid, as Prometheus does.
 */
export function unescapeLabelName(name: string): string {
  if (!name.startsWith('U__')) return name;
  const esc = name.slice(3);
  let out = '';
  for (let i = 0; i < esc.length; i++) {
    const ch = esc[i]!;
    if (ch !== '_') {
      out += ch;
      continue;
    }
    i++;
    if (i >= esc.length) return name;
    if (esc[i] === '_') {
      out += '_';
      continue;
    }
    let cp = 0;
    let closed = false;
    for (let j = 0; i < esc.length; j++, i++) {
      if (j >= 6) return name;
      const h = esc[i]!;
      if (h === '_') {
        closed = true;
        break;
      }
      const d = parseInt(h, 16);
      if (Number.isNaN(d)) return name;
      cp = cp * 16 + d;
    }
    if (!closed || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return name;
    out += String.fromCodePoint(cp);
  }
  return out;
}

/**
 * The label name of `/label/<name>/values`: the `U__` form is unescaped; the result must be a
 * classic name or, when it came from an escape, any non-empty name.
 */
export function labelNameParam(raw: string): string {
  const name = unescapeLabelName(raw);
  if (isLegacyLabelName(name) || (name !== raw && name !== '')) return name;
  throw new ApiError('bad_data', `invalid label name: ${goQuote(name)}`);
}
