const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** Between the tenant and the series key (Prometheus's label separator byte, as Mimir uses). */
const SEPARATOR = 0xff;
/** A local binding: under a vm context (jest) every global lookup of `Math` is slow. */
const imul = Math.imul;

let lastTenant = '';
let lastTenantHash = imul(FNV_OFFSET ^ SEPARATOR, FNV_PRIME);

/** FNV-1a over the UTF-8 bytes of `s`, starting from `h`. */
function addUtf8(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      h = imul(h ^ c, FNV_PRIME);
      continue;
    }
    for (const b of Buffer.from(s.slice(i), 'utf8')) h = imul(h ^ b, FNV_PRIME);
    return h;
  }
  return h;
}

/**
 * The ring token of a series: FNV-1a 32 over the tenant ID's UTF-8 bytes, a 0xff separator, then
 * the series key (a latin1 string of the sorted label set's encoding: one char per byte). The hash
 * of the last tenant is memoised, as a push request hashes many series of one tenant.
 */
export function shardToken(tenant: string, seriesKey: string): number {
  let h: number;
  if (tenant === lastTenant) {
    h = lastTenantHash;
  } else {
    h = imul(addUtf8(FNV_OFFSET, tenant) ^ SEPARATOR, FNV_PRIME);
    lastTenant = tenant;
    lastTenantHash = h;
  }
  for (let i = 0; i < seriesKey.length; i++) h = imul(h ^ (seriesKey.charCodeAt(i) & 0xff), FNV_PRIME);
  return h >>> 0;
}
