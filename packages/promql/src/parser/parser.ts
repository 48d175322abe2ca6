import { parser as lezerParser } from '@prometheus-io/lezer-promql';
import { METRIC_NAME, MatchType, Matcher } from '@strata/tsdb-core';
import { ParseError, type PositionRange } from '../errors';
import {
  type AggregateExpr,
  type AggregateOp,
  type BinaryExpr,
  type BinaryOp,
  type Call,
  type Expr,
  type MatrixSelector,
  type NumberLiteral,
  type SubqueryExpr,
  type ValueType,
  type VectorMatching,
  type VectorSelector,
  documentedType,
  exprType,
  isAggregatorWithParam,
  isComparisonOp,
  isSetOp,
} from './ast';
import { parseDuration } from './duration';
import { getFunction } from './functions';
import { type Item, itemDesc, lex, parseGoNumber, unquoteString } from './lexer';

/**
 * Parses a PromQL expression (Prometheus 2.42 syntax) into the AST of ast.ts. The text is parsed
 * with the lezer grammar of `@prometheus-io/lezer-promql`; the syntax tree is then walked into our
 * AST, applying the checks of Prometheus' parser (modifier placement, durations, literals, argument
 * counts and types, vector matching rules). Errors throw `ParseError` (errorType `bad_data`) with
 * Prometheus' position prefix and, as far as practical, its message texts.
 */
export function parseExpr(input: string): Expr {
  const items = lex(input);
  const lexErr = items.find((i) => i.typ === 'ERROR');
  if (items.length === 1 && items[0]!.typ === 'EOF') {
    throw new ParseError({ start: 0, end: 0 }, 'no expression found in input', input);
  }
  // The lezer grammar only knows `0x` hex literals; Go's (and Prometheus') scanner also takes `0X`.
  // Same length, so every position stays valid.
  let src = input;
  for (const it of items) {
    if (it.typ === 'NUMBER' && it.val.startsWith('0X')) src = src.slice(0, it.pos + 1) + 'x' + src.slice(it.pos + 2);
  }
  const tree = lezerParser.parse(src);
  const synErr = firstErrorNode(tree.topNode);
  if (lexErr && (!synErr || lexErr.pos <= synErr.from)) {
    throw new ParseError({ start: lexErr.pos, end: input.length }, lexErr.val, input);
  }
  if (synErr) throw syntaxError(input, items, tree.topNode, synErr);

  const b = new AstBuilder(src);
  const top = namedChildren(tree.topNode);
  if (top.length !== 1) {
    throw new ParseError({ start: 0, end: 0 }, 'no expression found in input', input);
  }
  const expr = b.expr(top[0]!);
  b.throwIfErrors();
  b.checkAST(expr);
  b.throwIfErrors();
  return expr;
}

type LNode = ReturnType<typeof lezerParser.parse>['topNode'];

function namedChildren(n: LNode): LNode[] {
  const out: LNode[] = [];
  for (let c = n.firstChild; c; c = c.nextSibling) {
    if (c.name !== 'LineComment') out.push(c);
  }
  return out;
}

function firstErrorNode(top: LNode): LNode | null {
  let found: LNode | null = null;
  const visit = (n: LNode): void => {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.type.isError) {
        if (!found || c.from < found.from) found = c;
        return;
      }
      visit(c);
      if (found) return;
    }
  };
  visit(top);
  return found;
}

function hasAncestor(n: LNode, name: string): boolean {
  for (let p: LNode | null = n.parent; p; p = p.parent) if (p.name === name) return true;
  return false;
}

