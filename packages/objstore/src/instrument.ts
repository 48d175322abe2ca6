import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { getOrCreate } from '@strata/common';
import type { Bucket, IterOptions, UploadBody } from './bucket';
import { isNotFound } from './errors';

/** Operation label values, as Thanos' objstore. */
export const OPERATIONS = ['get', 'get_range', 'upload', 'delete', 'exists', 'attributes', 'iter'] as const;
export type Operation = (typeof OPERATIONS)[number];

type Labels = 'bucket' | 'component' | 'operation';

/** Thanos' objstore histogram buckets (seconds). */
const DURATION_BUCKETS = [0.001, 0.01, 0.1, 0.3, 0.6, 1, 3, 6, 9, 20, 30, 60, 90, 120, 240, 360, 720];

interface BucketMetrics {
  ops: Counter<Labels>;
  failures: Counter<Labels>;
  duration: Histogram<Labels>;
  lastUpload: Gauge<'bucket' | 'component'>;
}

function metrics(reg: Registry): BucketMetrics {
  return {
    ops: getOrCreate(
      reg,
      'thanos_objstore_bucket_operations_total',
      () =>
        new Counter({
          name: 'thanos_objstore_bucket_operations_total',
          help: 'Total number of all attempted operations against a bucket.',
          labelNames: ['bucket', 'component', 'operation'],
          registers: [reg],
        }),
    ),
    failures: getOrCreate(
      reg,
      'thanos_objstore_bucket_operation_failures_total',
      () =>
        new Counter({
          name: 'thanos_objstore_bucket_operation_failures_total',
          help: 'Total number of operations against a bucket that failed, but were not expected to fail in certain way from caller perspective. Those errors have to be investigated.',
          labelNames: ['bucket', 'component', 'operation'],
          registers: [reg],
        }),
    ),
    duration: getOrCreate(
      reg,
      'thanos_objstore_bucket_operation_duration_seconds',
      () =>
        new Histogram({
          name: 'thanos_objstore_bucket_operation_duration_seconds',
          help: 'Duration of successful operations against the bucket',
          labelNames: ['bucket', 'component', 'operation'],
          buckets: DURATION_BUCKETS,
          registers: [reg],
        }),
    ),
    lastUpload: getOrCreate(
      reg,
      'thanos_objstore_bucket_last_successful_upload_time',
      () =>
        new Gauge({
          name: 'thanos_objstore_bucket_last_successful_upload_time',
          help: 'Second timestamp of the last successful upload to the bucket.',
          labelNames: ['bucket', 'component'],
          registers: [reg],
        }),
    ),
  };
}

/**
 * `b` with Thanos' bucket metrics: `thanos_objstore_bucket_operations_total`,
 * `thanos_objstore_bucket_operation_failures_total`, `thanos_objstore_bucket_operation_duration_seconds`
 * (successful operations) and `thanos_objstore_bucket_last_successful_upload_time`, labelled
 * {bucket, operation} plus {component} when given (Mimir's wrapping registerer adds it). A missing
 * object is an expected outcome, not a failure. Metrics are registered once per registry, so several
 * instrumented buckets can share it.
 */
export function instrumentBucket(b: Bucket, registry: Registry, component?: string): Bucket {
  const m = metrics(registry);
  const base: Partial<Record<Labels, string>> = { bucket: b.name };
  if (component !== undefined && component !== '') base.component = component;
  const labels = {} as Record<Operation, Partial<Record<Labels, string>>>;
  for (const op of OPERATIONS) {
    labels[op] = { ...base, operation: op };
    m.ops.inc(labels[op], 0);
    m.failures.inc(labels[op], 0);
  }

  const observe = async <T>(op: Operation, fn: () => Promise<T>): Promise<T> => {
    const l = labels[op];
    m.ops.inc(l);
    const start = process.hrtime.bigint();
    try {
      const res = await fn();
      m.duration.observe(l, Number(process.hrtime.bigint() - start) / 1e9);
      return res;
    } catch (e) {
      if (!isNotFound(e)) m.failures.inc(l);
      throw e;
    }
  };

  const wrapped: Bucket = {
    name: b.name,
    get: (key: string) => observe('get', () => b.get(key)),
    getRange: (key: string, offset: number, length: number) => observe('get_range', () => b.getRange(key, offset, length)),
    upload: async (key: string, body: UploadBody) => {
      await observe('upload', () => b.upload(key, body));
      m.lastUpload.set(base, Date.now() / 1000);
    },
    delete: (key: string) => observe('delete', () => b.delete(key)),
    exists: (key: string) => observe('exists', () => b.exists(key)),
    attributes: (key: string) => observe('attributes', () => b.attributes(key)),
    iter: (prefix: string, opts?: IterOptions) => observe('iter', () => b.iter(prefix, opts)),
  };
  if (b.close !== undefined) wrapped.close = () => b.close!();
  return wrapped;
}
