/**
 * Calendar fields of a Unix time as Go's `time.Unix(int64(v), 0).UTC()` computes them, for the date
 * functions. Values JS Date can represent use it; others (NaN, ±Inf, |v| beyond ~275k years) follow
 * Go exactly: `int64(v)` of NaN/Inf/out-of-range is MinInt64 on amd64, and Go's absolute-time
 * calendar arithmetic wraps in 64 bits.
 */

export interface Civil {
  year: number;
  /** 1–12 */
  month: number;
  /** 1–31 */
  day: number;
  /** 1–366 */
  yday: number;
  hour: number;
  minute: number;
  /** 0 = Sunday */
  weekday: number;
}

const JS_DATE_LIMIT_S = 8.64e12;
const MIN_INT64 = -(2n ** 63n);
const SECONDS_PER_DAY = 86400n;
const UNIX_TO_INTERNAL = (1969n * 365n + 1969n / 4n - 1969n / 100n + 1969n / 400n) * SECONDS_PER_DAY;
const ABSOLUTE_ZERO_YEAR = -292277022399n;
// (absoluteZeroYear - internalYear) * 365.2425 * secondsPerDay, evaluated exactly.
const ABSOLUTE_TO_INTERNAL = (ABSOLUTE_ZERO_YEAR - 1n) * 31556952n;
const UNIX_TO_ABSOLUTE = UNIX_TO_INTERNAL - ABSOLUTE_TO_INTERNAL;
const DAYS_PER_400Y = 146097n;
const DAYS_PER_100Y = 36524n;
const DAYS_PER_4Y = 1461n;
const DAYS_BEFORE = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

function isLeap(y: bigint | number): boolean {
  const b = BigInt(y);
  return b % 4n === 0n && (b % 100n !== 0n || b % 400n === 0n);
}

export function daysIn(month: number, year: number | bigint): number {
  if (month === 2) return isLeap(year) ? 29 : 28;
  return DAYS_BEFORE[month]! - DAYS_BEFORE[month - 1]!;
}

/** Go's `int64(f)` on amd64. */
function goInt64(f: number): bigint {
  if (Number.isNaN(f) || f >= 9223372036854775808 || f < -9223372036854775808) return MIN_INT64;
  return BigInt(Math.trunc(f));
}

export function civilFromUnixSeconds(v: number): Civil {
  if (Number.isFinite(v) && Math.abs(v) <= JS_DATE_LIMIT_S) {
    const d = new Date(Math.trunc(v) * 1000);
    const year = d.getUTCFullYear();
    const month = d.getUTCMonth() + 1;
    const day = d.getUTCDate();
    return {
      year,
      month,
      day,
      yday: DAYS_BEFORE[month - 1]! + day + (month > 2 && isLeap(year) ? 1 : 0),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      weekday: d.getUTCDay(),
    };
  }
  const abs = BigInt.asUintN(64, BigInt.asIntN(64, goInt64(v) + UNIX_TO_ABSOLUTE));
  let d = abs / SECONDS_PER_DAY;
  let n = d / DAYS_PER_400Y;
  let y = 400n * n;
  d -= DAYS_PER_400Y * n;
  n = d / DAYS_PER_100Y;
  n -= n >> 2n;
  y += 100n * n;
  d -= DAYS_PER_100Y * n;
  n = d / DAYS_PER_4Y;
  y += 4n * n;
  d -= DAYS_PER_4Y * n;
  n = d / 365n;
  n -= n >> 2n;
  y += n;
  d -= 365n * n;
  const yearBig = BigInt.asIntN(64, y) + ABSOLUTE_ZERO_YEAR;
  const yday0 = Number(d);
  let day = yday0;
  let month: number;
  if (isLeap(yearBig) && day >= 31 + 29 - 1) {
    if (day === 31 + 29 - 1) {
      month = 2;
      day = 29;
      return finish(abs, Number(yearBig), month, day, yday0);
    }
    day--;
  }
  month = Math.floor(day / 31);
  const end = DAYS_BEFORE[month + 1]!;
  let begin: number;
  if (day >= end) {
    month++;
    begin = end;
  } else {
    begin = DAYS_BEFORE[month]!;
  }
  return finish(abs, Number(yearBig), month + 1, day - begin + 1, yday0);
}

function finish(abs: bigint, year: number, month: number, day: number, yday0: number): Civil {
  const secOfDay = Number(abs % SECONDS_PER_DAY);
  const weekday = Number(((abs + SECONDS_PER_DAY) % (7n * SECONDS_PER_DAY)) / SECONDS_PER_DAY);
  return {
    year,
    month,
    day,
    yday: yday0 + 1,
    hour: Math.floor(secOfDay / 3600),
    minute: Math.floor((secOfDay % 3600) / 60),
    weekday,
  };
}
