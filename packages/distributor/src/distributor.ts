import { Counter, Gauge, type Registry } from 'prom-client';
import { discardedMetadataCounter, discardedSamplesCounter, reasonOf, StrataError, type Limits, type Logger, type Overrides } from '@strata/common';
import { WriteBatch, type IngesterClient, type MetricMetadataEntry } from '@strata/tsdb-core';
import type { HADedupe } from './ha-dedupe';
import { RateLimiter } from './rate-limiter';
import { pushReplicated, type Replicator } from './replication';
import { ErrorIds, messages } from './validation-errors';
import { DecodeError, WriteRequestDecoder, type DiscardSink } from './write-request-decoder';

export interface DistributorConfig {
  maxRecvMsgSize: number;
}

export interface DistributorDeps {
  /** Where series go: one ingester (no replication), or a ring-aware replicator. */
  ingester?: IngesterClient;
  replicator?: Replicator;
  /** HA-pair deduplication (-distributor.ha-tracker.enable). */
  haDedupe?: HADedupe;
  overrides: Overrides;
  registry: Registry;
  logger: Logger;
  now?: () => number;
}

export interface PushOutcome {
  status: number;
  /** Error text for non-2xx answers (empty on success). */
  message: string;
}

/**
 * Validates remote-write requests, applies per-tenant limits and forwards the valid series to
 * the ingesters. Partial ingestion as Mimir: valid series are stored and the first error is
 * returned with 400.
 */
export class Distributor {
  private readonly decoder = new WriteRequestDecoder();
  private readonly limiter: RateLimiter;
  private readonly now: () => number;
  private readonly m: {
    receivedSamples: Counter<'user'>;
    samplesIn: Counter<'user'>;
    receivedMetadata: Counter<'user'>;
    requestsIn: Counter<'user'>;
    receivedExemplars: Counter<'user'>;
    inflight: Gauge;
    discarded: Counter<'reason' | 'user'>;
    discardedMetadata: Counter<'reason' | 'user'>;
  };

  constructor(
    private readonly cfg: DistributorConfig,
    private readonly deps: DistributorDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.limiter = new RateLimiter(this.now);
    const reg = deps.registry;
    this.m = {
      receivedSamples: new Counter({
        name: 'cortex_distributor_received_samples_total',
        help: 'The total number of received samples, excluding rejected and deduped samples.',
        labelNames: ['user'],
        registers: [reg],
      }),
      samplesIn: new Counter({
        name: 'cortex_distributor_samples_in_total',
        help: 'The total number of samples that have come in to the distributor, including rejected or deduped samples.',
        labelNames: ['user'],
        registers: [reg],
      }),
      receivedMetadata: new Counter({
        name: 'cortex_distributor_received_metadata_total',
        help: 'The total number of received metadata, excluding rejected.',
        labelNames: ['user'],
        registers: [reg],
      }),
      receivedExemplars: new Counter({
        name: 'cortex_distributor_received_exemplars_total',
        help: 'The total number of received exemplars, excluding rejected and deduped exemplars.',
        labelNames: ['user'],
        registers: [reg],
      }),
      requestsIn: new Counter({
        name: 'cortex_distributor_requests_in_total',
        help: 'The total number of requests that have come in to the distributor, including rejected or deduped requests.',
        labelNames: ['user'],
        registers: [reg],
      }),
      inflight: new Gauge({
        name: 'cortex_distributor_inflight_push_requests',
        help: 'Current number of inflight push requests in distributor.',
        registers: [reg],
      }),
      discarded: discardedSamplesCounter(reg),
      discardedMetadata: discardedMetadataCounter(reg),
    };
  }

  /**
   * Handles one decompressed remote-write body for `tenant`. Never throws for client errors:
   * returns the status and message to send.
   */
  async push(tenant: string, body: Uint8Array): Promise<PushOutcome> {
    this.m.inflight.inc();
    try {
      return await this.pushInner(tenant, body);
    } finally {
      this.m.inflight.dec();
    }
  }

