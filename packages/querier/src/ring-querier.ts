import { ChunkSeries, mergeSeriesLists, metricTypeName, type IngesterClient, type Matcher, type Querier, type Series } from '@strata/tsdb-core';
import type { MetricMetadata } from './api';

export interface RingInstance {
  id: string;
  addr: string;
}

/** The read side of the ingester ring, as queriers need it. */
export interface ReadRing {
  /** Every healthy ingester and how many of them may fail (throws if too many are unhealthy). */
  readSet(): { instances: readonly RingInstance[]; maxErrors: number };
}

/**
 * A tenant's view of the ingesters found through the ring: every healthy ingester is asked, up to
 * `maxErrors` may fail, and the replicated copies of each series are merged so that each sample
 * appears once.
 */
export class RingIngesterQuerier implements Querier {
  constructor(
    private readonly ring: ReadRing,
    private readonly clientFor: (i: RingInstance) => IngesterClient,
    private readonly tenant: string,
  ) {}

  private async fanOut<T>(f: (c: IngesterClient) => Promise<T>): Promise<T[]> {
    const { instances, maxErrors } = this.ring.readSet();
    const results = await Promise.allSettled(instances.map((i) => f(this.clientFor(i))));
    const ok: T[] = [];
    const errors: string[] = [];
    results.forEach((r, k) => {
      if (r.status === 'fulfilled') ok.push(r.value);
      else errors.push(`ingester ${instances[k]!.id}: ${(r.reason as Error).message}`);
    });
    if (errors.length > maxErrors) throw new Error(`failed to query ingesters: ${errors.join('; ')}`);
    return ok;
  }

  async select(mint: number, maxt: number, matchers: readonly Matcher[]): Promise<Series[]> {
    const lists = await this.fanOut((c) => c.queryChunks(this.tenant, mint, maxt, matchers));
    return mergeSeriesLists(lists.map((l) => l.map((s) => new ChunkSeries(s.labels, s.chunks, mint, maxt))));
  }

  async labelNames(mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
    return [...new Set((await this.fanOut((c) => c.labelNames(this.tenant, mint, maxt, matchers))).flat())];
  }

  async labelValues(name: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
    return [...new Set((await this.fanOut((c) => c.labelValues(this.tenant, name, mint, maxt, matchers))).flat())];
  }

  /**
   * The tenant's metric metadata from every ingester, by metric name; the copies that replication
   * put on several ingesters are merged (each distinct type/help/unit once, in order of arrival).
   */
  async metadata(): Promise<Record<string, MetricMetadata[]>> {
    const lists = await this.fanOut((c) => c.metricsMetadata(this.tenant));
    const out: Record<string, MetricMetadata[]> = Object.create(null) as Record<string, MetricMetadata[]>;
    const seen = new Set<string>();
    for (const list of lists) {
      for (const m of list) {
        const type = metricTypeName(m.type);
        const key = `${m.metricFamilyName}\xff${type}\xff${m.help}\xff${m.unit}`;
        if (seen.has(key)) continue;
        seen.add(key);
        (out[m.metricFamilyName] ??= []).push({ type, help: m.help, unit: m.unit });
      }
    }
    return out;
  }
}
