import { MatchType } from '@strata/tsdb-core';
import { ParseError, PromQLError } from './errors';
import {
  type AggregateExpr,
  type BinaryExpr,
  type Call,
  type Expr,
  type MatrixSelector,
  type NumberLiteral,
  type SubqueryExpr,
  type UnaryExpr,
  type VectorSelector,
  exprToString,
  exprType,
} from './parser/ast';
import { formatDuration, parseDuration } from './parser/duration';
import { parseExpr } from './parser/parser';

function num(q: string): number {
  const e = parseExpr(q);
  expect(e.type).toBe('NumberLiteral');
  return (e as NumberLiteral).val;
}

function parseErr(q: string): string {
  try {
    parseExpr(q);
  } catch (e) {
    expect(e).toBeInstanceOf(ParseError);
    expect(e).toBeInstanceOf(PromQLError);
    expect((e as PromQLError).errorType).toBe('bad_data');
    return (e as Error).message;
  }
  throw new Error(`expected a parse error for ${q}`);
}

function matchers(e: Expr): string[] {
  const vs = e.type === 'MatrixSelector' ? e.vectorSelector : (e as VectorSelector);
  return vs.matchers.map((m) => m.toString());
}

describe('literals', () => {
  test('number formats', () => {
    expect(num('1')).toBe(1);
    expect(num('.5')).toBe(0.5);
    expect(num('5.')).toBe(5);
    expect(num('123.4567')).toBe(123.4567);
    expect(num('5e-3')).toBe(0.005);
    expect(num('1E3')).toBe(1000);
    expect(num('0x1F')).toBe(31);
    expect(num('0xc')).toBe(12);
    expect(num('0755')).toBe(493); // Go's ParseInt(s, 0, 64): leading 0 is octal
    expect(num('-0755')).toBe(-493);
    expect(num('+5.5e-3')).toBe(0.0055);
    expect(num('- 1')).toBe(-1);
    expect(num('Inf')).toBe(Infinity);
    expect(num('+Inf')).toBe(Infinity);
    expect(num('-inf')).toBe(-Infinity);
    expect(num('NaN')).toBeNaN();
    expect(num('nan')).toBeNaN();
  });

  test('strings: Go escapes, single quotes, raw strings', () => {
    const str = (q: string): string => {
      const e = parseExpr(q);
      expect(e.type).toBe('StringLiteral');
      return e.type === 'StringLiteral' ? e.val : '';
    };
    expect(str('"a\\nb\\t\\"c\\\\"')).toBe('a\nb\t"c\\');
    expect(str("'it\\'s'")).toBe("it's");
    expect(str('"\\x41\\u00e9\\101"')).toBe('Aé' + 'A');
    expect(str('`raw\\n`')).toBe('raw\\n');
    // Go strings are bytes: \x escapes form UTF-8 sequences; invalid ones read as U+FFFD.
    expect(str('"\\xc3\\xa9"')).toBe('é');
    expect(str('"\\xff"')).toBe('\ufffd');
    expect(exprType(parseExpr('"x"'))).toBe('string');
  });
});