  private async pushInner(tenant: string, body: Uint8Array): Promise<PushOutcome> {
    this.m.requestsIn.inc({ user: tenant });
    const ov = this.deps.overrides;
    const limits = ov.forTenant(tenant);
    const batch = new WriteBatch(1024);
    let firstError: string | undefined;
    const discards = new Map<string, number>();
    const sink: DiscardSink = {
      discard(id, n, msg) {
        discards.set(id, (discards.get(id) ?? 0) + n);
        if (firstError === undefined) firstError = msg();
      },
    };
    const ha = this.deps.haDedupe !== undefined ? await this.deps.haDedupe.check(tenant, body) : undefined;
    if (ha?.outcome !== undefined) {
      this.m.samplesIn.inc({ user: tenant }, ha.samples);
      return ha.outcome;
    }
    let res;
    try {
      res = this.decoder.decode(
        body,
        {
          maxLabelNamesPerSeries: limits.maxLabelNamesPerSeries,
          maxLabelNameLength: limits.maxLabelNameLength,
          maxLabelValueLength: limits.maxLabelValueLength,
          maxTimestamp: this.now() + limits.creationGracePeriod,
        },
        batch,
        sink,
        { dropLabel: ha?.dropLabel },
      );
    } catch (e) {
      if (e instanceof DecodeError) return { status: 400, message: `failed to parse the write request: ${e.message}` };
      throw e;
    }
    this.m.samplesIn.inc({ user: tenant }, res.samples + res.histograms);
    if (ha?.nonHA) this.deps.haDedupe!.countNonHASamples(tenant, res.samples + res.histograms);
    for (const [id, n] of discards) this.m.discarded.inc({ reason: reasonOf(id), user: tenant }, n);

    if (batch.metadata.length > 0) {
      const err = this.validateMetadata(tenant, limits, batch.metadata);
      if (firstError === undefined) firstError = err;
    }
    const valid = batch.numSamples;
    const validMetadata = batch.metadata.length;
    if (valid + validMetadata > 0 && !this.limiter.allow(tenant, valid + validMetadata, limits.ingestionRate, limits.ingestionBurstSize)) {
      this.m.discarded.inc({ reason: 'rate_limited', user: tenant }, valid);
      if (validMetadata > 0) this.m.discardedMetadata.inc({ reason: 'rate_limited', user: tenant }, validMetadata);
      return { status: 429, message: messages.ingestionRateLimited(limits.ingestionRate, limits.ingestionBurstSize) };
    }
    this.m.receivedMetadata.inc({ user: tenant }, validMetadata);
    if (valid + validMetadata > 0) {
      const r = this.deps.replicator !== undefined ? await pushReplicated(this.deps.replicator, tenant, batch) : await this.deps.ingester!.push(tenant, batch);
      this.m.receivedSamples.inc({ user: tenant }, valid);
      if (firstError === undefined && r.firstError !== undefined) {
        return { status: r.firstError.status, message: r.firstError.message };
      }
    }
    if (firstError !== undefined) return { status: 400, message: firstError };
    return { status: 200, message: '' };
  }

  /**
   * Mimir's cleanAndValidateMetadata: drops metadata without a metric name (when enforced) or
   * with a name or unit longer than -validation.max-metadata-length, truncating over-long help
   * texts instead. Keeps the valid entries in `mds`; returns the first error.
   */
  private validateMetadata(tenant: string, limits: Limits, mds: MetricMetadataEntry[]): string | undefined {
    const max = limits.maxMetadataLength;
    let first: string | undefined;
    let kept = 0;
    for (const md of mds) {
      let reason: string | undefined;
      let msg: string | undefined;
      if (limits.enforceMetadataMetricName && md.metricFamilyName === '') {
        reason = 'missing_metric_name';
        msg = messages.metadataMissingMetricName();
      } else if (Buffer.byteLength(md.metricFamilyName, 'utf8') > max) {
        reason = reasonOf(ErrorIds.metadataMetricNameTooLong);
        msg = messages.metadataMetricNameTooLong(md.metricFamilyName);
      } else if (Buffer.byteLength(md.unit, 'utf8') > max) {
        reason = reasonOf(ErrorIds.metadataUnitTooLong);
        msg = messages.metadataUnitTooLong(md.unit, md.metricFamilyName);
      }
      if (reason !== undefined) {
        this.m.discardedMetadata.inc({ reason, user: tenant });
        first ??= msg;
        continue;
      }
      if (md.help.length > max / 3 && Buffer.byteLength(md.help, 'utf8') > max) md.help = truncateUtf8(md.help, max);
      mds[kept++] = md;
    }
    mds.length = kept;
    return first;
  }

  /** Checks the snappy header's decompressed length before anything is allocated. */
  checkSize(decodedLen: number): void {
    if (decodedLen > this.cfg.maxRecvMsgSize) {
      throw new StrataError(ErrorIds.maxWriteMessageSize, 400, messages.maxWriteMessageSize(decodedLen, this.cfg.maxRecvMsgSize));
    }
  }
}

/**
 * The longest prefix of `s` whose UTF-8 encoding has at most `max` bytes, cut at a character
 * boundary: what Mimir keeps of an over-long help text (`help[:i]` for the last rune start i <= max).
 */
export function truncateUtf8(s: string, max: number): string {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const len = c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 4 : 3;
    if (bytes + len > max) return s.slice(0, i);
    bytes += len;
    if (len === 4) i++;
  }
  return s;
}
