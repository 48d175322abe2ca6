import { tenantIdError } from '@strata/common';
import { InvalidKeyError } from './errors';

/** Names the filesystem backend uses for its temporary files; no key segment may start with it. */
export const TEMP_FILE_PREFIX = '.strata-tmp-';

function segmentError(seg: string): string | null {
  if (seg === '') return 'empty path segment';
  if (seg === '.' || seg === '..') return `'${seg}' path segment`;
  if (seg.startsWith(TEMP_FILE_PREFIX)) return `segments starting with '${TEMP_FILE_PREFIX}' are reserved`;
  return null;
}

/** Why `key` is not a valid object key, or null. */
export function keyError(key: string): string | null {
  if (typeof key !== 'string' || key === '') return 'empty key';
  if (key.includes('\0')) return 'contains a NUL character';
  if (key.startsWith('/')) return 'absolute path';
  if (key.endsWith('/')) return 'ends with /';
  for (const seg of key.split('/')) {
    const err = segmentError(seg);
    if (err !== null) return err;
  }
  return null;
}

/** Throws InvalidKeyError unless `key` is a valid object key. */
export function validateKey(key: string): void {
  const err = keyError(key);
  if (err !== null) throw new InvalidKeyError(key, err);
}

/**
 * The directory form of an `iter` prefix: "" stays "", anything else must be a valid key with an
 * optional trailing "/", and gets one.
 */
export function normalizePrefix(prefix: string): string {
  if (prefix === '') return '';
  const dir = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const err = keyError(dir);
  if (err !== null) throw new InvalidKeyError(prefix, err);
  return dir + '/';
}

function checkTenant(tenant: string): void {
  if (tenant === '') throw new InvalidKeyError(tenant, 'empty tenant ID');
  const err = tenantIdError(tenant);
  if (err !== null) throw new InvalidKeyError(tenant, err);
}

function checkPart(part: string): void {
  if (typeof part !== 'string') throw new InvalidKeyError(String(part), 'key part is not a string');
  if (part.includes('/')) throw new InvalidKeyError(part, "key part contains '/'");
  if (part.includes('\0')) throw new InvalidKeyError(part, 'key part contains a NUL character');
  const err = segmentError(part);
  if (err !== null) throw new InvalidKeyError(part, err);
}

/** `<tenant>/`, the prefix of everything a tenant owns. Throws InvalidKeyError for an invalid tenant ID. */
export function tenantPrefix(tenant: string): string {
  checkTenant(tenant);
  return tenant + '/';
}

/**
 * `<tenant>/<part>/<part>…` (just `<tenant>` without parts), built only from a valid tenant ID and
 * parts that are single path segments (no '/', not '', '.' or '..'). Throws InvalidKeyError otherwise.
 */
export function objectKey(tenant: string, ...parts: string[]): string {
  checkTenant(tenant);
  for (const p of parts) checkPart(p);
  return [tenant, ...parts].join('/');
}
