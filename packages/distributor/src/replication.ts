import { isStrataError, StrataError } from '@strata/common';
import { METRIC_NAME, WriteBatch, seriesKeyFromLabels, type IngesterClient, type PushError, type PushResult } from '@strata/tsdb-core';

export interface IngesterInstance {
  id: string;
  addr: string;
}

export interface ReplicationSet {
  /** Healthy instances to write to. */
  instances: readonly IngesterInstance[];
  /** How many of them may fail with the write still succeeding (RF - quorum). */
  maxErrors: number;
}

/** The write side of the ingester ring, as the distributor needs it. */
export interface WriteRing {
  /** The replication set of each series token. Throws when a quorum of live instances is missing. */
  replicationSets(tokens: ArrayLike<number>): readonly ReplicationSet[];
  /** The token of a series (hash of tenant and labels). */
  token(tenant: string, seriesKey: string): number;
}

export interface Replicator {
  ring: WriteRing;
  clientFor(instance: IngesterInstance): IngesterClient;
}

/**
 * Copies the given items of a batch into a new batch: item i < numSeries is series i, item
 * numSeries + k is metadata entry k.
 */
function subBatch(b: WriteBatch, items: readonly number[]): WriteBatch {
  const ns = b.numSeries;
  let n = 0;
  for (const i of items) if (i < ns) n += b.sampleStart[i + 1]! - b.sampleStart[i]!;
  const out = new WriteBatch(Math.max(1, n));
  for (const i of items) {
    if (i >= ns) {
      out.metadata.push(b.metadata[i - ns]!);
      continue;
    }
    for (let j = b.sampleStart[i]!; j < b.sampleStart[i + 1]!; j++) out.addSample(b.ts[j]!, b.vhi[j]!, b.vlo[j]!);
    out.endSeries(b.keys[i]!);
  }
  return out;
}

/**
 * Sends each series to its replication set and succeeds when every series reached a quorum of
 * ingesters (dskit's replication strategy: up to `maxErrors` failures per series). Per-sample
 * rejections reported by the ingesters (out of order…) come back as the first soft error. Metric
 * metadata entries are items like series, placed by the token of their metric name (as Mimir
 * shards metadata by metric name).
 */
export async function pushReplicated(r: Replicator, tenant: string, batch: WriteBatch): Promise<PushResult> {
  const ns = batch.numSeries;
  const n = ns + batch.metadata.length;
  const tokens = new Uint32Array(n);
  for (let i = 0; i < ns; i++) tokens[i] = r.ring.token(tenant, batch.keys[i]!);
  for (let k = 0; k < batch.metadata.length; k++) tokens[ns + k] = r.ring.token(tenant, metadataTokenKey(batch.metadata[k]!.metricFamilyName));
  let sets: readonly ReplicationSet[];
  try {
    sets = r.ring.replicationSets(tokens);
  } catch (e) {
    throw new StrataError('ingester-quorum', 500, (e as Error).message);
  }
  // Group series by instance.
  const byInstance = new Map<string, { inst: IngesterInstance; series: number[] }>();
  for (let i = 0; i < n; i++) {
    for (const inst of sets[i]!.instances) {
      let g = byInstance.get(inst.id);
      if (g === undefined) {
        g = { inst, series: [] };
        byInstance.set(inst.id, g);
      }
      g.series.push(i);
    }
  }
  // Like dskit's DoBatch: answer as soon as every series reached its quorum (or one cannot),
  // without waiting for the slowest replica.
  const failures = new Uint16Array(n);
  const successes = new Uint16Array(n);
  let pendingSeries = n;
  let firstSoft: PushError | undefined;
  let appended = 0;
  let rejected = 0;
  return new Promise<PushResult>((resolve, reject) => {
    let done = false;
    const finish = () => {
      done = true;
      resolve(firstSoft === undefined ? { appended, rejected } : { appended, rejected, firstError: firstSoft });
    };
    if (n === 0) return finish();
    for (const { inst, series } of byInstance.values()) {
      const sub = series.length === n ? batch : subBatch(batch, series);
      r.clientFor(inst)
        .push(tenant, sub)
        .then(
          (res) => {
            if (done) return;
            appended = Math.max(appended, res.appended);
            rejected = Math.max(rejected, res.rejected);
            if (res.firstError !== undefined && firstSoft === undefined) firstSoft = res.firstError;
            for (const i of series) {
              const quorum = sets[i]!.instances.length - sets[i]!.maxErrors;
              if (++successes[i]! === quorum) pendingSeries--;
            }
            if (pendingSeries === 0) finish();
          },
          (err: unknown) => {
            if (done) return;
            for (const i of series) {
              if (++failures[i]! > sets[i]!.maxErrors) {
                done = true;
                // Rejections a retry cannot fix (4xx) and "unavailable" (503) keep their status; the rest is 500.
                const status = isStrataError(err) && ((err.status >= 400 && err.status < 500) || err.status === 503) ? err.status : 500;
                reject(new StrataError('ingester-push', status, `failed pushing to ingester ${inst.id}: ${(err as Error).message}`));
                return;
              }
            }
          },
        );
    }
  });
}

/** Metadata of a metric name is placed where the series `{__name__="name"}` would be. */
function metadataTokenKey(name: string): string {
  return seriesKeyFromLabels([{ name: METRIC_NAME, value: name }]);
}
