/**
 * A tokenizer that follows Prometheus' `promql/parser/lex.go` closely enough to produce its lexer
 * error messages (`unexpected character: '.'`, `unclosed left parenthesis`, `bad number or duration
 * syntax: "0de"`, …) and to describe tokens in syntax errors the way its parser does
 * (`unexpected identifier "foo"`, `unexpected <op:*>`, `unexpected end of input`). The structure of
 * a query is parsed by the lezer grammar (parser.ts); this module only supplies texts and the
 * literal decoders (strings, numbers) Prometheus uses.
 */

export type ItemType =
  | 'EOF'
  | 'ERROR'
  | 'COMMENT'
  | 'IDENTIFIER'
  | 'METRIC_IDENTIFIER'
  | 'NUMBER'
  | 'DURATION'
  | 'STRING'
  | 'LEFT_PAREN'
  | 'RIGHT_PAREN'
  | 'LEFT_BRACE'
  | 'RIGHT_BRACE'
  | 'LEFT_BRACKET'
  | 'RIGHT_BRACKET'
  | 'COMMA'
  | 'EQL'
  | 'COLON'
  | 'OPERATOR'
  | 'KEYWORD'
  | 'AGGREGATOR';

export interface Item {
  typ: ItemType;
  /** UTF-16 index of the first character. */
  pos: number;
  val: string;
}

