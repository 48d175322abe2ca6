import * as grpc from '@grpc/grpc-js';
import { isStrataError, StrataError } from '@strata/common';
import { DecodeError, RegexSyntaxError } from '@strata/tsdb-core';

/** Trailer with the HTTP status of an error, so that clients rebuild a StrataError with it. */
export const HTTP_STATUS_METADATA = 'strata-http-status';
/** Trailer with the stable error ID (`err-strata-<id>`). */
export const ERROR_ID_METADATA = 'strata-error-id';

/** An error of a call to an ingester over gRPC. Its `status` is the HTTP status the error maps to. */
export class IngesterGrpcError extends StrataError {
  constructor(
    id: string,
    status: number,
    message: string,
    /** The gRPC status code received. */
    readonly code: grpc.status,
    /** The ingester's address. */
    readonly addr: string,
  ) {
    super(id, status, message);
    this.name = 'IngesterGrpcError';
  }
}

/** The gRPC code for an HTTP status. */
export function grpcCodeForHttpStatus(status: number): grpc.status {
  switch (status) {
    case 401:
      return grpc.status.UNAUTHENTICATED;
    case 403:
      return grpc.status.PERMISSION_DENIED;
    case 404:
      return grpc.status.NOT_FOUND;
    case 429:
      return grpc.status.RESOURCE_EXHAUSTED;
    case 501:
      return grpc.status.UNIMPLEMENTED;
    case 503:
      return grpc.status.UNAVAILABLE;
    case 504:
      return grpc.status.DEADLINE_EXCEEDED;
  }
  return status >= 400 && status < 500 ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL;
}

// The Ingester throws a plain Error while stopping; a retry on another replica can succeed.
const UNAVAILABLE_TEXT = /\b(is stopping|is not running|LEAVING|not ready)\b/;

/** The id, HTTP status and message an error thrown by an IngesterClient implementation maps to. */
export function classifyError(e: unknown): { id: string; status: number; message: string } {
  if (isStrataError(e)) return { id: e.id, status: e.status, message: e.message };
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof DecodeError) return { id: 'bad-request', status: 400, message };
  if (e instanceof RegexSyntaxError) return { id: 'bad-matcher', status: 400, message };
  if (UNAVAILABLE_TEXT.test(message)) return { id: 'ingester-unavailable', status: 503, message };
  return { id: 'internal', status: 500, message };
}

/** The gRPC status a server sends for an error: code, message, and trailers with status and ID. */
export function toServiceError(e: unknown): grpc.ServerErrorResponse & { code: grpc.status; details: string } {
  const { id, status, message } = classifyError(e);
  const metadata = new grpc.Metadata();
  metadata.set(HTTP_STATUS_METADATA, String(status));
  metadata.set(ERROR_ID_METADATA, id);
  const err = new Error(message) as grpc.ServerErrorResponse & { code: grpc.status; details: string };
  err.code = grpcCodeForHttpStatus(status);
  err.details = message;
  err.metadata = metadata;
  return err;
}

function firstString(md: grpc.Metadata | undefined, key: string): string | undefined {
  const v = md?.get(key)[0];
  return v === undefined ? undefined : String(v);
}

/**
 * Turns a failed call into an IngesterGrpcError. Errors sent by our server keep their HTTP status,
 * ID and message; transport failures become 503 (unavailable), 504 (deadline) or 500.
 */
export function fromServiceError(err: grpc.ServiceError, addr: string, method: string, timeoutMs: number): IngesterGrpcError {
  const s = firstString(err.metadata, HTTP_STATUS_METADATA);
  const status = s === undefined ? NaN : Number(s);
  if (Number.isInteger(status) && status >= 100 && status <= 599) {
    return new IngesterGrpcError(firstString(err.metadata, ERROR_ID_METADATA) ?? 'ingester-error', status, err.details, err.code, addr);
  }
  switch (err.code) {
    case grpc.status.DEADLINE_EXCEEDED:
      return new IngesterGrpcError(
        'ingester-timeout',
        504,
        `${method} to ingester ${addr} timed out after ${timeoutMs} ms (${err.details})`,
        err.code,
        addr,
      );
    case grpc.status.UNAVAILABLE:
      return new IngesterGrpcError('ingester-unavailable', 503, `ingester ${addr} is unavailable: ${err.details}`, err.code, addr);
    case grpc.status.CANCELLED:
      return new IngesterGrpcError('ingester-cancelled', 503, `${method} to ingester ${addr} was cancelled: ${err.details}`, err.code, addr);
    case grpc.status.RESOURCE_EXHAUSTED:
      // e.g. a message larger than -ingester.client.grpc-max-recv-msg-size
      return new IngesterGrpcError('ingester-resource-exhausted', 500, `${method} to ingester ${addr}: ${err.details}`, err.code, addr);
  }
  return new IngesterGrpcError('ingester-error', 500, `${method} to ingester ${addr} failed: ${grpc.status[err.code] ?? err.code}: ${err.details}`, err.code, addr);
}
