import { Counter, type Registry } from 'prom-client';
import { discardedSamplesCounter, isStrataError } from '@strata/common';
import { HAErrorIds, type HATracker } from './ha-tracker';
import { DecodeError, ProtoWalker } from './proto-walker';

/**
 * The HA-dedupe step of a push, run before decoding and validation, as Mimir's
 * prePushHaDedupeMiddleware: only the first series of the request is inspected for the tenant's
 * cluster and replica labels; a request from a non-elected replica is dropped whole (202), one
 * from the elected replica is stored without the replica label.
 */

/** The per-tenant limits the step reads (`Overrides` provides them). */
export interface HADedupeLimits {
  acceptHASamples(tenant: string): boolean;
  haClusterLabel(tenant: string): string;
  haReplicaLabel(tenant: string): string;
  maxLabelValueLength(tenant: string): number;
}

export interface HADedupeDeps {
  tracker: Pick<HATracker, 'checkReplica'>;
  overrides: HADedupeLimits;
  registry: Registry;
  now?: () => number;
}

export interface HADedupeResult {
  /** Set when nothing of the request may be ingested: the answer to send (202 or 400). */
  outcome?: { status: number; message: string };
  /** Set when the request comes from the elected replica: the label to drop from every series. */
  dropLabel?: string;
  /** Samples (and histograms) in a rejected request; 0 when `outcome` is unset. */
  samples: number;
  /**
   * The tenant has HA tracking on but the request lacks a label: after decoding, pass its sample
   * count to `countNonHASamples` (not counted here: that would walk every series a second time).
   */
  nonHA?: boolean;
}

const PASS: HADedupeResult = Object.freeze({ samples: 0 });
const NON_HA: HADedupeResult = Object.freeze({ samples: 0, nonHA: true });

export class HADedupe {
  private readonly now: () => number;
  private readonly names = new Map<string, Buffer>();
  private readonly m: {
    deduped: Counter<'user' | 'cluster'>;
    nonHA: Counter<'user'>;
    discarded: Counter<'reason' | 'user'>;
  };

  constructor(private readonly deps: HADedupeDeps) {
    this.now = deps.now ?? Date.now;
    const registers = [deps.registry];
    this.m = {
      deduped: new Counter({
        name: 'cortex_distributor_deduped_samples_total',
        help: 'The total number of deduplicated samples.',
        labelNames: ['user', 'cluster'],
        registers,
      }),
      nonHA: new Counter({
        name: 'cortex_distributor_non_ha_samples_received_total',
        help: 'The total number of received samples for a user that has HA tracking turned on, but the sample didn\'t contain both HA labels.',
        labelNames: ['user'],
        registers,
      }),
      discarded: discardedSamplesCounter(deps.registry),
    };
  }

  /**
   * Decides what happens to a decompressed remote-write body of `tenant`. Throws only what the
   * KV store throws (a 5xx for the sender: retry). A malformed body passes (the decoder rejects it).
   */
  async check(tenant: string, body: Uint8Array): Promise<HADedupeResult> {
    const ov = this.deps.overrides;
    if (!ov.acceptHASamples(tenant)) return PASS;
    const replicaLabel = ov.haReplicaLabel(tenant);
    let cluster: string;
    let replica: string;
    try {
      ({ cluster, replica } = findHALabels(body, this.nameBytes(ov.haClusterLabel(tenant)), this.nameBytes(replicaLabel)));
    } catch (e) {
      if (e instanceof DecodeError) return PASS;
      throw e;
    }
    // Without both labels, or with a replica label that validation will reject anyway: as is.
    if (cluster === '' || replica === '' || Buffer.byteLength(replica) > ov.maxLabelValueLength(tenant)) return NON_HA;
    try {
      await this.deps.tracker.checkReplica(tenant, cluster, replica, this.now());
      return { samples: 0, dropLabel: replicaLabel };
    } catch (e) {
      if (!isStrataError(e)) throw e;
      const n = safeCountSamples(body);
      if (n < 0) return PASS; // malformed after the first series: let the decoder answer 400
      if (e.id === HAErrorIds.replicasNotMatch) this.m.deduped.inc({ user: tenant, cluster }, n);
      else if (e.id === HAErrorIds.tooManyHAClusters) this.m.discarded.inc({ reason: 'too_many_ha_clusters', user: tenant }, n);
      return { samples: n, outcome: { status: e.status, message: e.message } };
    }
  }