const AGGREGATORS = new Set([
  'sum',
  'avg',
  'count',
  'min',
  'max',
  'group',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'count_values',
  'quantile',
]);
const WORD_OPERATORS = new Set(['and', 'or', 'unless', 'atan2']);
const KEYWORDS = new Set(['offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'start', 'end']);

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}
function isAlpha(c: string): boolean {
  return c === '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
function isAlphaNumeric(c: string): boolean {
  return isAlpha(c) || isDigit(c);
}

class LexError extends Error {}

/**
 * Tokenizes `input`. Stops after the first ERROR item (whose `val` is the message, `pos` where the
 * failing token started) or at EOF. Comments are dropped.
 */
export function lex(input: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  let start = 0;
  let parenDepth = 0;
  let braceOpen = false;
  let bracketOpen = false;
  let gotColon = false;

  const peek = (): string => (pos < input.length ? input[pos]! : '');
  const next = (): string => (pos < input.length ? input[pos++]! : '');
  const accept = (valid: string): boolean => {
    const c = peek();
    if (c !== '' && valid.includes(c)) {
      pos++;
      return true;
    }
    return false;
  };
  const acceptRun = (valid: string): void => {
    while (accept(valid));
  };
  const emit = (typ: ItemType): void => {
    items.push({ typ, pos: start, val: input.slice(start, pos) });
    start = pos;
  };
  const fail = (msg: string): never => {
    items.push({ typ: 'ERROR', pos: start, val: msg });
    throw new LexError(msg);
  };

  const scanNumber = (): boolean => {
    let digits = '0123456789';
    if (accept('0') && accept('xX')) digits = '0123456789abcdefABCDEF';
    acceptRun(digits);
    if (accept('.')) acceptRun(digits);
    if (accept('eE')) {
      accept('+-');
      acceptRun('0123456789');
    }
    return !isAlphaNumeric(peek());
  };
  const acceptRemainingDuration = (): boolean => {
    if (!accept('smhdwy')) return false;
    accept('s');
    while (accept('0123456789')) {
      acceptRun('0123456789');
      if (!accept('smhdw')) return false;
      accept('s');
    }
    if (isAlphaNumeric(peek())) {
      pos++;
      return false;
    }
    return true;
  };
  const lexString = (quote: string): void => {
    for (;;) {
      const c = next();
      if (c === '\\') {
        lexEscape(quote);
      } else if (c === '' || c === '\n') {
        fail('unterminated quoted string');
      } else if (c === quote) {
        break;
      }
    }
    emit('STRING');
  };
  const lexEscape = (quote: string): void => {
    let c = next();
    let n: number;
    let base: number;
    let max: number;
    if ('abfnrtv\\'.includes(c) || c === quote) return;
    if (c >= '0' && c <= '7') {
      n = 3;
      base = 8;
      max = 255;
    } else if (c === 'x') {
      c = next();
      n = 2;
      base = 16;
      max = 255;
    } else if (c === 'u') {
      c = next();
      n = 4;
      base = 16;
      max = 0x10ffff;
    } else if (c === 'U') {
      c = next();
      n = 8;
      base = 16;
      max = 0x10ffff;
    } else if (c === '') {
      return fail('escape sequence not terminated');
    } else {
      return fail(`unknown escape sequence ${goRuneU(c)}`);
    }
    let x = 0;
    for (; n > 0; n--) {
      if (c === '') fail('escape sequence not terminated');
      const d = parseInt(c, base);
      if (Number.isNaN(d)) fail(`illegal character ${goRuneU(c)} in escape sequence`);
      x = x * base + d;
      if (n > 1) c = next();
    }
    if (x > max || (x >= 0xd800 && x < 0xe000)) fail('escape sequence is an invalid Unicode code point');
  };
  const lexIdentifierOrKeyword = (): void => {
    while (isAlphaNumeric(peek()) || peek() === ':') pos++;
    const word = input.slice(start, pos);
    const lower = word.toLowerCase();
    if (!braceOpen && (lower === 'inf' || lower === 'nan')) emit('NUMBER');
    else if (braceOpen) emit('IDENTIFIER');
    else if (AGGREGATORS.has(lower)) emit('AGGREGATOR');
    else if (WORD_OPERATORS.has(lower)) emit('OPERATOR');
    else if (KEYWORDS.has(lower)) emit('KEYWORD');
    else emit(word.includes(':') ? 'METRIC_IDENTIFIER' : 'IDENTIFIER');
  };
  const lexInsideBraces = (): void => {
    const c = next();
    if (c === '') fail('unexpected end of input inside braces');
    else if (isSpace(c)) start = pos;
    else if (isAlpha(c)) {
      while (isAlphaNumeric(peek())) pos++;
      emit('IDENTIFIER');
    } else if (c === ',') emit('COMMA');
    else if (c === '"' || c === "'") lexString(c);
    else if (c === '`') lexRaw();
    else if (c === '=') {
      accept('~');
      emit(input[pos - 1] === '~' ? 'OPERATOR' : 'EQL');
    } else if (c === '!') {
      const n2 = next();
      if (n2 === '~' || n2 === '=') emit('OPERATOR');
      else fail(`unexpected character after '!' inside braces: ${goRuneQ(n2)}`);
    } else if (c === '{') fail(`unexpected left brace ${goRuneQ(c)}`);
    else if (c === '}') {
      emit('RIGHT_BRACE');
      braceOpen = false;
    } else fail(`unexpected character inside braces: ${goRuneQ(c)}`);
  };
  const lexRaw = (): void => {
    for (;;) {
      const c = next();
      if (c === '') fail('unterminated raw string');
      if (c === '`') break;
    }
    emit('STRING');
  };
  const lexDurationInBrackets = (): void => {
    while (isSpace(peek())) pos++;
    start = pos;
    if (scanNumber()) fail('missing unit character in duration');
    if (!acceptRemainingDuration()) fail(`bad duration syntax: "${input.slice(start, pos)}"`);
    emit('DURATION');
  };

  try {
    for (;;) {
      if (braceOpen) {
        lexInsideBraces();
        continue;
      }
      const c = next();
      if (c === '') {
        if (parenDepth !== 0) fail('unclosed left parenthesis');
        if (bracketOpen) fail('unclosed left bracket');
        items.push({ typ: 'EOF', pos: input.length, val: '' });
        return items;
      }
      if (isSpace(c)) {
        start = pos;
        continue;
      }
      if (c === '#') {
        while (peek() !== '' && peek() !== '\n') pos++;
        start = pos;
        continue;
      }
      if (c === ',') emit('COMMA');
      else if ('*/%+-^@'.includes(c)) emit('OPERATOR');
      else if (c === '=') {
        if (accept('=')) emit('OPERATOR');
        else if (peek() === '~') fail(`unexpected character after '=': ${goRuneQ('~')}`);
        else emit('EQL');
      } else if (c === '!') {
        if (accept('=')) emit('OPERATOR');
        else fail(`unexpected character after '!': ${goRuneQ(peek())}`);
      } else if (c === '<' || c === '>') {
        accept('=');
        emit('OPERATOR');
      } else if (isDigit(c) || (c === '.' && isDigit(peek()))) {
        pos--;
        if (bracketOpen && !gotColon) {
          lexDurationInBrackets();
        } else if (scanNumber()) {
          emit('NUMBER');
        } else if (acceptRemainingDuration()) {
          emit('DURATION');
        } else {
          fail(`bad number or duration syntax: "${input.slice(start, pos)}"`);
        }
      } else if (c === '"' || c === "'") lexString(c);
      else if (c === '`') lexRaw();
      else if (isAlpha(c) || (c === ':' && !bracketOpen)) lexIdentifierOrKeyword();
      else if (c === ':') {
        if (gotColon) fail(`unexpected colon ${goRuneQ(c)}`);
        emit('COLON');
        gotColon = true;
      } else if (c === '(') {
        emit('LEFT_PAREN');
        parenDepth++;
      } else if (c === ')') {
        emit('RIGHT_PAREN');
        parenDepth--;
        if (parenDepth < 0) {
          // Prometheus reports this after the parenthesis (the item was already emitted).
          items.pop();
          fail(`unexpected right parenthesis ${goRuneQ(c)}`);
        }
      } else if (c === '{') {
        emit('LEFT_BRACE');
        braceOpen = true;
      } else if (c === '}') fail(`unexpected right brace ${goRuneQ(c)}`);
      else if (c === '[') {
        if (bracketOpen) fail(`unexpected left bracket ${goRuneQ(c)}`);
        emit('LEFT_BRACKET');
        bracketOpen = true;
        gotColon = false;
        lexDurationInBrackets();
      } else if (c === ']') {
        if (!bracketOpen) fail(`unexpected right bracket ${goRuneQ(c)}`);
        emit('RIGHT_BRACKET');
        bracketOpen = false;
      } else fail(`unexpected character: ${goRuneQ(c)}`);
    }
  } catch (e) {
    if (e instanceof LexError) return items;
    throw e;
  }
}

/** The description of an item in "unexpected …" messages (Prometheus' `Item.desc`). */
export function itemDesc(item: Item): string {
  switch (item.typ) {
    case 'EOF':
      return 'end of input';
    case 'ERROR':
      return item.val;
    case 'IDENTIFIER':
      return `identifier ${goQuote(item.val)}`;
    case 'METRIC_IDENTIFIER':
      return `metric identifier ${goQuote(item.val)}`;
    case 'KEYWORD':
      return `<${item.val}>`;
    case 'OPERATOR':
      return `<op:${item.val}>`;
    case 'AGGREGATOR':
      return `<aggr:${item.val}>`;
    case 'NUMBER':
      return `number ${quoteTrunc(item.val)}`;
    case 'DURATION':
      return `duration ${quoteTrunc(item.val)}`;
    case 'STRING':
      return `string ${quoteTrunc(item.val)}`;
    default:
      return quoteTrunc(item.val);
  }
}

function quoteTrunc(s: string): string {
  const cps = Array.from(s);
  return cps.length > 10 ? `${goQuote(cps.slice(0, 10).join(''))}...` : goQuote(s);
}

// ---- Go formatting helpers --------------------------------------------------------------------

/** Go's `%q` for strings (strconv.Quote). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c >= 0xd800 && c < 0xe000) out += '\\ufffd';
    else out += ch;
  }
  return out + '"';
}

/** Go's `%q` for a rune: `'.'`. */
function goRuneQ(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '\\') return "'\\\\'";
  if (c === '\n') return "'\\n'";
  if (c === '\t') return "'\\t'";
  if (c === '') return "'\\x00'";
  return `'${c}'`;
}

/** Go's `%U` for a rune: `U+0071`. */
function goRuneU(c: string): string {
  return 'U+' + (c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
}

function shortestDigits(v: number): { digits: string; exp: number } {
  // toExponential() without argument yields the shortest round-trip representation.
  const [mant, e] = Math.abs(v).toExponential().split('e') as [string, string];
  return { digits: mant.replace('.', ''), exp: Number(e) };
}

function specialFloat(v: number): string | null {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  return null;
}

/** `strconv.FormatFloat(v, 'f', -1, 64)`: shortest digits, fixed notation. */
export function formatGoFloatF(v: number): string {
  const sp = specialFloat(v);
  if (sp !== null) return sp;
  const { digits, exp } = shortestDigits(v);
  const sign = v < 0 ? '-' : '';
  const n = digits.length;
  if (exp >= n - 1) return sign + digits + '0'.repeat(exp - n + 1);
  if (exp < 0) return sign + '0.' + '0'.repeat(-exp - 1) + digits;
  return sign + digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
}

/** `fmt.Sprint(v)` / `strconv.FormatFloat(v, 'g', -1, 64)`. */
export function formatGoFloatG(v: number): string {
  const sp = specialFloat(v);
  if (sp !== null) return sp;
  const { digits, exp } = shortestDigits(v);
  if (exp < -4 || exp >= 6) {
    // %e with the shortest mantissa and at least two exponent digits.
    const sign = v < 0 ? '-' : '';
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const es = exp < 0 ? '-' : '+';
    return `${sign}${mant}e${es}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return formatGoFloatF(v);
}

// ---- literal decoding -----------------------------------------------------------------------

/**
 * Unquotes a PromQL string literal ("…", '…' with Go escapes, or `raw`), like Prometheus'
 * strutil.Unquote. Throws an Error('invalid syntax') when malformed.
 */
export function unquoteString(s: string): string {
  const n = s.length;
  if (n < 2) throw new Error('invalid syntax');
  const quote = s[0]!;
  if (quote !== s[n - 1]) throw new Error('invalid syntax');
  const body = s.slice(1, n - 1);
  if (quote === '`') {
    if (body.includes('`')) throw new Error('invalid syntax');
    return body;
  }
  if (quote !== '"' && quote !== "'") throw new Error('invalid syntax');
  if (body.includes('\n')) throw new Error('invalid syntax');
  if (!body.includes('\\') && !body.includes(quote)) return body;
  // Go strings are bytes: \x and octal escapes insert raw bytes, and the result is read as UTF-8
  // (invalid sequences become U+FFFD, as they do when Prometheus prints them).
  const bytes: number[] = [];
  const pushText = (t: string): void => {
    for (const b of Buffer.from(t, 'utf8')) bytes.push(b);
  };
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (c === quote) throw new Error('invalid syntax');
    if (c !== '\\') {
      const cp = body.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      pushText(ch);
      i += ch.length;
      continue;
    }
    const e = body[i + 1];
    i += 2;
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
    if (e !== undefined && simple[e] !== undefined) {
      pushText(simple[e]!);
      continue;
    }
    if (e === "'" || e === '"') {
      if (e !== quote) throw new Error('invalid syntax');
      pushText(e);
      continue;
    }
    if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i, i + len);
      if (hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex)) throw new Error('invalid syntax');
      const v = parseInt(hex, 16);
      i += len;
      if (e === 'x') bytes.push(v);
      else {
        if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) throw new Error('invalid syntax');
        pushText(String.fromCodePoint(v));
      }
      continue;
    }
    if (e !== undefined && e >= '0' && e <= '7') {
      const oct = body.slice(i - 1, i + 2);
      if (!/^[0-7]{3}$/.test(oct)) throw new Error('invalid syntax');
      const v = parseInt(oct, 8);
      if (v > 255) throw new Error('invalid syntax');
      bytes.push(v);
      i += 2;
      continue;
    }
    throw new Error('invalid syntax');
  }
  return Buffer.from(bytes).toString('utf8');
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses a number as Prometheus does: `strconv.ParseInt(s, 0, 64)` (so `0x1f` is hex, `0755`
 * octal), falling back to `strconv.ParseFloat` (decimal, Inf, NaN). Returns null when invalid or out
 * of range.
 */
