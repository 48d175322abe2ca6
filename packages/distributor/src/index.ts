export { Distributor } from './distributor';
export type { DistributorConfig, DistributorDeps, PushOutcome } from './distributor';
export { createPushHandler, snappyDecodedLength } from './push-handler';
export type { PushHandlerConfig } from './push-handler';
export { WriteRequestDecoder, DecodeError } from './write-request-decoder';
export type { ValidationLimits, DiscardSink, DecodeResult } from './write-request-decoder';
export { ErrorIds as DistributorErrorIds } from './validation-errors';
export { RateLimiter } from './rate-limiter';
export { pushReplicated } from './replication';
export type { Replicator, WriteRing, ReplicationSet, IngesterInstance } from './replication';
export {
  HATracker,
  ReplicasNotMatchError,
  TooManyHAClustersError,
  HAErrorIds,
  validateHATrackerConfig,
  haTrackerConfigFromConfig,
  renderHATrackerPage,
  haTrackerJSON,
  createHATrackerHandler,
} from './ha-tracker';
export type { HATrackerConfig, HATrackerDeps, HAElection } from './ha-tracker';
export { HADedupe } from './ha-dedupe';
export type { HADedupeResult } from './ha-dedupe';
export type { DecodeOptions } from './write-request-decoder';