describe('selectors', () => {
  test('metric name and all four matcher types', () => {
    const e = parseExpr('foo{a="1", b!="2", c=~"3|4", d!~"5.*",}');
    expect(e.type).toBe('VectorSelector');
    expect((e as VectorSelector).name).toBe('foo');
    expect(matchers(e)).toEqual(['a="1"', 'b!="2"', 'c=~"3|4"', 'd!~"5.*"', '__name__="foo"']);
    const types = (e as VectorSelector).matchers.map((m) => m.type);
    expect(types).toEqual([MatchType.EQ, MatchType.NEQ, MatchType.RE, MatchType.NRE, MatchType.EQ]);
  });

  test('selector by __name__ only, keywords as metric names and label names', () => {
    expect(matchers(parseExpr('{__name__=~"job:.*"}'))).toEqual(['__name__=~"job:.*"']);
    expect(matchers(parseExpr('job:requests:rate5m'))).toEqual(['__name__="job:requests:rate5m"']);
    expect(matchers(parseExpr('sum'))).toEqual(['__name__="sum"']);
    expect(matchers(parseExpr('foo{on="x", by="y"}'))).toEqual(['on="x"', 'by="y"', '__name__="foo"']);
  });

  test('range selector with composite duration', () => {
    const e = parseExpr('foo[1h30m]') as MatrixSelector;
    expect(e.type).toBe('MatrixSelector');
    expect(e.range).toBe(5400000);
    expect(exprType(e)).toBe('matrix');
  });

  test('offset (incl. negative) and @ on instant, range and subquery expressions', () => {
    const vs = parseExpr('foo offset 5m') as VectorSelector;
    expect(vs.originalOffset).toBe(300000);
    expect((parseExpr('foo offset -1h') as VectorSelector).originalOffset).toBe(-3600000);
    const ms = parseExpr('foo[5m] @ 100.5 offset 1m') as MatrixSelector;
    expect(ms.vectorSelector.timestamp).toBe(100500);
    expect(ms.vectorSelector.originalOffset).toBe(60000);
    expect((parseExpr('foo @ -1') as VectorSelector).timestamp).toBe(-1000);
    expect((parseExpr('foo @ start()') as VectorSelector).startOrEnd).toBe('start');
    expect((parseExpr('foo offset 1m @ end()') as VectorSelector).startOrEnd).toBe('end');
    const sq = parseExpr('rate(foo[1m])[1h:5m] offset 10m @ 50') as SubqueryExpr;
    expect(sq.type).toBe('SubqueryExpr');
    expect([sq.range, sq.step, sq.originalOffset, sq.timestamp]).toEqual([3600000, 300000, 600000, 50000]);
    expect((parseExpr('foo[1h:]') as SubqueryExpr).step).toBe(0);
  });

  test('postfix modifiers bind to the closest operand', () => {
    const e = parseExpr('foo - foo offset 1d') as BinaryExpr;
    expect(e.type).toBe('BinaryExpr');
    expect((e.lhs as VectorSelector).originalOffset).toBe(0);
    expect((e.rhs as VectorSelector).originalOffset).toBe(86400000);
    const at = parseExpr('a * b + c @ 100') as BinaryExpr;
    expect(((at.rhs as VectorSelector).timestamp)).toBe(100000);
    expect(((at.lhs as BinaryExpr).rhs as VectorSelector).timestamp).toBeNull();
    const u = parseExpr('-x @ 100') as UnaryExpr;
    expect(u.type).toBe('UnaryExpr');
    expect((u.expr as VectorSelector).timestamp).toBe(100000);
  });
});

describe('operators', () => {
  test('precedence and associativity', () => {
    const e = parseExpr('1 + 2 * 3 ^ 2 ^ 2') as BinaryExpr;
    expect(e.op).toBe('+');
    const mul = e.rhs as BinaryExpr;
    expect(mul.op).toBe('*');
    const pow = mul.rhs as BinaryExpr;
    expect(pow.op).toBe('^');
    expect((pow.lhs as NumberLiteral).val).toBe(3);
    expect((pow.rhs as BinaryExpr).op).toBe('^'); // right-associative

    const l = parseExpr('a - b - c') as BinaryExpr;
    expect((l.lhs as BinaryExpr).op).toBe('-'); // left-associative

    const set = parseExpr('a or b and c unless d') as BinaryExpr;
    expect(set.op).toBe('or');
    expect((set.rhs as BinaryExpr).op).toBe('unless');

    const cmp = parseExpr('a > b + 1') as BinaryExpr;
    expect(cmp.op).toBe('>');
    expect((cmp.rhs as BinaryExpr).op).toBe('+');
    expect((parseExpr('a atan2 b * c') as BinaryExpr).op).toBe('*');
  });

  test('unary minus binds looser than ^ but tighter than *', () => {
    const p = parseExpr('-2 ^ 2') as UnaryExpr;
    expect(p.type).toBe('UnaryExpr');
    expect((p.expr as BinaryExpr).op).toBe('^');
    expect(((p.expr as BinaryExpr).lhs as NumberLiteral).val).toBe(2);
    const m = parseExpr('-a * b') as BinaryExpr;
    expect(m.op).toBe('*');
    expect(m.lhs.type).toBe('UnaryExpr');
    expect(num('-1')).toBe(-1);
    expect(parseExpr('+foo').type).toBe('UnaryExpr');
  });

  test('bool, on/ignoring and group modifiers', () => {
    const e = parseExpr('a > bool on(x, y) group_left(z) b') as BinaryExpr;
    expect(e.returnBool).toBe(true);
    expect(e.vectorMatching).toEqual({ card: 'many-to-one', matchingLabels: ['x', 'y'], on: true, include: ['z'] });
    const r = parseExpr('a - ignoring(x) group_right b') as BinaryExpr;
    expect(r.vectorMatching).toEqual({ card: 'one-to-many', matchingLabels: ['x'], on: false, include: [] });
    expect((parseExpr('a + b') as BinaryExpr).vectorMatching).toEqual({
      card: 'one-to-one',
      matchingLabels: [],
      on: false,
      include: [],
    });
    expect((parseExpr('a and on() b') as BinaryExpr).vectorMatching!.card).toBe('many-to-many');
    expect((parseExpr('a + 1') as BinaryExpr).vectorMatching).toBeNull();
    expect(exprType(parseExpr('1 + 1'))).toBe('scalar');
    expect(exprType(parseExpr('1 == bool 1'))).toBe('scalar');
  });
});