/** Builds a Prometheus-like "unexpected …" message for a lezer syntax error. */
function syntaxError(input: string, items: Item[], top: LNode, err: LNode): ParseError {
  let idx = items.findIndex((i) => i.pos >= err.from || i.pos + i.val.length > err.from);
  if (idx < 0) idx = items.length - 1;
  const item = items[idx]!;
  const prev = idx > 0 ? items[idx - 1] : undefined;
  // The lexer failed on this token before the parser could complain about it.
  if (item.typ === 'ERROR') return new ParseError({ start: item.pos, end: input.length }, item.val, input);
  const range = { start: item.pos, end: item.pos + item.val.length };

  // `foo(bar)`: an identifier called like a function.
  if (item.typ === 'LEFT_PAREN' && prev && (prev.typ === 'IDENTIFIER' || prev.typ === 'METRIC_IDENTIFIER')) {
    return new ParseError(
      { start: prev.pos, end: prev.pos + prev.val.length },
      `unknown function with name ${JSON.stringify(prev.val)}`,
      input,
    );
  }
  // A duration token the grammar did not accept (`1.5h`): Prometheus' parser rejects its value.
  if (item.typ === 'DURATION') {
    try {
      parseDuration(item.val);
    } catch (e) {
      return new ParseError(range, (e as Error).message, input);
    }
  }
  // `f(a,)`: Prometheus has a dedicated message, reported at the comma.
  if (item.typ === 'RIGHT_PAREN' && prev?.typ === 'COMMA') {
    return new ParseError(
      { start: prev.pos, end: prev.pos + 1 },
      'trailing commas not allowed in function call args',
      input,
    );
  }
  let msg = `unexpected ${itemDesc(item)}`;
  const node = top.resolveInner(err.from, 1);
  if (hasAncestor(err, 'LabelMatchers') || node.name === 'LabelMatchers') {
    if (prev?.typ === 'IDENTIFIER') msg += ' in label matching, expected label matching operator';
    else if (prev?.typ === 'EQL' || prev?.typ === 'OPERATOR') msg += ' in label matching, expected string';
    else if (prev?.typ === 'STRING') msg += ' in label matching, expected "," or "}"';
    else msg += ' in label matching, expected identifier or "}"';
  } else if (prev?.typ === 'KEYWORD' && prev.val.toLowerCase() === 'offset') {
    msg += ' in offset, expected duration';
  } else if (prev?.typ === 'OPERATOR' && prev.val === '@') {
    msg += ' in @, expected timestamp';
  } else if (prev?.typ === 'COLON') {
    msg += ' in subquery selector, expected duration or "]"';
  } else if (hasAncestor(err, 'GroupingLabels')) {
    msg += ' in grouping opts, expected label';
  }
  return new ParseError(range, msg, input);
}

const BINARY_OPS: Record<string, BinaryOp> = {
  Pow: '^',
  Mul: '*',
  Div: '/',
  Mod: '%',
  Atan2: 'atan2',
  Add: '+',
  Sub: '-',
  Eql: '==',
  Neq: '!=',
  Gtr: '>',
  Lss: '<',
  Gte: '>=',
  Lte: '<=',
  And: 'and',
  Or: 'or',
  Unless: 'unless',
};

const MATCH_TYPES: Record<string, MatchType> = {
  EqlSingle: MatchType.EQ,
  Neq: MatchType.NEQ,
  EqlRegex: MatchType.RE,
  NeqRegex: MatchType.NRE,
};

const MIN_INT64 = -9223372036854775808;
const MAX_INT64 = 9223372036854775807;

/** Go's regexp error text for the most common JS RegExp errors (others keep the JS text). */
function goRegexpError(jsMsg: string, re: string): string {
  const anchored = `^(?:${re})$`;
  if (jsMsg.includes('Unterminated group')) return `missing closing ): \`${anchored}\``;
  if (jsMsg.includes("Unmatched ')'")) return `unexpected ): \`${anchored}\``;
  if (jsMsg.includes('Unterminated character class')) return `missing closing ]: \`${re.slice(re.lastIndexOf('['))})$\``;
  return jsMsg;
}

