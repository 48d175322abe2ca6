import { errorMessage, errorMessageWithLimit } from '@strata/common';

/** Stable error IDs of the write path; `reason` labels are these with `_`. */
export const ErrorIds = {
  missingMetricName: 'missing-metric-name',
  invalidMetricName: 'metric-name-invalid',
  maxLabelNamesPerSeries: 'max-label-names-per-series',
  invalidLabel: 'label-invalid',
  invalidLabelValue: 'label-value-invalid',
  labelNameTooLong: 'label-name-too-long',
  labelValueTooLong: 'label-value-too-long',
  duplicateLabelNames: 'duplicate-label-names',
  tooFarInFuture: 'too-far-in-future',
  maxWriteMessageSize: 'distributor-max-write-message-size',
  ingestionRateLimited: 'tenant-max-ingestion-rate',
  nativeHistogramsUnsupported: 'native-histograms-unsupported',
  metadataMissingMetricName: 'metadata-missing-metric-name',
  metadataMetricNameTooLong: 'metric-name-too-long',
  metadataUnitTooLong: 'unit-too-long',
} as const;

const trunc = (s: string, n = 200) => (s.length > n ? s.slice(0, n) : s);

export const messages = {
  metadataMissingMetricName: () => errorMessage(ErrorIds.metadataMissingMetricName, 'received a metric metadata with no metric name'),
  metadataMetricNameTooLong: (name: string) =>
    errorMessageWithLimit(
      ErrorIds.metadataMetricNameTooLong,
      `received a metric metadata whose metric name length exceeds the limit, metric name: '${trunc(name)}'`,
      'validation.max-metadata-length',
    ),
  metadataUnitTooLong: (unit: string, name: string) =>
    errorMessageWithLimit(
      ErrorIds.metadataUnitTooLong,
      `received a metric metadata whose unit name length exceeds the limit, unit: '${trunc(unit)}' metric name: '${trunc(name)}'`,
      'validation.max-metadata-length',
    ),
  missingMetricName: () => errorMessage(ErrorIds.missingMetricName, 'received series has no metric name'),
  invalidMetricName: (name: string) =>
    errorMessage(ErrorIds.invalidMetricName, `received a series with invalid metric name: '${trunc(name)}'`),
  maxLabelNamesPerSeries: (actual: number, limit: number, series: string) =>
    errorMessageWithLimit(
      ErrorIds.maxLabelNamesPerSeries,
      `received a series whose number of labels exceeds the limit (actual: ${actual}, limit: ${limit}) series: '${trunc(series)}'`,
      'validation.max-label-names-per-series',
    ),
  invalidLabel: (label: string, series: string) =>
    errorMessage(ErrorIds.invalidLabel, `received a series with an invalid label: '${trunc(label)}' series: '${trunc(series)}'`),
  invalidLabelValue: (label: string, value: string, metric: string) =>
    errorMessage(
      ErrorIds.invalidLabelValue,
      `received a series with invalid value in label '${trunc(label)}': '${trunc(value)}' metric: '${trunc(metric)}'`,
    ),
  labelNameTooLong: (label: string, series: string) =>
    errorMessageWithLimit(
      ErrorIds.labelNameTooLong,
      `received a series whose label name length exceeds the limit, label: '${trunc(label)}' series: '${trunc(series)}'`,
      'validation.max-length-label-name',
    ),
  labelValueTooLong: (label: string, value: string, series: string) =>
    errorMessageWithLimit(
      ErrorIds.labelValueTooLong,
      `received a series whose label value length exceeds the limit, label: '${label}', value: '${trunc(value)}' (truncated) series: '${trunc(series)}'`,
      'validation.max-length-label-value',
    ),
  duplicateLabelNames: (label: string, series: string) =>
    errorMessage(
      ErrorIds.duplicateLabelNames,
      `received a series with duplicate label name, label: '${trunc(label)}' series: '${trunc(series)}'`,
    ),
  tooFarInFuture: (ts: number, metric: string) =>
    errorMessageWithLimit(
      ErrorIds.tooFarInFuture,
      `received a sample whose timestamp is too far in the future, timestamp: ${ts} series: '${trunc(metric)}'`,
      'validation.create-grace-period',
    ),
  maxWriteMessageSize: (size: number, limit: number) =>
    `the incoming push request has been rejected because its message size of ${size} bytes (uncompressed) is larger than the allowed limit of ${limit} bytes (err-strata-${ErrorIds.maxWriteMessageSize}). To adjust the related limit, configure -distributor.max-recv-msg-size, or contact your service administrator.`,
  ingestionRateLimited: (limit: number, burst: number) =>
    `the request has been rejected because the tenant exceeded the ingestion rate limit, set to ${limit} items/s with a maximum allowed burst of ${burst}. This limit is applied on the total number of samples, exemplars and metadata received across all distributors (err-strata-${ErrorIds.ingestionRateLimited}). To adjust the related per-tenant limits, configure -distributor.ingestion-rate-limit and -distributor.ingestion-burst-size, or contact your service administrator.`,
  nativeHistogramsUnsupported: (metric: string) =>
    errorMessage(
      ErrorIds.nativeHistogramsUnsupported,
      `received a native histogram sample, which this version does not store; the histogram samples of series '${trunc(metric)}' were discarded`,
    ),
};
