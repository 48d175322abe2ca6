/**
 * Translates Go RE2 syntax (what PromQL label matchers and label_replace use) into an equivalent
 * JavaScript RegExp. Hand-written: no npm package implements RE2 semantics in pure JS, and the
 * native `re2` binding would need a compiler at install time. Differences handled:
 * - the `u` flag, so `.` and classes work on code points, not UTF-16 halves;
 * - Go-only syntax: leading `(?flags)`, `(?P<name>…)`, POSIX classes `[[:alpha:]]`, `\Q…\E`,
 *   `\x{hex}`, `\pL`, script names in `\p{Greek}`, `\A`, `\z`;
 * - literal `{`, `}` and `]` where they are not syntax (JS's `u` mode rejects them);
 * - what RE2 rejects and JS would accept: look-around, back-references, `(?<name>`, repeat counts
 *   over 1000, unknown escapes.
 */
export class RegexSyntaxError extends Error {
  override name = 'RegexSyntaxError';
}

/** POSIX classes as code point intervals (RE2 defines them over ASCII). */
const POSIX: Record<string, [number, number][]> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};

function classItems(ranges: [number, number][], negate: boolean): string {
  let rs = ranges;
  if (negate) {
    const out: [number, number][] = [];
    let next = 0;
    for (const [lo, hi] of ranges) {
      if (lo > next) out.push([next, lo - 1]);
      next = hi + 1;
    }
    if (next <= 0x10ffff) out.push([next, 0x10ffff]);
    rs = out;
  }
  const cp = (n: number) => `\\u{${n.toString(16)}}`;
  return rs.map(([lo, hi]) => (lo === hi ? cp(lo) : `${cp(lo)}-${cp(hi)}`)).join('');
}

const GENERAL_CATEGORIES = new Set([
  'C', 'Cc', 'Cf', 'Co', 'Cs', 'L', 'Ll', 'Lm', 'Lo', 'Lt', 'Lu', 'M', 'Mc', 'Me', 'Mn', 'N', 'Nd', 'Nl', 'No',
  'P', 'Pc', 'Pd', 'Pe', 'Pf', 'Pi', 'Po', 'Ps', 'S', 'Sc', 'Sk', 'Sm', 'So', 'Z', 'Zl', 'Zp', 'Zs',
]);

const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));
const PUNCT = /^[!-/:-@[-`{-~]$/;

function err(msg: string, s: string): RegexSyntaxError {
  return new RegexSyntaxError(`error parsing regexp: ${msg}: \`${s}\``);
}

function literal(c: string, inClass: boolean): string {
  if (JS_SYNTAX.has(c) || (inClass && c === '-')) return '\\' + c;
  return c;
}

function unicodeClass(name: string, neg: boolean, whole: string): string {
  let n = name;
  let negate = neg;
  if (n.startsWith('^')) {
    negate = !negate;
    n = n.slice(1);
  }
  if (n === 'Any') return negate ? '[^\\s\\S]' : '[\\s\\S]';
  const body = GENERAL_CATEGORIES.has(n) ? n : /^[A-Z][A-Za-z_]*$/.test(n) ? `Script=${n}` : null;
  if (body === null) throw err('invalid character class range', whole);
  return `\\${negate ? 'P' : 'p'}{${body}}`;
}