/** Go's math.Round: half away from zero. */
function goRound(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** Go's `%f`. */
function goFormatF6(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (Math.abs(x) >= 1e21) return `${BigInt(x)}.000000`;
  return x.toFixed(6);
}

class AstBuilder {
  private readonly errors: ParseError[] = [];

  constructor(private readonly input: string) {}

  throwIfErrors(): void {
    if (this.errors.length > 0) throw this.errors[0]!;
  }

  private err(pos: PositionRange, msg: string): void {
    this.errors.push(new ParseError(pos, msg, this.input));
  }

  private text(n: LNode): string {
    return this.input.slice(n.from, n.to);
  }

  private pos(n: LNode): PositionRange {
    return { start: n.from, end: n.to };
  }

  expr(n: LNode): Expr {
    switch (n.name) {
      case 'NumberLiteral':
        return this.numberLiteral(n);
      case 'StringLiteral':
        return { type: 'StringLiteral', val: this.unquote(n), pos: this.pos(n) };
      case 'VectorSelector':
        return this.vectorSelector(n);
      case 'MatrixSelector':
        return this.matrixSelector(n);
      case 'SubqueryExpr':
        return this.subquery(n);
      case 'OffsetExpr':
        return this.offsetExpr(n);
      case 'StepInvariantExpr':
        return this.atExpr(n);
      case 'ParenExpr': {
        const [inner] = namedChildren(n);
        return { type: 'ParenExpr', expr: this.expr(inner!), pos: this.pos(n) };
      }
      case 'UnaryExpr':
        return this.unaryExpr(n);
      case 'BinaryExpr':
        return this.binaryExpr(n);
      case 'AggregateExpr':
        return this.aggregateExpr(n);
      case 'FunctionCall':
        return this.call(n);
      default:
        this.err(this.pos(n), `unexpected ${n.name}`);
        throw this.errors[0]!;
    }
  }

  private unquote(n: LNode): string {
    const raw = this.text(n);
    try {
      return unquoteString(raw);
    } catch (e) {
      this.err(this.pos(n), `error unquoting string ${JSON.stringify(raw)}: ${(e as Error).message}`);
      return '';
    }
  }

  private numberLiteral(n: LNode): NumberLiteral {
    // Signed literals come as one node ("-1", "- 1"); comments may even sit between sign and digits.
    let txt = this.text(n).replace(/#[^\n]*/g, '').replace(/\s+/g, '');
    let sign = 1;
    if (txt[0] === '-' || txt[0] === '+') {
      if (txt[0] === '-') sign = -1;
      txt = txt.slice(1);
    }
    const v = parseGoNumber(txt);
    if (v === null) {
      this.err(
        this.pos(n),
        `error parsing number: strconv.ParseFloat: parsing ${JSON.stringify(txt)}: ${/^[0-9.eE+-]+$/.test(txt) ? 'value out of range' : 'invalid syntax'}`,
      );
      return { type: 'NumberLiteral', val: 0, pos: this.pos(n) };
    }
    return { type: 'NumberLiteral', val: sign * v, pos: this.pos(n) };
  }

  private duration(n: LNode | undefined): number {
    if (!n || n.name !== 'Duration') {
      if (n) this.err(this.pos(n), `unexpected ${n.name}, expected duration`);
      return 0;
    }
    try {
      const d = parseDuration(this.text(n));
      if (d === 0) throw new Error('duration must be greater than 0');
      return d;
    } catch (e) {
      this.err(this.pos(n), (e as Error).message);
      return 0;
    }
  }

  private vectorSelector(n: LNode): VectorSelector {
    let name = '';
    const matchers: Matcher[] = [];
    for (const c of namedChildren(n)) {
      if (c.name === 'Identifier') name = this.text(c);
      else if (c.name === 'LabelMatchers') {
        for (const m of namedChildren(c)) {
          if (m.name !== 'LabelMatcher') continue;
          const [ln, op, val] = namedChildren(m);
          const label = this.text(ln!);
          const type = MATCH_TYPES[namedChildren(op!)[0]?.name ?? ''] ?? MatchType.EQ;
          const value = this.unquote(val!);
          try {
            matchers.push(new Matcher(type, label, value));
          } catch (e) {
            // tsdb-core's Matcher reports Go-style texts itself; plain JS RegExp errors are mapped.
            const msg = (e as Error).message;
            this.err(
              this.pos(m),
              msg.startsWith('error parsing regexp:') ? msg : `error parsing regexp: ${goRegexpError(msg, value)}`,
            );
          }
        }
      }
    }
    if (name !== '') matchers.push(new Matcher(MatchType.EQ, METRIC_NAME, name));
    return {
      type: 'VectorSelector',
      name,
      matchers,
      originalOffset: 0,
      timestamp: null,
      startOrEnd: null,
      pos: this.pos(n),
    };
  }

  /**
   * In Prometheus' grammar the postfix modifiers (`[range]`, `[range:step]`, `offset`, `@`) bind
   * tighter than every operator: `a + b offset 5m` is `a + (b offset 5m)` and `-x[5m]` is `-(x[5m])`.
   * The lezer grammar attaches them to the whole operator expression instead, so they are moved to
   * the rightmost operand here (parenthesised expressions are ParenExpr nodes and stay as they are).
   */
  private applyPostfix(e: Expr, end: number, f: (operand: Expr) => Expr): Expr {
    if (e.type === 'BinaryExpr') {
      e.rhs = this.applyPostfix(e.rhs, end, f);
      e.pos = { start: e.pos.start, end };
      return e;
    }
    if (e.type === 'UnaryExpr') {
      e.expr = this.applyPostfix(e.expr, end, f);
      e.pos = { start: e.pos.start, end };
      return e;
    }
    return f(e);
  }

  private matrixSelector(n: LNode): Expr {
    const [inner, dur] = namedChildren(n);
    const range = this.duration(dur);
    // Errors about the range point at the brackets, as in Prometheus.
    const bracket = { start: this.input.indexOf('[', inner!.to), end: n.to };
    return this.applyPostfix(this.expr(inner!), n.to, (e) => {
      const pos = { start: e.pos.start, end: n.to };
      if (e.type !== 'VectorSelector') {
        this.err(bracket, 'ranges only allowed for vector selectors');
        return e;
      }
      if (e.originalOffset !== 0) this.err(bracket, 'no offset modifiers allowed before range');
      else if (e.timestamp !== null || e.startOrEnd !== null) this.err(bracket, 'no @ modifiers allowed before range');
      const ms: MatrixSelector = { type: 'MatrixSelector', vectorSelector: e, range, pos };
      return ms;
    });
  }

  private subquery(n: LNode): Expr {
    const [inner, rangeNode, stepNode] = namedChildren(n);
    const range = this.duration(rangeNode);
    const step = stepNode ? this.duration(stepNode) : 0;
    return this.applyPostfix(this.expr(inner!), n.to, (e) => {
      const sq: SubqueryExpr = {
        type: 'SubqueryExpr',
        expr: e,
        range,
        step,
        originalOffset: 0,
        timestamp: null,
        startOrEnd: null,
        pos: { start: e.pos.start, end: n.to },
      };
      return sq;
    });
  }

  private offsetExpr(n: LNode): Expr {
    const kids = namedChildren(n);
    const negative = kids.some((k) => k.name === 'Sub');
    let d = this.duration(kids[kids.length - 1]);
    if (negative) d = -d;
    return this.applyPostfix(this.expr(kids[0]!), n.to, (e) => {
      let target: { originalOffset: number } | null = null;
      if (e.type === 'VectorSelector' || e.type === 'SubqueryExpr') target = e;
      else if (e.type === 'MatrixSelector') target = e.vectorSelector;
      if (!target) {
        this.err(
          e.pos,
          'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery',
        );
        return e;
      }
      if (target.originalOffset !== 0) this.err(e.pos, 'offset may not be set multiple times');
      else target.originalOffset = d;
      e.pos = { start: e.pos.start, end: n.to };
      return e;
    });
  }

  private atExpr(n: LNode): Expr {
    const kids = namedChildren(n);
    const mod = kids[kids.length - 1]!;
    let ts: number | null = null;
    let pre: 'start' | 'end' | null = null;
    let tsValue = 0;
    if (mod.name === 'NumberLiteral') {
      tsValue = this.numberLiteral(mod).val;
      ts = goRound(tsValue * 1000);
    } else {
      pre = this.text(mod).toLowerCase() === 'start' ? 'start' : 'end';
    }
    return this.applyPostfix(this.expr(kids[0]!), n.to, (e) => {
      if (ts !== null && (!Number.isFinite(tsValue) || tsValue >= MAX_INT64 || tsValue <= MIN_INT64)) {
        this.err(e.pos, `timestamp out of bounds for @ modifier: ${goFormatF6(tsValue)}`);
      }
      let target: { timestamp: number | null; startOrEnd: 'start' | 'end' | null } | null = null;
      if (e.type === 'VectorSelector' || e.type === 'SubqueryExpr') target = e;
      else if (e.type === 'MatrixSelector') target = e.vectorSelector;
      if (!target) {
        this.err(
          e.pos,
          '@ modifier must be preceded by an instant vector selector or range vector selector or a subquery',
        );
        return e;
      }
      if (target.timestamp !== null || target.startOrEnd !== null) {
        this.err(e.pos, '@ <timestamp> may not be set multiple times');
        return e;
      }
      target.timestamp = ts;
      target.startOrEnd = pre;
      e.pos = { start: e.pos.start, end: n.to };
      return e;
    });
  }

  private unaryExpr(n: LNode): Expr {
    const [opNode, inner] = namedChildren(n);
    const op = this.text(opNode!).trim() === '-' ? '-' : '+';
    const e = this.expr(inner!);
    if (e.type === 'NumberLiteral') {
      // Prometheus folds signs into number literals.
      if (op === '-') e.val = -e.val;
      e.pos = { start: n.from, end: e.pos.end };
      return e;
    }
    return { type: 'UnaryExpr', op, expr: e, pos: this.pos(n) };
  }

  private binaryExpr(n: LNode): Expr {
    const kids = namedChildren(n);
    const lhsNode = kids[0]!;
    const rhsNode = kids[kids.length - 1]!;
    const opNode = kids[1]!;
    const op = BINARY_OPS[opNode.name];
    if (op === undefined) {
      this.err(this.pos(opNode), `unexpected ${this.text(opNode)}`);
      throw this.errors[0]!;
    }
    let returnBool = false;
    const vm: VectorMatching = { card: 'one-to-one', matchingLabels: [], on: false, include: [] };
    for (const k of kids.slice(2, kids.length - 1)) {
      if (k.name === 'BoolModifier') returnBool = true;
      else if (k.name === 'MatchingModifierClause') {
        const parts = namedChildren(k);
        let sawGroup = false;
        for (const p of parts) {
          switch (p.name) {
            case 'On':
              vm.on = true;
              break;
            case 'Ignoring':
              vm.on = false;
              break;
            case 'GroupLeft':
              vm.card = 'many-to-one';
              sawGroup = true;
              break;
            case 'GroupRight':
              vm.card = 'one-to-many';
              sawGroup = true;
              break;
            case 'GroupingLabels':
              if (sawGroup) vm.include = this.groupingLabels(p);
              else vm.matchingLabels = this.groupingLabels(p);
              break;
          }
        }
      }
    }
    const lhsText = this.text(lhsNode).trimStart();
    if (op === '^' && lhsNode.name === 'NumberLiteral' && (lhsText[0] === '-' || lhsText[0] === '+')) {
      // lezer reads "-2 ^ 2" as (-2)^2; in Prometheus the unary sign binds looser than ^: -(2^2).
      const lit = this.numberLiteral(lhsNode);
      const sign = lhsText[0] === '-' ? '-' : '+';
      if (sign === '-') lit.val = -lit.val;
      lit.pos = { start: lhsNode.from + 1, end: lhsNode.to };
      const pow: BinaryExpr = {
        type: 'BinaryExpr',
        op,
        lhs: lit,
        rhs: this.expr(rhsNode),
        returnBool,
        vectorMatching: vm,
        pos: { start: lit.pos.start, end: n.to },
      };
      return { type: 'UnaryExpr', op: sign, expr: pow, pos: this.pos(n) };
    }
    return {
      type: 'BinaryExpr',
      op,
      lhs: this.expr(lhsNode),
      rhs: this.expr(rhsNode),
      returnBool,
      vectorMatching: vm,
      pos: this.pos(n),
    };
  }

  private groupingLabels(n: LNode): string[] {
    return namedChildren(n)
      .filter((c) => c.name === 'LabelName')
      .map((c) => this.text(c));
  }

  private aggregateExpr(n: LNode): AggregateExpr | Expr {
    let op: AggregateOp = 'sum';
    let grouping: string[] = [];
    let without = false;
    let args: Expr[] = [];
    for (const c of namedChildren(n)) {
      if (c.name === 'AggregateOp') op = this.text(c).toLowerCase() as AggregateOp;
      else if (c.name === 'AggregateModifier') {
        for (const m of namedChildren(c)) {
          if (m.name === 'Without') without = true;
          else if (m.name === 'GroupingLabels') grouping = this.groupingLabels(m);
        }
      } else if (c.name === 'FunctionCallBody') {
        args = namedChildren(c).map((a) => this.expr(a));
      }
    }
    const pos = this.pos(n);
    const agg: AggregateExpr = {
      type: 'AggregateExpr',
      op,
      expr: { type: 'NumberLiteral', val: 0, pos },
      param: null,
      grouping,
      without,
      pos,
    };
    if (args.length === 0) {
      this.err(pos, 'no arguments for aggregate expression provided');
      return agg;
    }
    const desired = isAggregatorWithParam(op) ? 2 : 1;
    if (args.length !== desired) {
      this.err(
        pos,
        `wrong number of arguments for aggregate expression provided, expected ${desired}, got ${args.length}`,
      );
      return agg;
    }
    if (desired === 2) agg.param = args[0]!;
    agg.expr = args[desired - 1]!;
    return agg;
  }

  private call(n: LNode): Call {
    const [ident, body] = namedChildren(n);
    const name = this.text(ident!);
    const func = getFunction(name);
    const args = body ? namedChildren(body).map((a) => this.expr(a)) : [];
    if (!func) {
      this.err(this.pos(ident!), `unknown function with name ${JSON.stringify(name)}`);
      throw this.errors[0]!;
    }
    return { type: 'Call', func, args, pos: this.pos(n) };
  }

  // ---- type checks (Prometheus' checkAST) ---------------------------------------------------

  private expectType(e: Expr, want: ValueType, context: string): void {
    const t = this.checkAST(e);
    if (t !== want) {
      this.err(e.pos, `expected type ${documentedType(want)} in ${context}, got ${documentedType(t)}`);
    }
  }

  checkAST(e: Expr): ValueType {
    const typ = exprType(e);
    switch (e.type) {
      case 'AggregateExpr':
        this.expectType(e.expr, 'vector', 'aggregation expression');
        if (e.op === 'topk' || e.op === 'bottomk' || e.op === 'quantile') {
          this.expectType(e.param!, 'scalar', 'aggregation parameter');
        }
        if (e.op === 'count_values') this.expectType(e.param!, 'string', 'aggregation parameter');
        break;
      case 'BinaryExpr': {
        const lt = this.checkAST(e.lhs);
        const rt = this.checkAST(e.rhs);
        const opRange = this.opRange(e);
        if (e.returnBool && !isComparisonOp(e.op)) {
          this.err(opRange, 'bool modifier can only be used on comparison operators');
        }
        if (isComparisonOp(e.op) && !e.returnBool && lt === 'scalar' && rt === 'scalar') {
          this.err(opRange, 'comparisons between scalars must use BOOL modifier');
        }
        const vm = e.vectorMatching!;
        if (isSetOp(e.op) && vm.card === 'one-to-one') vm.card = 'many-to-many';
        for (const l1 of vm.matchingLabels) {
          for (const l2 of vm.include) {
            if (l1 === l2 && vm.on) {
              this.err(opRange, `label ${JSON.stringify(l1)} must not occur in ON and GROUP clause at once`);
            }
          }
        }
        if (lt !== 'scalar' && lt !== 'vector') {
          this.err(e.lhs.pos, 'binary expression must contain only scalar and instant vector types');
        }
        if (rt !== 'scalar' && rt !== 'vector') {
          this.err(e.rhs.pos, 'binary expression must contain only scalar and instant vector types');
        }
        if (lt !== 'vector' || rt !== 'vector') {
          if (vm.matchingLabels.length > 0) {
            this.err(e.pos, 'vector matching only allowed between instant vectors');
          }
          e.vectorMatching = null;
        } else if (isSetOp(e.op)) {
          if (vm.card === 'one-to-many' || vm.card === 'many-to-one') {
            this.err(e.pos, `no grouping allowed for ${JSON.stringify(e.op)} operation`);
          }
          if (vm.card !== 'many-to-many') this.err(e.pos, 'set operations must always be many-to-many');
        }
        if ((lt === 'scalar' || rt === 'scalar') && isSetOp(e.op)) {
          this.err(e.pos, `set operator ${JSON.stringify(e.op)} not allowed in binary scalar expression`);
        }
        break;
      }
      case 'Call': {
        const f = e.func;
        const nargs = f.argTypes.length;
        if (f.variadic === 0) {
          if (nargs !== e.args.length) {
            this.err(
              e.pos,
              `expected ${nargs} argument(s) in call to ${JSON.stringify(f.name)}, got ${e.args.length}`,
            );
          }
        } else {
          const na = nargs - 1;
          if (na > e.args.length) {
            this.err(
              e.pos,
              `expected at least ${na} argument(s) in call to ${JSON.stringify(f.name)}, got ${e.args.length}`,
            );
          } else if (f.variadic > 0 && na + f.variadic < e.args.length) {
            this.err(
              e.pos,
              `expected at most ${na + f.variadic} argument(s) in call to ${JSON.stringify(f.name)}, got ${e.args.length}`,
            );
          }
        }
        e.args.forEach((arg, i) => {
          let ti = i;
          if (ti >= nargs) {
            if (f.variadic === 0) return;
            ti = nargs - 1;
          }
          this.expectType(arg, f.argTypes[ti]!, `call to function ${JSON.stringify(f.name)}`);
        });
        break;
      }
      case 'ParenExpr':
        this.checkAST(e.expr);
        break;
      case 'UnaryExpr': {
        const t = this.checkAST(e.expr);
        if (t !== 'scalar' && t !== 'vector') {
          this.err(
            e.pos,
            `unary expression only allowed on expressions of type scalar or instant vector, got ${JSON.stringify(documentedType(t))}`,
          );
        }
        break;
      }
      case 'SubqueryExpr': {
        const t = this.checkAST(e.expr);
        if (t !== 'vector') {
          this.err(
            e.pos,
            `subquery is only allowed on instant vector, got ${t} instead`,
          );
        }
        break;
      }
      case 'MatrixSelector':
        this.checkAST(e.vectorSelector);
        break;
      case 'VectorSelector': {
        if (!e.matchers.some((m) => !m.matchesEmpty())) {
          this.err(e.pos, 'vector selector must contain at least one non-empty matcher');
        }
        if (e.name !== '') {
          for (const m of e.matchers.slice(0, -1)) {
            if (m.name === METRIC_NAME) {
              this.err(
                e.pos,
                `metric name must not be set twice: ${JSON.stringify(e.name)} or ${JSON.stringify(m.value)}`,
              );
            }
          }
        }
        break;
      }
      case 'StepInvariantExpr':
        this.checkAST(e.expr);
        break;
      case 'NumberLiteral':
      case 'StringLiteral':
        break;
    }
    return typ;
  }

  /** The operator's range in a binary expression (between the operands, whitespace trimmed). */
  private opRange(e: BinaryExpr): PositionRange {
    let start = e.lhs.pos.end;
    let end = e.rhs.pos.start - 1;
    while (start < end && /\s/.test(this.input[start]!)) start++;
    while (end > start && /\s/.test(this.input[end]!)) end--;
    return { start, end };
  }
}
