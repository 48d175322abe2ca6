/**
 * Quantile helpers (Prometheus promql/quantile.go): φ-quantile over a set of values, and over
 * classic histogram buckets (`le` series).
 */

export interface Bucket {
  upperBound: number;
  count: number;
}

/** Order used by Prometheus' vectorByValueHeap: NaN first, then ascending. */
export function lessNaNFirst(a: number, b: number): boolean {
  return Number.isNaN(a) || a < b;
}

/** `quantile(q, values)`: sorts `values` in place. */
export function quantile(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  values.sort((a, b) => (lessNaNFirst(a, b) ? -1 : lessNaNFirst(b, a) ? 1 : 0));
  const n = values.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return values[lower]! * (1 - weight) + values[upper]! * weight;
}

/** `histogram_quantile` on classic buckets. Sorts and may modify `buckets`. */
export function bucketQuantile(q: number, bucketsIn: Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  bucketsIn.sort((a, b) => (a.upperBound < b.upperBound ? -1 : a.upperBound > b.upperBound ? 1 : 0));
  if (bucketsIn[bucketsIn.length - 1]!.upperBound !== Infinity) return NaN;
  const buckets = coalesceBuckets(bucketsIn);
  ensureMonotonic(buckets);
  if (buckets.length < 2) return NaN;
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  // sort.Search over all but the last bucket.
  let b = 0;
  {
    let lo = 0;
    let hi = buckets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (buckets[mid]!.count >= rank) hi = mid;
      else lo = mid + 1;
    }
    b = lo;
  }
  if (b === buckets.length - 1) return buckets[buckets.length - 2]!.upperBound;
  if (b === 0 && buckets[0]!.upperBound <= 0) return buckets[0]!.upperBound;
  let bucketStart = 0;
  const bucketEnd = buckets[b]!.upperBound;
  let count = buckets[b]!.count;
  if (b > 0) {
    bucketStart = buckets[b - 1]!.upperBound;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

function coalesceBuckets(buckets: Bucket[]): Bucket[] {
  const out: Bucket[] = [];
  let last = { ...buckets[0]! };
  for (let i = 1; i < buckets.length; i++) {
    const b = buckets[i]!;
    if (b.upperBound === last.upperBound) last.count += b.count;
    else {
      out.push(last);
      last = { ...b };
    }
  }
  out.push(last);
  return out;
}

function ensureMonotonic(buckets: Bucket[]): void {
  let max = buckets[0]!.count;
  for (let i = 1; i < buckets.length; i++) {
    const c = buckets[i]!.count;
    if (c > max) max = c;
    else if (c < max) buckets[i]!.count = max;
  }
}
