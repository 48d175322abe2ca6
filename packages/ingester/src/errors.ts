import { errorMessage, errorMessageWithLimit } from '@strata/common';

const ts = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');

/** Per-sample rejections: error ID, `reason` of cortex_discarded_samples_total, message. */
export const IngesterErrors = {
  outOfOrder: {
    id: 'sample-out-of-order',
    reason: 'sample-out-of-order',
    message: (t: number, series: string) =>
      errorMessage(
        'sample-out-of-order',
        'the sample has been rejected because another sample with a more recent timestamp has already been ingested and out-of-order samples are not allowed',
      ) + `. The affected sample has timestamp ${ts(t)} and is from series ${series}`,
  },
  duplicateTimestamp: {
    id: 'sample-duplicate-timestamp',
    reason: 'new-value-for-timestamp',
    message: (t: number, series: string) =>
      errorMessage(
        'sample-duplicate-timestamp',
        'the sample has been rejected because another sample with the same timestamp, but a different value, has already been ingested',
      ) + `. The affected sample has timestamp ${ts(t)} and is from series ${series}`,
  },
  tooOld: {
    id: 'sample-timestamp-too-old',
    reason: 'sample-out-of-bounds',
    message: (t: number, series: string) =>
      errorMessage('sample-timestamp-too-old', 'the sample has been rejected because its timestamp is too old') +
      `. The affected sample has timestamp ${ts(t)} and is from series ${series}`,
  },
  maxSeriesPerUser: {
    id: 'max-series-per-user',
    reason: 'per_user_series_limit',
    message: (limit: number) =>
      errorMessageWithLimit('max-series-per-user', `per-user series limit of ${limit} exceeded`, 'ingester.max-global-series-per-user'),
  },
  maxSeriesPerMetric: {
    id: 'max-series-per-metric',
    reason: 'per_metric_series_limit',
    message: (limit: number, metric: string) =>
      errorMessageWithLimit(
        'max-series-per-metric',
        `per-metric series limit of ${limit} exceeded for metric ${metric}`,
        'ingester.max-global-series-per-metric',
      ),
  },
  // Metadata limits: messages and IDs as Mimir's perUserMetadataLimitReachedError and
  // perMetricMetadataLimitReachedError (pkg/ingester/errors.go); reasons of cortex_discarded_metadata_total
  // as Mimir's ingester (per_user_metadata_limit, per_metric_metadata_limit).
  maxMetadataPerUser: {
    id: 'max-metadata-per-user',
    reason: 'per_user_metadata_limit',
    message: (limit: number) =>
      errorMessageWithLimit('max-metadata-per-user', `per-user metric metadata limit of ${limit} exceeded`, 'ingester.max-global-metadata-per-user'),
  },
  maxMetadataPerMetric: {
    id: 'max-metadata-per-metric',
    reason: 'per_metric_metadata_limit',
    message: (limit: number, metric: string) =>
      errorMessageWithLimit('max-metadata-per-metric', `per-metric metadata limit of ${limit} exceeded`, 'ingester.max-global-metadata-per-metric') +
      ` This is for metric ${metric}`,
  },
} as const;
