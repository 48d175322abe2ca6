import type { Labels } from './labels';
import type { Matcher } from './matchers';
import type { SeriesKey } from './series-key';

/**
 * A validated batch of series to append, in columnar form so that the hot path allocates one
 * object per request rather than per label or sample. Sample values are raw IEEE-754 bits
 * (hi/lo halves) so that NaN payloads such as the stale marker survive bit-exactly.
 */
export class WriteBatch {
  keys: SeriesKey[] = [];
  /** Metric metadata sent with the series (validated; usually in requests of their own). */
  metadata: MetricMetadataEntry[] = [];
  /** Samples of series i are [sampleStart[i], sampleStart[i+1]). */
  sampleStart: number[] = [0];
  ts: Float64Array;
  vhi: Uint32Array;
  vlo: Uint32Array;
  numSamples = 0;

  constructor(capacity = 1024) {
    this.ts = new Float64Array(capacity);
    this.vhi = new Uint32Array(capacity);
    this.vlo = new Uint32Array(capacity);
  }

  get numSeries(): number {
    return this.keys.length;
  }

  addSample(t: number, hi: number, lo: number): void {
    if (this.numSamples === this.ts.length) this.grow();
    const i = this.numSamples++;
    this.ts[i] = t;
    this.vhi[i] = hi;
    this.vlo[i] = lo;
  }

  /** Closes the current series: samples added since the last call belong to `key`. */
  endSeries(key: SeriesKey): void {
    this.keys.push(key);
    this.sampleStart.push(this.numSamples);
  }

  /** Drops samples added since the last endSeries(). */
  discardPending(): void {
    this.numSamples = this.sampleStart[this.sampleStart.length - 1]!;
  }

  private grow(): void {
    const n = this.ts.length * 2;
    const ts = new Float64Array(n);
    ts.set(this.ts);
    const hi = new Uint32Array(n);
    hi.set(this.vhi);
    const lo = new Uint32Array(n);
    lo.set(this.vlo);
    this.ts = ts;
    this.vhi = hi;
    this.vlo = lo;
  }
}

/**
 * One metric family's metadata, as remote write's `prometheus.MetricMetadata` carries it. `type` is
 * that message's MetricType number: 0 unknown, 1 counter, 2 gauge, 3 histogram, 4 gaugehistogram,
 * 5 summary, 6 info, 7 stateset.
 */
export interface MetricMetadataEntry {
  type: number;
  metricFamilyName: string;
  help: string;
  unit: string;
}

/** The API's name of a MetricType number (`/api/v1/metadata` "type"); unknown numbers are "unknown". */
export function metricTypeName(type: number): string {
  return METRIC_TYPE_NAMES[type] ?? 'unknown';
}

const METRIC_TYPE_NAMES = ['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset'];

/** A per-sample rejection by an ingester (out of order, duplicate, limits...). */
export interface PushError {
  id: string;
  status: number;
  message: string;
}

export interface PushResult {
  /** Samples appended. */
  appended: number;
  /** Samples rejected, by reason (`cortex_discarded_samples_total` reasons). */
  rejected: number;
  /** The first rejection, returned to the client as 400. */
  firstError?: PushError;
}

export interface ChunkData {
  mint: number;
  maxt: number;
  /** Encoding byte as in the block format (1 = XOR). */
  encoding: number;
  data: Uint8Array;
}

export interface SeriesChunks {
  labels: Labels;
  chunks: ChunkData[];
}

/**
 * What a distributor and a querier need from an ingester. In `-target=all` this is the ingester
 * object itself; in microservices mode a gRPC client implements it.
 */
export interface IngesterClient {
  push(tenant: string, batch: WriteBatch): Promise<PushResult>;
  /** Series matching all matchers with their chunks overlapping [mint, maxt], sorted by labels. */
  queryChunks(tenant: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<SeriesChunks[]>;
  labelNames(tenant: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]>;
  labelValues(tenant: string, name: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]>;
  series(tenant: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<Labels[]>;
  /** The tenant's metric metadata held by this ingester (each distinct entry once). */
  metricsMetadata(tenant: string): Promise<MetricMetadataEntry[]>;
}
