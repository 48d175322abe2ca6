export { createPrometheusApiRouter, toApiError } from './api';
export type { BuildInfo, MetadataProvider, MetricMetadata, PrometheusApiDeps } from './api';
export type { QueryEngine, QueryOptions, QueryResult, SelectorParser } from './engine';
export { maxQueryLengthMessage } from './api';
export { ApiError, goQuote, invalidParamError, isApiErrorType, statusForErrorType } from './errors';
export type { ApiErrorType } from './errors';
export {
  BodyWriter,
  encodeJson,
  errorJson,
  formatFloatTimestamp,
  formatPointTimestamp,
  formatSampleValue,
  formatScalarValue,
  jsonString,
  labelsJson,
  queryDataJson,
  stringArrayJson,
  successJson,
  writeQueryData,
} from './format';
export {
  MAX_POINTS_PER_SERIES,
  MAX_TIME,
  MAX_TIME_FORMATTED,
  MIN_TIME,
  MIN_TIME_FORMATTED,
  ParamParseError,
  checkRangeParams,
  durationParam,
  formValue,
  fromMillis,
  isLegacyLabelName,
  labelNameParam,
  parseDuration,
  parseGoFloat,
  parseGoInt,
  parseTime,
  parseUrlEncoded,
  requiredTimeParam,
  timeBefore,
  timeParam,
  toEngineMillis,
  toMillis,
  unescapeLabelName,
} from './params';
export type { FormValues, PromTime } from './params';
export { IngesterQuerier } from './ingester-querier';
export { MergeQuerier } from './merge-querier';
export type { TimedQuerier } from './merge-querier';
export { BucketStore } from './bucket-store';
export type { BucketStoreConfig } from './bucket-store';
export { RingIngesterQuerier } from './ring-querier';
export type { ReadRing, RingInstance } from './ring-querier';
