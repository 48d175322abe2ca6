import { METRIC_NAME, MatchType, compareStrings, type Matcher } from '@strata/tsdb-core';
import type { PositionRange } from '../errors';
import type { FunctionSignature } from './functions';
import { formatDuration } from './duration';
import { formatGoFloatG, goQuote } from './lexer';

/**
 * The typed PromQL AST, modelled on Prometheus' `promql/parser/ast.go`. Times and durations are
 * milliseconds. Nodes are plain objects discriminated by `type`; the parser builds them and the
 * engine's preprocessing derives new trees instead of mutating them.
 */

export type ValueType = 'none' | 'scalar' | 'vector' | 'matrix' | 'string';

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^' | 'atan2';
export type ComparisonOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
export type SetOp = 'and' | 'or' | 'unless';
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp;

export type AggregateOp =
  | 'sum'
  | 'avg'
  | 'count'
  | 'min'
  | 'max'
  | 'group'
  | 'stddev'
  | 'stdvar'
  | 'topk'
  | 'bottomk'
  | 'count_values'
  | 'quantile';

export type VectorMatchCardinality = 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';

export interface VectorMatching {
  card: VectorMatchCardinality;
  /** Labels of `on(...)` / `ignoring(...)`. */
  matchingLabels: string[];
  /** True for `on`, false for `ignoring` (and for no clause). */
  on: boolean;
  /** Labels of `group_left(...)` / `group_right(...)`, copied from the "one" side. */
  include: string[];
}

export type AtPreprocessor = 'start' | 'end';

export interface NumberLiteral {
  readonly type: 'NumberLiteral';
  val: number;
  pos: PositionRange;
}

export interface StringLiteral {
  readonly type: 'StringLiteral';
  val: string;
  pos: PositionRange;
}

export interface VectorSelector {
  readonly type: 'VectorSelector';
  /** Metric name written before the braces ('' if none). */
  name: string;
  /** All matchers, the name matcher (from `name`) included. */
  matchers: Matcher[];
  /** `offset` in ms as written (negative allowed). */
  originalOffset: number;
  /** `@` timestamp in ms, or null. Set by the parser for `@ <ts>`, by preprocessing for start()/end(). */
  timestamp: number | null;
  startOrEnd: AtPreprocessor | null;
  pos: PositionRange;
}

export interface MatrixSelector {
  readonly type: 'MatrixSelector';
  vectorSelector: VectorSelector;
  /** Range in ms. */
  range: number;
  pos: PositionRange;
}

export interface SubqueryExpr {
  readonly type: 'SubqueryExpr';
  expr: Expr;
  range: number;
  /** Resolution in ms; 0 means the engine's default (no step given). */
  step: number;
  originalOffset: number;
  timestamp: number | null;
  startOrEnd: AtPreprocessor | null;
  pos: PositionRange;
}

export interface UnaryExpr {
  readonly type: 'UnaryExpr';
  op: '-' | '+';
  expr: Expr;
  pos: PositionRange;
}

export interface BinaryExpr {
  readonly type: 'BinaryExpr';
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  returnBool: boolean;
  /** Null unless both sides are instant vectors. */
  vectorMatching: VectorMatching | null;
  pos: PositionRange;
}

export interface AggregateExpr {
  readonly type: 'AggregateExpr';
  op: AggregateOp;
  expr: Expr;
  /** Parameter of topk, bottomk, quantile, count_values. */
  param: Expr | null;
  grouping: string[];
  without: boolean;
  pos: PositionRange;
}

export interface Call {
  readonly type: 'Call';
  func: FunctionSignature;
  args: Expr[];
  pos: PositionRange;
}

export interface ParenExpr {
  readonly type: 'ParenExpr';
  expr: Expr;
  pos: PositionRange;
}

/** Marks a subtree whose value does not change between steps (created by engine preprocessing). */
export interface StepInvariantExpr {
  readonly type: 'StepInvariantExpr';
  expr: Expr;
  pos: PositionRange;
}

export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | UnaryExpr
  | BinaryExpr
  | AggregateExpr
  | Call
  | ParenExpr
  | StepInvariantExpr;

export function isComparisonOp(op: BinaryOp): op is ComparisonOp {
  return op === '==' || op === '!=' || op === '>' || op === '<' || op === '>=' || op === '<=';
}

export function isSetOp(op: BinaryOp): op is SetOp {
  return op === 'and' || op === 'or' || op === 'unless';
}

export function isAggregatorWithParam(op: AggregateOp): boolean {
  return op === 'topk' || op === 'bottomk' || op === 'count_values' || op === 'quantile';
}

/** The value type an expression evaluates to. */
export function exprType(e: Expr): ValueType {
  switch (e.type) {
    case 'NumberLiteral':
      return 'scalar';
    case 'StringLiteral':
      return 'string';
    case 'VectorSelector':
      return 'vector';
    case 'MatrixSelector':
    case 'SubqueryExpr':
      return 'matrix';
    case 'UnaryExpr':
    case 'ParenExpr':
    case 'StepInvariantExpr':
      return exprType(e.expr);
    case 'BinaryExpr':
      return exprType(e.lhs) === 'scalar' && exprType(e.rhs) === 'scalar' ? 'scalar' : 'vector';
    case 'AggregateExpr':
      return 'vector';
    case 'Call':
      return e.func.returnType;
  }
}