export function parseGoNumber(s: string): number | null {
  const int = parseGoInt(s);
  if (int !== null) return int;
  return parseGoFloat(s);
}

function parseGoInt(s: string): number | null {
  let body = s;
  let neg = false;
  if (body[0] === '+' || body[0] === '-') {
    neg = body[0] === '-';
    body = body.slice(1);
  }
  let lit: string;
  if (/^0[xX][0-9a-fA-F]+$/.test(body)) lit = '0x' + body.slice(2);
  else if (/^0[oO][0-7]+$/.test(body)) lit = '0o' + body.slice(2);
  else if (/^0[bB][01]+$/.test(body)) lit = '0b' + body.slice(2);
  else if (/^0[0-7]+$/.test(body)) lit = '0o' + body.slice(1);
  else if (/^(0|[1-9][0-9]*)$/.test(body)) lit = body;
  else return null;
  let v = BigInt(lit);
  if (neg) v = -v;
  if (v < INT64_MIN || v > INT64_MAX) return null;
  return Number(v);
}

/** `strconv.ParseFloat(s, 64)` for the forms PromQL and bucket labels use. */
export function parseGoFloat(s: string): number | null {
  const lower = s.toLowerCase();
  const unsigned = lower[0] === '+' || lower[0] === '-' ? lower.slice(1) : lower;
  if (unsigned === 'inf' || unsigned === 'infinity') return lower[0] === '-' ? -Infinity : Infinity;
  if (unsigned === 'nan') return NaN;
  if (!FLOAT_RE.test(s)) return null;
  const v = Number(s);
  if (!Number.isFinite(v)) return null; // out of range
  return v;
}
