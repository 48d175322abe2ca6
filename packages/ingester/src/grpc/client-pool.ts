import { IngesterGrpcClient, type IngesterGrpcClientOptions } from './client';

/**
 * gRPC clients to ingesters, one per address (dskit's client pool): `get` creates or reuses the
 * client of an address, `prune` closes the clients of addresses that left the ring.
 */
export class IngesterClientPool {
  private readonly clients = new Map<string, IngesterGrpcClient>();

  constructor(
    private readonly opts: IngesterGrpcClientOptions = {},
    private readonly factory: (addr: string, opts: IngesterGrpcClientOptions) => IngesterGrpcClient = (a, o) => new IngesterGrpcClient(a, o),
  ) {}

  /** The client of `addr`, created on first use. */
  get(addr: string): IngesterGrpcClient {
    let c = this.clients.get(addr);
    if (c === undefined) {
      c = this.factory(addr, this.opts);
      this.clients.set(addr, c);
    }
    return c;
  }

  /** Closes and forgets the clients whose address is not in `liveAddrs`; returns the addresses removed. */
  prune(liveAddrs: Iterable<string>): string[] {
    const live = new Set(liveAddrs);
    const removed: string[] = [];
    for (const [addr, c] of this.clients) {
      if (live.has(addr)) continue;
      c.close();
      this.clients.delete(addr);
      removed.push(addr);
    }
    return removed;
  }

  /** Closes and forgets the client of one address (e.g. after it failed health checks). */
  remove(addr: string): boolean {
    const c = this.clients.get(addr);
    if (c === undefined) return false;
    c.close();
    return this.clients.delete(addr);
  }

  /** Addresses with an open client. */
  addresses(): string[] {
    return [...this.clients.keys()];
  }

  get size(): number {
    return this.clients.size;
  }

  /** Closes every client. */
  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
