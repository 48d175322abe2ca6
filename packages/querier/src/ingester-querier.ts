import { ChunkSeries, type IngesterClient, type Matcher, type Querier, type Series } from '@strata/tsdb-core';

/** A tenant's Querier over an IngesterClient (in-process or gRPC). */
export class IngesterQuerier implements Querier {
  constructor(
    private readonly client: IngesterClient,
    private readonly tenant: string,
  ) {}

  async select(mint: number, maxt: number, matchers: readonly Matcher[]): Promise<Series[]> {
    const res = await this.client.queryChunks(this.tenant, mint, maxt, matchers);
    return res.map((s) => new ChunkSeries(s.labels, s.chunks, mint, maxt));
  }

  labelNames(mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
    return this.client.labelNames(this.tenant, mint, maxt, matchers);
  }

  labelValues(name: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
    return this.client.labelValues(this.tenant, name, mint, maxt, matchers);
  }
}