describe('aggregations and calls', () => {
  test('grouping before or after the arguments; parameters', () => {
    const a = parseExpr('sum by (job, instance) (rate(x[5m]))') as AggregateExpr;
    expect([a.op, a.grouping, a.without]).toEqual(['sum', ['job', 'instance'], false]);
    const b = parseExpr('sum(x) without (job)') as AggregateExpr;
    expect([b.op, b.grouping, b.without]).toEqual(['sum', ['job'], true]);
    const t = parseExpr('topk(3, x) by (a)') as AggregateExpr;
    expect((t.param as NumberLiteral).val).toBe(3);
    const c = parseExpr('count_values("v", x)') as AggregateExpr;
    expect(c.param!.type).toBe('StringLiteral');
    expect((parseExpr('quantile(0.9, x)') as AggregateExpr).op).toBe('quantile');
    expect((parseExpr('SUM(x)') as AggregateExpr).op).toBe('sum');
    for (const op of ['avg', 'min', 'max', 'count', 'group', 'stddev', 'stdvar', 'bottomk']) {
      const q = op === 'bottomk' ? `${op}(1, x)` : `${op}(x)`;
      expect((parseExpr(q) as AggregateExpr).op).toBe(op);
    }
  });

  test('function calls', () => {
    const c = parseExpr('label_join(up, "dst", ",", "a", "b", "c")') as Call;
    expect(c.func.name).toBe('label_join');
    expect(c.args).toHaveLength(6);
    expect((parseExpr('round(x)') as Call).args).toHaveLength(1);
    expect((parseExpr('round(x, 5)') as Call).args).toHaveLength(2);
    expect(exprType(parseExpr('time()'))).toBe('scalar');
    expect(exprType(parseExpr('scalar(x)'))).toBe('scalar');
    expect(exprType(parseExpr('vector(1)'))).toBe('vector');
    expect(exprType(parseExpr('hour()'))).toBe('vector');
    expect(parseExpr('histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))').type).toBe('Call');
  });

  test('comments and whitespace', () => {
    expect(parseExpr('sum(\n  x # the metric\n)').type).toBe('AggregateExpr');
  });
});

describe('printing', () => {
  test('exprToString follows Prometheus formatting', () => {
    const cases: [string, string][] = [
      ['sum by(a)(rate(foo{b="c"}[5m] offset 1m))', 'sum by (a) (rate(foo{b="c"}[5m] offset 1m))'],
      ['a + on(x) group_left(y) b', 'a + on (x) group_left (y) b'],
      ['topk(5, x) without (a)', 'topk without (a) (5, x)'],
      ['foo @ 100 offset -5m', 'foo @ 100.000 offset -5m'],
      ['x[1h:]', 'x[1h:]'],
      ['1e6 + 0.5', '1e+06 + 0.5'],
      ['{__name__="a", z="1", b="2"}', '{__name__="a",b="2",z="1"}'],
      ['a{z="1", b="2"}', 'a{b="2",z="1"}'],
    ];
    for (const [q, want] of cases) expect(exprToString(parseExpr(q))).toBe(want);
  });

  test('durations', () => {
    expect(parseDuration('1h30m')).toBe(5400000);
    expect(parseDuration('1y2w3d4h5m6s7ms')).toBe(
      365 * 86400000 + 14 * 86400000 + 3 * 86400000 + 4 * 3600000 + 5 * 60000 + 6000 + 7,
    );
    expect(() => parseDuration('1m1h')).toThrow('not a valid duration string: "1m1h"');
    expect(() => parseDuration('1.5h')).toThrow('not a valid duration string');
    expect(formatDuration(5400000)).toBe('1h30m');
    expect(formatDuration(90 * 86400000)).toBe('90d');
    expect(formatDuration(14 * 86400000)).toBe('2w');
  });
});

