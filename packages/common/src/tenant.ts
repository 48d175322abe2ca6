import { StrataError } from './errors';

export const MAX_TENANT_ID_LENGTH = 150;
export const ORG_ID_HEADER = 'x-scope-orgid';

function allowedChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x21 || // !
    c === 0x2d || // -
    c === 0x5f || // _
    c === 0x2e || // .
    c === 0x2a || // *
    c === 0x27 || // '
    c === 0x28 || // (
    c === 0x29 //   )
  );
}

/** Validates a tenant ID as Mimir (dskit `tenant.ValidTenantID`) does; returns an error text or null. */
export function tenantIdError(id: string): string | null {
  if (id.length > MAX_TENANT_ID_LENGTH) return `tenant ID is too long: max ${MAX_TENANT_ID_LENGTH} characters`;
  if (id === '.' || id === '..') return "tenant ID is '.' or '..'";
  if (id === '__mimir_cluster') return `tenant ID '${id}' is reserved`;
  for (let i = 0; i < id.length; i++) {
    if (!allowedChar(id.charCodeAt(i))) {
      return `tenant ID '${id}' contains unsupported character '${String.fromCodePoint(id.codePointAt(i)!)}'`;
    }
  }
  return null;
}

export interface TenantResolverConfig {
  multitenancyEnabled: boolean;
  noAuthTenant: string;
  /** Take the tenant from the basic-auth user name when no X-Scope-OrgID header is sent. */
  tenantFromBasicAuth: boolean;
}

type HeaderValue = string | string[] | undefined;

/**
 * Resolves the tenant of a request from its headers. Throws StrataError with status 401
 * (`no org id`) or 400 (invalid tenant ID), as Mimir's auth middleware and push handler do.
 */
export function resolveTenant(
  cfg: TenantResolverConfig,
  headers: Record<string, HeaderValue>,
): string {
  if (!cfg.multitenancyEnabled) return cfg.noAuthTenant;
  let id = first(headers[ORG_ID_HEADER]);
  if (id === undefined && cfg.tenantFromBasicAuth) id = basicAuthUser(first(headers['authorization']));
  if (id === undefined || id === '') throw new StrataError('no-org-id', 401, 'no org id');
  if (id.includes('|')) {
    throw new StrataError('tenant-invalid', 400, 'multiple org IDs present');
  }
  const err = tenantIdError(id);
  if (err !== null) throw new StrataError('tenant-invalid', 400, err);
  return id;
}

function first(v: HeaderValue): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export function basicAuthUser(auth: string | undefined): string | undefined {
  if (auth === undefined || !/^basic /i.test(auth)) return undefined;
  const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  const user = i < 0 ? decoded : decoded.slice(0, i);
  return user === '' ? undefined : user;
}