/** The name Prometheus uses for a value type in messages ("instant vector", "range vector", …). */
export function documentedType(t: ValueType): string {
  switch (t) {
    case 'vector':
      return 'instant vector';
    case 'matrix':
      return 'range vector';
    default:
      return t;
  }
}

/** Child expressions in evaluation order. */
export function children(e: Expr): Expr[] {
  switch (e.type) {
    case 'NumberLiteral':
    case 'StringLiteral':
    case 'VectorSelector':
      return [];
    case 'MatrixSelector':
      return [e.vectorSelector];
    case 'SubqueryExpr':
    case 'UnaryExpr':
    case 'ParenExpr':
    case 'StepInvariantExpr':
      return [e.expr];
    case 'BinaryExpr':
      return [e.lhs, e.rhs];
    case 'AggregateExpr':
      return e.param ? [e.param, e.expr] : [e.expr];
    case 'Call':
      return e.args;
  }
}

/**
 * Visits every node depth-first (parents before children). `path` holds the ancestors of the node,
 * root first. Returning false from `fn` skips the node's children.
 */
export function inspect(e: Expr, fn: (node: Expr, path: readonly Expr[]) => boolean | void): void {
  const path: Expr[] = [];
  const visit = (n: Expr): void => {
    if (fn(n, path) === false) return;
    path.push(n);
    for (const c of children(n)) visit(c);
    path.pop();
  };
  visit(e);
}

// ---- printing (Prometheus' String() methods) ---------------------------------------------------

const MATCH_OPS = ['=', '!=', '=~', '!~'];

function matcherString(m: Matcher): string {
  return `${m.name}${MATCH_OPS[m.type]}${goQuote(m.value)}`;
}

function atAndOffsetString(
  timestamp: number | null,
  startOrEnd: AtPreprocessor | null,
  offset: number,
): string {
  let s = '';
  if (timestamp !== null) s += ` @ ${(timestamp / 1000).toFixed(3)}`;
  else if (startOrEnd !== null) s += ` @ ${startOrEnd}()`;
  if (offset > 0) s += ` offset ${formatDuration(offset)}`;
  else if (offset < 0) s += ` offset -${formatDuration(-offset)}`;
  return s;
}

function vectorSelectorString(vs: VectorSelector, withModifiers: boolean): string {
  const ms: string[] = [];
  for (const m of vs.matchers) {
    // The metric name is printed in front of the braces.
    if (vs.name !== '' && m.name === METRIC_NAME && m.type === MatchType.EQ && m.value === vs.name) continue;
    ms.push(matcherString(m));
  }
  let s = vs.name;
  if (ms.length > 0) s += `{${ms.sort(compareStrings).join(',')}}`;
  if (withModifiers) s += atAndOffsetString(vs.timestamp, vs.startOrEnd, vs.originalOffset);
  return s;
}

/** Formats an expression as PromQL text, as Prometheus 2.42's `String()` does. */
export function exprToString(e: Expr): string {
  switch (e.type) {
    case 'NumberLiteral':
      return formatGoFloatG(e.val);
    case 'StringLiteral':
      return goQuote(e.val);
    case 'VectorSelector':
      return vectorSelectorString(e, true);
    case 'MatrixSelector': {
      const vs = e.vectorSelector;
      return (
        vectorSelectorString(vs, false) +
        `[${formatDuration(e.range)}]` +
        atAndOffsetString(vs.timestamp, vs.startOrEnd, vs.originalOffset)
      );
    }
    case 'SubqueryExpr':
      return (
        `${exprToString(e.expr)}[${formatDuration(e.range)}:${e.step > 0 ? formatDuration(e.step) : ''}]` +
        atAndOffsetString(e.timestamp, e.startOrEnd, e.originalOffset)
      );
    case 'UnaryExpr':
      return `${e.op}${exprToString(e.expr)}`;
    case 'ParenExpr':
      return `(${exprToString(e.expr)})`;
    case 'StepInvariantExpr':
      return exprToString(e.expr);
    case 'Call':
      return `${e.func.name}(${e.args.map(exprToString).join(', ')})`;
    case 'AggregateExpr': {
      let s: string = e.op;
      if (e.without) s += ` without (${e.grouping.join(', ')}) `;
      else if (e.grouping.length > 0) s += ` by (${e.grouping.join(', ')}) `;
      s += '(';
      if (e.param) s += `${exprToString(e.param)}, `;
      return s + `${exprToString(e.expr)})`;
    }
    case 'BinaryExpr': {
      let matching = '';
      const vm = e.vectorMatching;
      if (vm && (vm.matchingLabels.length > 0 || vm.on)) {
        matching = ` ${vm.on ? 'on' : 'ignoring'} (${vm.matchingLabels.join(', ')})`;
        if (vm.card === 'many-to-one' || vm.card === 'one-to-many') {
          matching += ` group_${vm.card === 'many-to-one' ? 'left' : 'right'} (${vm.include.join(', ')})`;
        }
      }
      return `${exprToString(e.lhs)} ${e.op}${e.returnBool ? ' bool' : ''}${matching} ${exprToString(e.rhs)}`;
    }
  }
}
