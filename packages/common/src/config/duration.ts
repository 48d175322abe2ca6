const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/** Parses a Go/Prometheus duration (`1h30m`, `10s`, `500ms`, `0`) into milliseconds; null if invalid. */
export function parseDuration(s: string): number | null {
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos !== s.length || s.length === 0) return null;
  return Math.round(total);
}

/** Formats milliseconds as Prometheus does (`1h30m`, `10s`, `0s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let out = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  for (const [u, f] of [
    ['y', UNITS.y!],
    ['w', UNITS.w!],
    ['d', UNITS.d!],
    ['h', UNITS.h!],
    ['m', UNITS.m!],
    ['s', UNITS.s!],
    ['ms', 1],
  ] as const) {
    if (rest >= f) {
      const n = Math.floor(rest / f);
      out += `${n}${u}`;
      rest -= n * f;
    }
  }
  return out;
}
