/**
 * Prometheus durations (`model.ParseDuration` / `model.Duration.String`): `1y2w3d4h5m6s7ms`, each
 * unit at most once and in this order, no fractions; "0" is zero.
 */

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86400000, 7 * 86400000, 86400000, 3600000, 60000, 1000, 1];
/** time.Duration is int64 nanoseconds. */
const MAX_MS = Number((2n ** 63n - 1n) / 1000000n);

/** Parses a duration into ms; throws an Error with Prometheus' message when invalid. */
export function parseDuration(s: string): number {
  if (s === '0') return 0;
  if (s === '') throw new Error('empty duration string');
  const m = DURATION_RE.exec(s);
  if (!m) throw new Error(`not a valid duration string: "${s}"`);
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const g = m[i + 1];
    if (g === undefined) continue;
    const n = Number(g);
    if (n > Math.floor(MAX_MS / UNIT_MS[i]!)) throw new Error('duration out of range');
    ms += n * UNIT_MS[i]!;
    if (ms > MAX_MS) throw new Error('duration out of range');
  }
  return ms;
}

/** Formats ms as Prometheus does (`90d`, `1h30m`, `1y`, `0s`). Years and weeks only when exact. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  const units: [string, number, boolean][] = [
    ['y', UNIT_MS[0]!, true],
    ['w', UNIT_MS[1]!, true],
    ['d', UNIT_MS[2]!, false],
    ['h', UNIT_MS[3]!, false],
    ['m', UNIT_MS[4]!, false],
    ['s', UNIT_MS[5]!, false],
    ['ms', 1, false],
  ];
  for (const [unit, mult, exact] of units) {
    if (exact && rest % mult !== 0) continue;
    const v = Math.floor(rest / mult);
    if (v > 0) {
      out += `${v}${unit}`;
      rest -= v * mult;
    }
  }
  return out;
}
