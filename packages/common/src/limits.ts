import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { CONFIG_DEFS, type Config, type Def } from './config/definitions';
import { ConfigError, parseConfigValue } from './config/load';
import type { Logger } from './logger';

/** The per-tenant limits (a subset of Config, keyed by flag name): numbers, booleans and strings. */
export interface Limits {
  ingestionRate: number;
  ingestionBurstSize: number;
  maxLabelNamesPerSeries: number;
  maxLabelNameLength: number;
  maxLabelValueLength: number;
  creationGracePeriod: number;
  maxGlobalSeriesPerUser: number;
  maxGlobalSeriesPerMetric: number;
  maxMetadataLength: number;
  enforceMetadataMetricName: boolean;
  maxGlobalMetadataPerUser: number;
  maxGlobalMetadataPerMetric: number;
  maxQueryLength: number;
  acceptHASamples: boolean;
  haClusterLabel: string;
  haReplicaLabel: string;
  haMaxClusters: number;
}

const LIMIT_FLAGS: Record<keyof Limits, keyof Config> = {
  ingestionRate: 'distributor.ingestion-rate-limit',
  ingestionBurstSize: 'distributor.ingestion-burst-size',
  maxLabelNamesPerSeries: 'validation.max-label-names-per-series',
  maxLabelNameLength: 'validation.max-length-label-name',
  maxLabelValueLength: 'validation.max-length-label-value',
  creationGracePeriod: 'validation.create-grace-period',
  maxGlobalSeriesPerUser: 'ingester.max-global-series-per-user',
  maxGlobalSeriesPerMetric: 'ingester.max-global-series-per-metric',
  maxMetadataLength: 'validation.max-metadata-length',
  enforceMetadataMetricName: 'validation.enforce-metadata-metric-name',
  maxGlobalMetadataPerUser: 'ingester.max-global-metadata-per-user',
  maxGlobalMetadataPerMetric: 'ingester.max-global-metadata-per-metric',
  maxQueryLength: 'querier.max-query-length',
  acceptHASamples: 'distributor.ha-tracker.enable-for-all-users',
  haClusterLabel: 'distributor.ha-tracker.cluster',
  haReplicaLabel: 'distributor.ha-tracker.replica',
  haMaxClusters: 'distributor.ha-tracker.max-clusters',
};

/** YAML key of a limit inside `overrides.<tenant>` (its key under `limits:`). */
const LIMIT_DEFS_BY_YAML = new Map<string, [keyof Limits, Def]>();
for (const [field, flag] of Object.entries(LIMIT_FLAGS) as [keyof Limits, keyof Config][]) {
  const d = CONFIG_DEFS.find((x) => x.flag === flag)!;
  LIMIT_DEFS_BY_YAML.set(d.yaml.replace(/^limits\./, ''), [field, d]);
}

export function limitsFromConfig(cfg: Config): Limits {
  const l = {} as Record<keyof Limits, unknown>;
  for (const [field, flag] of Object.entries(LIMIT_FLAGS) as [keyof Limits, keyof Config][]) {
    l[field] = cfg[flag];
  }
  return l as Limits;
}

/** Parses a runtime config document: `overrides: { <tenant>: { <limit yaml key>: value } }`. */
export function parseRuntimeConfig(text: string, defaults: Limits): Map<string, Limits> {
  const doc = (YAML.parse(text) ?? {}) as Record<string, unknown>;
  const out = new Map<string, Limits>();
  for (const k of Object.keys(doc)) {
    if (k !== 'overrides') throw new ConfigError(`unknown runtime configuration key '${k}'`);
  }
  const ov = (doc.overrides ?? {}) as Record<string, Record<string, unknown>>;
  for (const [tenant, vals] of Object.entries(ov)) {
    const l = { ...defaults };
    for (const [k, v] of Object.entries(vals ?? {})) {
      const e = LIMIT_DEFS_BY_YAML.get(k);
      if (e === undefined) throw new ConfigError(`unknown runtime configuration key 'overrides.${tenant}.${k}'`);
      (l as Record<string, unknown>)[e[0]] = parseConfigValue(e[1], v, `runtime configuration key 'overrides.${tenant}.${k}'`);
    }
    out.set(tenant, l);
  }
  return out;
}

/** Per-tenant limits: defaults from the config, overridden per tenant by the runtime config file. */
export class Overrides {
  private tenants = new Map<string, Limits>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly defaults: Limits,
    private readonly runtimeFile = '',
    private readonly reloadPeriodMs = 10_000,
    private readonly logger?: Logger,
  ) {}

  forTenant(tenant: string): Limits {
    return this.tenants.get(tenant) ?? this.defaults;
  }

  ingestionRate(t: string): number {
    return this.forTenant(t).ingestionRate;
  }
  ingestionBurstSize(t: string): number {
    return this.forTenant(t).ingestionBurstSize;
  }
  maxLabelNamesPerSeries(t: string): number {
    return this.forTenant(t).maxLabelNamesPerSeries;
  }
  maxLabelNameLength(t: string): number {
    return this.forTenant(t).maxLabelNameLength;
  }
  maxLabelValueLength(t: string): number {
    return this.forTenant(t).maxLabelValueLength;
  }
  creationGracePeriod(t: string): number {
    return this.forTenant(t).creationGracePeriod;
  }
  maxGlobalSeriesPerUser(t: string): number {
    return this.forTenant(t).maxGlobalSeriesPerUser;
  }
  maxGlobalSeriesPerMetric(t: string): number {
    return this.forTenant(t).maxGlobalSeriesPerMetric;
  }
  maxQueryLength(t: string): number {
    return this.forTenant(t).maxQueryLength;
  }
  /** Whether the HA tracker deduplicates this tenant's HA-pair samples (`accept_ha_samples`). */
  acceptHASamples(t: string): boolean {
    return this.forTenant(t).acceptHASamples;
  }
  haClusterLabel(t: string): string {
    return this.forTenant(t).haClusterLabel;
  }
  haReplicaLabel(t: string): string {
    return this.forTenant(t).haReplicaLabel;
  }
  /** Most HA clusters tracked for the tenant (0 = unlimited). */
  haMaxClusters(t: string): number {
    return this.forTenant(t).haMaxClusters;
  }

  setTenantLimits(m: Map<string, Limits>): void {
    this.tenants = m;
  }

  /** Loads the runtime config once (errors are fatal at start) and then reloads it periodically. */
  async start(): Promise<void> {
    if (this.runtimeFile === '') return;
    await this.reload();
    this.timer = setInterval(() => {
      this.reload().catch((e: Error) => this.logger?.error({ err: e.message }, 'failed to reload runtime config'));
    }, this.reloadPeriodMs);
    this.timer.unref();
  }

  async reload(): Promise<void> {
    const text = await readFile(this.runtimeFile, 'utf8');
    this.tenants = parseRuntimeConfig(text, this.defaults);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
