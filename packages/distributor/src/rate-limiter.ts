/**
 * Per-tenant token buckets (Mimir's "local" ingestion rate strategy with one distributor):
 * `rate` tokens per second, at most `burst` stored.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; last: number; rate: number; burst: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes `n` tokens if available; returns false (taking nothing) otherwise. */
  allow(tenant: string, n: number, rate: number, burst: number): boolean {
    const now = this.now();
    let b = this.buckets.get(tenant);
    if (b === undefined || b.rate !== rate || b.burst !== burst) {
      b = { tokens: burst, last: now, rate, burst };
      this.buckets.set(tenant, b);
    }
    b.tokens = Math.min(burst, b.tokens + ((now - b.last) / 1000) * rate);
    b.last = now;
    if (n > b.tokens) return false;
    b.tokens -= n;
    return true;
  }
}
