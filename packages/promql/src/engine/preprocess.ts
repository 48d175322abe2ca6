import type { Expr, StepInvariantExpr, VectorSelector } from '../parser/ast';

/**
 * Functions whose result changes with the evaluation time even when their arguments do not
 * (Prometheus' AtModifierUnsafeFunctions): they are never wrapped as step-invariant.
 */
const AT_MODIFIER_UNSAFE = new Set([
  'days_in_month',
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'hour',
  'minute',
  'month',
  'year',
  'predict_linear',
  'time',
  'timestamp',
]);

/** A deep copy of the tree (matchers and function signatures are immutable and shared). */
export function cloneExpr(e: Expr): Expr {
  switch (e.type) {
    case 'NumberLiteral':
    case 'StringLiteral':
      return { ...e };
    case 'VectorSelector':
      return cloneVS(e);
    case 'MatrixSelector':
      return { ...e, vectorSelector: cloneVS(e.vectorSelector) };
    case 'SubqueryExpr':
    case 'UnaryExpr':
    case 'ParenExpr':
    case 'StepInvariantExpr':
      return { ...e, expr: cloneExpr(e.expr) };
    case 'BinaryExpr':
      return {
        ...e,
        lhs: cloneExpr(e.lhs),
        rhs: cloneExpr(e.rhs),
        vectorMatching: e.vectorMatching && {
          ...e.vectorMatching,
          matchingLabels: [...e.vectorMatching.matchingLabels],
          include: [...e.vectorMatching.include],
        },
      };
    case 'AggregateExpr':
      return { ...e, expr: cloneExpr(e.expr), param: e.param && cloneExpr(e.param), grouping: [...e.grouping] };
    case 'Call':
      return { ...e, args: e.args.map(cloneExpr) };
  }
}

function cloneVS(vs: VectorSelector): VectorSelector {
  return { ...vs, matchers: [...vs.matchers] };
}

function wrap(e: Expr): StepInvariantExpr {
  return { type: 'StepInvariantExpr', expr: e, pos: e.pos };
}

/**
 * Prometheus' PreprocessExpr on a copy of `expr`: resolves `@ start()` / `@ end()` to timestamps and
 * wraps every maximal step-invariant subtree in a StepInvariantExpr, so that it is evaluated once
 * and its result repeated for every step.
 */
export function preprocessExpr(expr: Expr, startMs: number, endMs: number): Expr {
  const e = cloneExpr(expr);
  return helper(e, startMs, endMs) ? wrap(e) : e;
}

function resolveAt(n: { timestamp: number | null; startOrEnd: 'start' | 'end' | null }, start: number, end: number): void {
  if (n.startOrEnd === 'start') n.timestamp = start;
  else if (n.startOrEnd === 'end') n.timestamp = end;
}

function helper(n: Expr, start: number, end: number): boolean {
  switch (n.type) {
    case 'VectorSelector':
      resolveAt(n, start, end);
      return n.timestamp !== null;
    case 'AggregateExpr':
      // As in Prometheus, only the aggregated expression decides (not the parameter).
      return helper(n.expr, start, end);
    case 'BinaryExpr': {
      const l = helper(n.lhs, start, end);
      const r = helper(n.rhs, start, end);
      if (l && r) return true;
      if (l) n.lhs = wrap(n.lhs);
      if (r) n.rhs = wrap(n.rhs);
      return false;
    }
    case 'Call': {
      let invariant = !AT_MODIFIER_UNSAFE.has(n.func.name);
      const argInv = n.args.map((a) => helper(a, start, end));
      for (const x of argInv) invariant = invariant && x;
      if (invariant) return true;
      argInv.forEach((x, i) => {
        if (x) n.args[i] = wrap(n.args[i]!);
      });
      return false;
    }
    case 'MatrixSelector':
      return helper(n.vectorSelector, start, end);
    case 'SubqueryExpr': {
      if (helper(n.expr, start, end)) n.expr = wrap(n.expr);
      resolveAt(n, start, end);
      return n.timestamp !== null;
    }
    case 'ParenExpr':
    case 'UnaryExpr':
      return helper(n.expr, start, end);
    case 'StepInvariantExpr':
    case 'StringLiteral':
    case 'NumberLiteral':
      return true;
  }
}

/** Removes ParenExpr and StepInvariantExpr wrappers. */
export function unwrap(e: Expr): Expr {
  let x = e;
  while (x.type === 'ParenExpr' || x.type === 'StepInvariantExpr') x = x.expr;
  return x;
}