  /** `cortex_distributor_non_ha_samples_received_total`, for requests `check` marked `nonHA`. */
  countNonHASamples(tenant: string, samples: number): void {
    if (samples > 0) this.m.nonHA.inc({ user: tenant }, samples);
  }

  private nameBytes(name: string): Buffer {
    let b = this.names.get(name);
    if (b === undefined) {
      b = Buffer.from(name, 'utf8');
      if (this.names.size < 64) this.names.set(name, b);
    }
    return b;
  }
}

// ---- A minimal protobuf walk over prometheus.WriteRequest (field numbers as remote.proto/types.proto).

const utf8 = new TextDecoder('utf-8');

class Walker extends ProtoWalker {
  nameIs(s: number, l: number, name: Buffer): boolean {
    if (l !== name.length) return false;
    for (let i = 0; i < l; i++) if (this.b[s + i] !== name[i]) return false;
    return true;
  }
}

/**
 * The values of the cluster and replica labels of the first series ('' when absent), as Mimir's
 * findHALabels. Throws DecodeError if the bytes read are malformed.
 */
export function findHALabels(body: Uint8Array, clusterLabel: Buffer, replicaLabel: Buffer): { cluster: string; replica: string } {
  const w = new Walker(body);
  const end = body.length;
  let cluster = '';
  let replica = '';
  while (w.pos < end) {
    const tag = w.uvarint();
    if (tag !== 0x0a) {
      w.skip(tag & 7, end);
      continue;
    }
    const se = w.sub(end); // the first TimeSeries
    while (w.pos < se) {
      const t = w.uvarint();
      if (t !== 0x0a) {
        w.skip(t & 7, se);
        continue;
      }
      const le = w.sub(se); // a Label
      let ns = 0;
      let nl = 0;
      let vs = 0;
      let vl = 0;
      while (w.pos < le) {
        const lt = w.uvarint();
        if (lt === 0x0a || lt === 0x12) {
          const fe = w.sub(le);
          if (lt === 0x0a) [ns, nl] = [w.pos, fe - w.pos];
          else [vs, vl] = [w.pos, fe - w.pos];
          w.pos = fe;
        } else {
          w.skip(lt & 7, le);
        }
      }
      if (w.nameIs(ns, nl, replicaLabel)) replica = utf8.decode(body.subarray(vs, vs + vl));
      else if (w.nameIs(ns, nl, clusterLabel)) cluster = utf8.decode(body.subarray(vs, vs + vl));
      else continue;
      if (cluster !== '' && replica !== '') break;
    }
    break;
  }
  return { cluster, replica };
}

/** Samples plus histograms of every series. Throws DecodeError on malformed bytes. */
export function countSamples(body: Uint8Array): number {
  const w = new Walker(body);
  const end = body.length;
  let n = 0;
  while (w.pos < end) {
    const tag = w.uvarint();
    if (tag !== 0x0a) {
      w.skip(tag & 7, end);
      continue;
    }
    const se = w.sub(end);
    while (w.pos < se) {
      const t = w.uvarint();
      if (t === 0x12 || t === 0x22) n++; // Sample, Histogram
      w.skip(t & 7, se);
    }
  }
  return n;
}

function safeCountSamples(body: Uint8Array): number {
  try {
    return countSamples(body);
  } catch (e) {
    if (e instanceof DecodeError) return -1;
    throw e;
  }
}
