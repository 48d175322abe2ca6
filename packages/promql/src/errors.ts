/**
 * Errors of the PromQL package. `errorType` is the Prometheus HTTP API error type the querier
 * answers with (formats.md §7): parse and validation errors are `bad_data`, evaluation errors
 * (many-to-many matching, too many samples, …) `execution`, deadline `timeout`, abort `canceled`,
 * storage failures `internal`. Messages are Prometheus' own texts, so they carry no strata error ID.
 */

export type PromQLErrorType = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal';

export class PromQLError extends Error {
  constructor(
    readonly errorType: PromQLErrorType,
    message: string,
  ) {
    super(message);
    this.name = 'PromQLError';
  }
}

/** A source range in the query text: UTF-16 indices, end exclusive. */
export interface PositionRange {
  readonly start: number;
  readonly end: number;
}

/**
 * A parse error, printed as Prometheus does: `<line>:<col>: parse error: <msg>` where the column
 * counts UTF-8 bytes from 1, like Go's parser (which works on byte offsets).
 */
export class ParseError extends PromQLError {
  constructor(
    readonly positionRange: PositionRange,
    readonly detail: string,
    readonly query: string,
  ) {
    super('bad_data', `${positionPrefix(query, positionRange.start)} parse error: ${detail}`);
    this.name = 'ParseError';
  }
}

function positionPrefix(query: string, pos: number): string {
  if (pos < 0 || pos > query.length) return 'invalid position:';
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < pos; i++) {
    if (query.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  const col = Buffer.byteLength(query.slice(lineStart, pos), 'utf8') + 1;
  return `${line}:${col}:`;
}
