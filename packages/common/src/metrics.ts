import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

export { Registry };

export function createRegistry(withDefaults = true): Registry {
  const reg = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: reg });
  return reg;
}

/**
 * Returns the metric of that name already in the registry, or registers the one `make` builds.
 * Components that run in one process (all mode) share a registry and some metric names.
 */
export function getOrCreate<T>(reg: Registry, name: string, make: () => T): T {
  const existing = reg.getSingleMetric(name);
  if (existing !== undefined) return existing as unknown as T;
  return make();
}

/** `cortex_discarded_samples_total{reason,user}`, shared by distributor and ingester. */
export function discardedSamplesCounter(reg: Registry): Counter<'reason' | 'user'> {
  return getOrCreate(
    reg,
    'cortex_discarded_samples_total',
    () =>
      new Counter({
        name: 'cortex_discarded_samples_total',
        help: 'The total number of samples that were discarded.',
        labelNames: ['reason', 'user'],
        registers: [reg],
      }),
  );
}

/** `cortex_discarded_metadata_total{reason,user}`, shared by distributor and ingester. */
export function discardedMetadataCounter(reg: Registry): Counter<'reason' | 'user'> {
  return getOrCreate(
    reg,
    'cortex_discarded_metadata_total',
    () =>
      new Counter({
        name: 'cortex_discarded_metadata_total',
        help: 'The total number of metadata that were discarded.',
        labelNames: ['reason', 'user'],
        registers: [reg],
      }),
  );
}
