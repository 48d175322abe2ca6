export { PromQLError, ParseError } from './errors';
export type { PromQLErrorType, PositionRange } from './errors';
export { Engine } from './engine/engine';
export type { EngineOptions, QueryOptions, QueryResult } from './engine/engine';
export { parseExpr } from './parser/parser';
export { exprToString, exprType, documentedType, inspect } from './parser/ast';
export type {
  Expr,
  ValueType,
  NumberLiteral,
  StringLiteral,
  VectorSelector,
  MatrixSelector,
  SubqueryExpr,
  UnaryExpr,
  BinaryExpr,
  AggregateExpr,
  Call,
  ParenExpr,
  StepInvariantExpr,
  BinaryOp,
  AggregateOp,
  VectorMatching,
  VectorMatchCardinality,
} from './parser/ast';
export { FUNCTIONS, getFunction } from './parser/functions';
export type { FunctionSignature } from './parser/functions';
export { parseDuration, formatDuration } from './parser/duration';