describe('errors', () => {
  test('lexer errors', () => {
    expect(parseErr('1 !~ 1')).toBe("1:3: parse error: unexpected character after '!': '~'");
    expect(parseErr('1 =~ 1')).toBe("1:3: parse error: unexpected character after '=': '~'");
    expect(parseErr('2.5.')).toBe("1:4: parse error: unexpected character: '.'");
    expect(parseErr('0deadbeef')).toBe('1:1: parse error: bad number or duration syntax: "0de"');
    expect(parseErr('"abc')).toBe('1:1: parse error: unterminated quoted string');
    expect(parseErr('foo{a="b"')).toBe('1:10: parse error: unexpected end of input inside braces');
    expect(parseErr('((1)')).toBe('1:5: parse error: unclosed left parenthesis');
    expect(parseErr('(1))')).toBe("1:5: parse error: unexpected right parenthesis ')'");
    expect(parseErr('foo[5m')).toBe('1:7: parse error: unclosed left bracket');
    expect(parseErr('foo[5]')).toBe('1:5: parse error: missing unit character in duration');
    expect(parseErr('"\\q"')).toBe('1:1: parse error: unknown escape sequence U+0071');
  });

  test('syntax errors', () => {
    expect(parseErr('')).toBe('1:1: parse error: no expression found in input');
    expect(parseErr('# just a comment\n\n')).toBe('1:1: parse error: no expression found in input');
    expect(parseErr('1+')).toBe('1:3: parse error: unexpected end of input');
    expect(parseErr('*1')).toBe('1:1: parse error: unexpected <op:*>');
    expect(parseErr('100..4')).toBe('1:5: parse error: unexpected number ".4"');
    expect(parseErr('a - on(b) ignoring(c) d')).toBe('1:11: parse error: unexpected <ignoring>');
    expect(parseErr('foo offset 5')).toBe('1:12: parse error: unexpected number "5" in offset, expected duration');
    expect(parseErr('foo @ 1m')).toBe('1:7: parse error: unexpected duration "1m" in @, expected timestamp');
    expect(parseErr('foo{a="b" c="d"}')).toBe(
      '1:11: parse error: unexpected identifier "c" in label matching, expected "," or "}"',
    );
    expect(parseErr('sum(x) by (a) by (b)')).toMatch(/^1:15: parse error: unexpected <by>/);
    expect(parseErr('foo\n  + * 2')).toMatch(/^2:5: parse error: unexpected <op:\*>/);
  });

  test('selector validation', () => {
    expect(parseErr('{}')).toBe('1:1: parse error: vector selector must contain at least one non-empty matcher');
    expect(parseErr('{a=""}')).toBe('1:1: parse error: vector selector must contain at least one non-empty matcher');
    expect(parseErr('{a=~".*"}')).toBe(
      '1:1: parse error: vector selector must contain at least one non-empty matcher',
    );
    expect(parseErr('{a!="x"}')).toBe('1:1: parse error: vector selector must contain at least one non-empty matcher');
    expect(() => parseExpr('{a=~".+"}')).not.toThrow();
    expect(parseErr('foo{__name__="bar"}')).toBe(
      '1:1: parse error: metric name must not be set twice: "foo" or "bar"',
    );
    expect(parseErr('foo{a=~"("}')).toMatch(/^1:5: parse error: error parsing regexp: missing closing \): `/);
  });

  test('durations and modifiers', () => {
    expect(parseErr('foo[0s]')).toBe('1:5: parse error: duration must be greater than 0');
    expect(parseErr('1 offset 1d')).toBe(
      '1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery',
    );
    expect(parseErr('foo offset 1s offset 2s')).toBe('1:1: parse error: offset may not be set multiple times');
    expect(parseErr('foo @ 1 @ 2')).toBe('1:1: parse error: @ <timestamp> may not be set multiple times');
    expect(parseErr('sum(foo) @ 2')).toBe(
      '1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery',
    );
    expect(parseErr('foo @ Inf')).toBe('1:1: parse error: timestamp out of bounds for @ modifier: +Inf');
    // Range errors point at the brackets.
    expect(parseErr('(foo)[5m]')).toBe('1:6: parse error: ranges only allowed for vector selectors');
    expect(parseErr('foo offset 5m [5m]')).toBe('1:15: parse error: no offset modifiers allowed before range');
    expect(parseErr('foo @ 5 [5m]')).toBe('1:9: parse error: no @ modifiers allowed before range');
    expect(parseErr('foo[5m][10m:]')).toBe('1:1: parse error: subquery is only allowed on instant vector, got matrix instead');
    expect(parseErr('foo offset 1.5h')).toBe('1:12: parse error: not a valid duration string: "1.5h"');
    expect(parseErr('foo[1h:5]')).toBe(
      '1:8: parse error: unexpected number "5" in subquery selector, expected duration or "]"',
    );
    expect(parseErr('rate(foo[5m],)')).toBe('1:13: parse error: trailing commas not allowed in function call args');
  });

  test('type checks', () => {
    expect(parseErr('rate(foo)')).toBe(
      '1:6: parse error: expected type range vector in call to function "rate", got instant vector',
    );
    expect(parseErr('abs(foo[5m])')).toBe(
      '1:5: parse error: expected type instant vector in call to function "abs", got range vector',
    );
    expect(parseErr('sum(foo[5m])')).toBe(
      '1:5: parse error: expected type instant vector in aggregation expression, got range vector',
    );
    expect(parseErr('topk("a", foo)')).toBe(
      '1:6: parse error: expected type scalar in aggregation parameter, got string',
    );
    expect(parseErr('count_values(1, foo)')).toBe(
      '1:14: parse error: expected type string in aggregation parameter, got scalar',
    );
    expect(parseErr('topk(foo)')).toBe(
      '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1',
    );
    expect(parseErr('sum()')).toBe('1:1: parse error: no arguments for aggregate expression provided');
    expect(parseErr('-"s"')).toBe(
      '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string"',
    );
    expect(parseErr('-foo[5m]')).toBe(
      '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector"',
    );
    expect(parseErr('foo + "s"')).toBe(
      '1:7: parse error: binary expression must contain only scalar and instant vector types',
    );
  });

  test('function calls', () => {
    expect(parseErr('foo(bar)')).toBe('1:1: parse error: unknown function with name "foo"');
    expect(parseErr('round(foo, 1, 2)')).toBe('1:1: parse error: expected at most 2 argument(s) in call to "round", got 3');
    expect(parseErr('label_join(foo)')).toBe(
      '1:1: parse error: expected at least 3 argument(s) in call to "label_join", got 1',
    );
    expect(parseErr('time(1)')).toBe('1:1: parse error: expected 0 argument(s) in call to "time", got 1');
    expect(parseErr('label_replace(foo, "a", "b", "c", 1)')).toBe(
      '1:35: parse error: expected type string in call to function "label_replace", got scalar',
    );
  });

  test('binary operator rules', () => {
    expect(parseErr('1 == 1')).toBe('1:3: parse error: comparisons between scalars must use BOOL modifier');
    expect(parseErr('foo + bool bar')).toBe('1:5: parse error: bool modifier can only be used on comparison operators');
    expect(parseErr('1 and 1')).toBe('1:1: parse error: set operator "and" not allowed in binary scalar expression');
    expect(parseErr('foo or 1')).toBe('1:1: parse error: set operator "or" not allowed in binary scalar expression');
    expect(parseErr('1 + on(a) foo')).toBe('1:1: parse error: vector matching only allowed between instant vectors');
    expect(parseErr('foo and on(bar) group_left(baz) bar')).toBe(
      '1:1: parse error: no grouping allowed for "and" operation',
    );
    expect(parseErr('foo + on(a) group_left(a) bar')).toBe(
      '1:5: parse error: label "a" must not occur in ON and GROUP clause at once',
    );
  });
});
