import { Gauge, type Registry } from 'prom-client';
import { isNotFound, objectKey, type Bucket } from '@strata/objstore';
import { tenantIdError, type Logger } from '@strata/common';
import {
  Block,
  isULID,
  mergeBlockSelections,
  mergeSeriesLists,
  readMeta,
  SymbolPool,
  type BlockMeta,
  type ByteSource,
  type Matcher,
  type Querier,
  type Series,
} from '@strata/tsdb-core';

export interface BucketStoreConfig {
  /** `-blocks-storage.bucket-store.sync-interval` (ms). */
  syncInterval: number;
}

interface StoredBlock {
  ulid: string;
  meta: BlockMeta;
  block?: Block;
  /** Why the block could not be opened; queries touching it fail naming the block. */
  error?: string;
}

function bucketSource(bucket: Bucket, key: string, size?: number): ByteSource {
  let known = size;
  return {
    async size() {
      known ??= (await bucket.attributes(key)).size;
      return known;
    },
    read: (offset, length) => bucket.getRange(key, offset, length),
  };
}

/**
 * The queriers' view of blocks in object storage: discovers each tenant's blocks (only those
 * with a meta.json: an upload in progress or an aborted one is ignored), keeps each block's index
 * header in memory and reads series and chunks with range requests.
 */
export class BucketStore {
  private readonly tenants = new Map<string, Map<string, StoredBlock>>();
  /**
   * Per tenant, the symbol strings of its open blocks, shared by their index readers: equal labels
   * of different blocks are then the same strings, which the merge of blocks compares by reference.
   */
  private readonly symbolPools = new Map<string, SymbolPool>();
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | null = null;

  constructor(
    private readonly bucket: Bucket,
    private readonly cfg: BucketStoreConfig,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    const tenants = this.tenants;
    new Gauge({
      name: 'cortex_bucket_store_blocks_loaded',
      help: 'Number of blocks loaded by the querier.',
      registers: [registry],
      collect() {
        let n = 0;
        for (const t of tenants.values()) n += t.size;
        this.set(n);
      },
    });
  }