/** Returns the JS source and flags equivalent to a Go regexp. Throws RegexSyntaxError. */
export function goRegexToJs(src: string): { source: string; flags: string } {
  let i = 0;
  let flags = '';
  // Leading flag groups (?i) (?s) (?m) apply to the whole expression.
  for (;;) {
    const m = /^\(\?([imsU]+)\)/.exec(src.slice(i));
    if (m === null) break;
    for (const f of m[1]!) if (!flags.includes(f)) flags += f;
    i += m[0].length;
  }
  const ungreedy = flags.includes('U');
  flags = flags.replace('U', '');
  let out = '';
  let inClass = false;
  /** After a quantifier: `?` makes it lazy; with (?U) the meaning of that `?` is swapped. */
  const afterQuantifier = () => {
    const lazy = src[i] === '?';
    if (lazy) i++;
    if (lazy !== ungreedy) out += '?';
  };
  let classStart = false;
  let depth = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined) throw err('trailing backslash at end of expression', '');
      if (n === 'Q') {
        const end = src.indexOf('\\E', i + 2);
        const lit = end < 0 ? src.slice(i + 2) : src.slice(i + 2, end);
        for (const ch of lit) out += literal(ch, inClass);
        i = end < 0 ? src.length : end + 2;
        continue;
      }
      if (n === 'x' && src[i + 2] === '{') {
        const end = src.indexOf('}', i + 3);
        const hex = src.slice(i + 3, end);
        if (end < 0 || !/^[0-9A-Fa-f]{1,6}$/.test(hex)) throw err('invalid escape sequence', src.slice(i, end + 1));
        out += `\\u{${hex}}`;
        i = end + 1;
        continue;
      }
      if (n === 'p' || n === 'P') {
        let name: string;
        let len: number;
        if (src[i + 2] === '{') {
          const end = src.indexOf('}', i + 3);
          if (end < 0) throw err('invalid character class range', src.slice(i));
          name = src.slice(i + 3, end);
          len = end + 1 - i;
        } else {
          name = src[i + 2] ?? '';
          len = 3;
        }
        out += unicodeClass(name, n === 'P', src.slice(i, i + len));
        i += len;
        continue;
      }
      if (!inClass && n === 'A') {
        out += '^';
        i += 2;
        continue;
      }
      if (!inClass && n === 'z') {
        out += flags.includes('m') ? '(?![\\s\\S])' : '$';
        i += 2;
        continue;
      }
      if ('dDsSwWbBtnrfv'.includes(n) || (n === 'x' && /^[0-9A-Fa-f]{2}$/.test(src.slice(i + 2, i + 4)))) {
        if (inClass && (n === 'b' || n === 'B')) throw err('invalid escape sequence', '\\' + n);
        out += '\\' + n;
        i += 2;
        continue;
      }
      if (n >= '0' && n <= '7') {
        // Octal \0, \12, \123; a single non-zero digit would be a back-reference (unsupported).
        const m = /^[0-7]{1,3}/.exec(src.slice(i + 1))!;
        if (n !== '0' && m[0].length === 1) throw err('invalid escape sequence', '\\' + n);
        out += `\\u{${parseInt(m[0], 8).toString(16)}}`;
        i += 1 + m[0].length;
        continue;
      }
      if (n === 'a') {
        out += '\\x07';
        i += 2;
        continue;
      }
      if (PUNCT.test(n)) {
        out += literal(n, inClass);
        i += 2;
        continue;
      }
      throw err('invalid escape sequence', '\\' + n);
    }
    if (inClass) {
      if (c === '[' && src[i + 1] === ':') {
        const end = src.indexOf(':]', i + 2);
        if (end > 0) {
          let name = src.slice(i + 2, end);
          const neg = name.startsWith('^');
          if (neg) name = name.slice(1);
          const cls = POSIX[name];
          if (cls === undefined) throw err('invalid character class range', src.slice(i, end + 2));
          out += classItems(cls, neg);
          i = end + 2;
          classStart = false;
          continue;
        }
      }
      if (c === ']' && !classStart) {
        out += ']';
        inClass = false;
        i++;
        continue;
      }
      classStart = false;
      out += c === '[' || c === ']' ? '\\' + c : c;
      i++;
      continue;
    }
    switch (c) {
      case '[':
        inClass = true;
        classStart = true;
        out += '[';
        if (src[i + 1] === '^') {
          out += '^';
          i++;
        }
        i++;
        continue;
      case ']':
      case '}':
        out += '\\' + c;
        i++;
        continue;
      case '{': {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
        if (m === null) {
          out += '\\{';
          i++;
          continue;
        }
        const lo = Number(m[1]);
        const hi = m[3] === undefined || m[3] === '' ? lo : Number(m[3]);
        if (lo > 1000 || hi > 1000 || (m[3] !== undefined && m[3] !== '' && hi < lo)) throw err('invalid repeat count', m[0]);
        out += m[0];
        i += m[0].length;
        afterQuantifier();
        continue;
      }
      case '*':
      case '+':
      case '?':
        out += c;
        i++;
        afterQuantifier();
        continue;
      case '(': {
        if (src[i + 1] === '?') {
          const rest = src.slice(i + 2);
          const named = /^P<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
          if (named !== null) {
            out += `(?<${named[1]}>`;
            i += 2 + named[0].length;
          } else if (rest.startsWith(':')) {
            out += '(?:';
            i += 3;
          } else {
            throw err('invalid or unsupported Perl syntax', '(?' + (rest[0] ?? ''));
          }
        } else {
          out += '(';
          i++;
        }
        depth++;
        continue;
      }
      case ')':
        if (depth === 0) throw err('unexpected )', src);
        depth--;
        out += ')';
        i++;
        continue;
      default:
        out += c;
        i++;
    }
  }
  if (inClass) throw err('missing closing ]', src);
  if (depth !== 0) throw err('missing closing )', src);
  return { source: out, flags: flags + 'u' };
}

/** A fully anchored RegExp for a PromQL label matcher. */
export function compileAnchoredRegex(src: string): RegExp {
  const { source, flags } = goRegexToJs(src);
  try {
    // Anchors that stay whole-text anchors under the `m` flag (Go applies (?m) inside the group only).
    return new RegExp(`(?<![\\s\\S])(?:${source})(?![\\s\\S])`, flags);
  } catch (e) {
    throw new RegexSyntaxError(`error parsing regexp: ${(e as Error).message}`);
  }
}
