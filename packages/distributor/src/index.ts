export { Distributor } from './distributor';
export type { DistributorConfig, DistributorDeps, PushOutcome } from './distributor';
export { createPushHandler, snappyDecodedLength } from './push-handler';
export type { PushHandlerConfig } from './push-handler';
export { WriteRequestDecoder, DecodeError } from './write-request-decoder';
export type { ValidationLimits, DiscardSink, DecodeResult } from './write-request-decoder';
export { ErrorIds as DistributorErrorIds } from './validation-errors';
export { RateLimiter } from './rate-limiter';