  async start(): Promise<void> {
    await this.sync();
    if (this.cfg.syncInterval > 0) {
      this.timer = setInterval(() => {
        this.sync().catch((e: Error) => this.logger.warn({ err: e.message }, 'bucket sync failed'));
      }, this.cfg.syncInterval);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.syncing;
    for (const t of this.tenants.values()) for (const b of t.values()) await b.block?.close();
  }

  /** Looks for new and deleted blocks of every tenant. Concurrent calls share one sync. */
  sync(): Promise<void> {
    this.syncing ??= this.doSync().finally(() => (this.syncing = null));
    return this.syncing;
  }

  private async doSync(): Promise<void> {
    for (const entry of await this.bucket.iter('')) {
      const tenant = entry.replace(/\/$/, '');
      if (!entry.endsWith('/') || tenantIdError(tenant) !== null) continue;
      await this.syncTenant(tenant);
    }
  }

  private async syncTenant(tenant: string): Promise<void> {
    let known = this.tenants.get(tenant);
    if (known === undefined) {
      known = new Map();
      this.tenants.set(tenant, known);
    }
    const seen = new Set<string>();
    for (const entry of await this.bucket.iter(objectKey(tenant) + '/')) {
      const ulid = entry.slice(tenant.length + 1).replace(/\/$/, '');
      if (!isULID(ulid)) continue;
      seen.add(ulid);
      if (known.has(ulid)) continue;
      const b = await this.loadBlock(tenant, ulid);
      if (b !== undefined) known.set(ulid, b);
    }
    let removed = false;
    for (const [ulid, b] of known) {
      if (!seen.has(ulid)) {
        known.delete(ulid);
        await b.block?.close();
        removed = true;
      }
    }
    if (removed) {
      // Rebuild the pool from the remaining blocks so that it does not keep dropped symbols.
      const pool = new SymbolPool();
      for (const b of known.values()) {
        const syms = b.block?.index.symbolTable;
        // Already the pool's strings: interning keeps them (and identical tables stay one).
        if (syms !== undefined) pool.intern(syms as string[]);
      }
      this.symbolPools.set(tenant, pool);
    }
  }

  private symbolPool(tenant: string): SymbolPool {
    let pool = this.symbolPools.get(tenant);
    if (pool === undefined) {
      pool = new SymbolPool();
      this.symbolPools.set(tenant, pool);
    }
    return pool;
  }

  private async loadBlock(tenant: string, ulid: string): Promise<StoredBlock | undefined> {
    let meta: BlockMeta;
    try {
      meta = readMeta(JSON.parse((await this.bucket.get(objectKey(tenant, ulid, 'meta.json'))).toString('utf8')));
    } catch (e) {
      if (isNotFound(e)) return undefined; // no meta.json: not a complete block
      this.logger.warn({ tenant, block: ulid, err: (e as Error).message }, 'invalid meta.json; block ignored');
      return undefined;
    }
    try {
      const files = meta.thanos?.files;
      const sizeOf = (rel: string) => files?.find((f) => f.rel_path === rel)?.size_bytes;
      const segNames = files
        ? files.map((f) => f.rel_path).filter((p) => p.startsWith('chunks/')).sort()
        : (await this.bucket.iter(objectKey(tenant, ulid, 'chunks') + '/')).map((k) => `chunks/${k.slice(k.lastIndexOf('/') + 1)}`);
      const index = bucketSource(this.bucket, objectKey(tenant, ulid, 'index'), sizeOf('index'));
      const segments = segNames.map((p) => bucketSource(this.bucket, objectKey(tenant, ulid, ...p.split('/')), sizeOf(p)));
      const block = await Block.fromSources(meta, index, segments, undefined, { symbolPool: this.symbolPool(tenant) });
      return { ulid, meta, block };
    } catch (e) {
      const error = `block ${ulid}: ${(e as Error).message}`;
      this.logger.error({ tenant, err: error }, 'cannot open block');
      return { ulid, meta, error };
    }
  }

  blocks(tenant: string): readonly { ulid: string; minTime: number; maxTime: number }[] {
    return [...(this.tenants.get(tenant)?.values() ?? [])].map((b) => ({ ulid: b.ulid, minTime: b.meta.minTime, maxTime: b.meta.maxTime }));
  }

  querier(tenant: string): Querier {
    const overlapping = (mint: number, maxt: number) =>
      [...(this.tenants.get(tenant)?.values() ?? [])].filter((b) => b.meta.maxTime > mint && b.meta.minTime <= maxt);
    const withBlock = async <T>(b: StoredBlock, f: (blk: Block) => Promise<T>): Promise<T> => {
      if (b.block === undefined) throw new Error(`cannot read ${b.error ?? `block ${b.ulid}`}`);
      try {
        return await f(b.block);
      } catch (e) {
        throw new Error(`failed to read block ${b.ulid} of tenant ${tenant}: ${(e as Error).message}`);
      }
    };
    return {
      async select(mint: number, maxt: number, matchers: readonly Matcher[]): Promise<Series[]> {
        // Blocks that follow each other in time form a chain whose chunks are simply concatenated;
        // overlapping blocks (replicas shipped by several ingesters) land in different chains,
        // which are merged sample by sample.
        const chains: StoredBlock[][] = [];
        for (const b of overlapping(mint, maxt).sort((x, y) => x.meta.minTime - y.meta.minTime)) {
          const chain = chains.find((c) => c[c.length - 1]!.meta.maxTime <= b.meta.minTime);
          if (chain !== undefined) chain.push(b);
          else chains.push([b]);
        }
        const perChain = await Promise.all(
          chains.map(async (chain) => {
            const sels = await Promise.all(chain.map((b) => withBlock(b, (blk) => blk.selectColumns(mint, maxt, matchers))));
            return mergeBlockSelections(sels, mint, maxt);
          }),
        );
        return mergeSeriesLists(perChain);
      },
      async labelNames(mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
        const all = await Promise.all(overlapping(mint, maxt).map((b) => withBlock(b, (blk) => blk.labelNames(matchers))));
        return [...new Set(all.flat())];
      },
      async labelValues(name: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
        const all = await Promise.all(overlapping(mint, maxt).map((b) => withBlock(b, (blk) => blk.labelValues(name, matchers))));
        return [...new Set(all.flat())];
      },
    };
  }
}
