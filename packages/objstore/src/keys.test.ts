import { InvalidKeyError } from './errors';
import { keyError, normalizePrefix, objectKey, tenantPrefix, validateKey } from './keys';

describe('object keys', () => {
  it('accepts relative slash-separated keys', () => {
    for (const k of ['a', 'tenant-1/01HGW2N7EH/meta.json', 'a/b.c/d', '.hidden', 'x/..y', 'sp ace/ü']) {
      expect(keyError(k)).toBeNull();
      expect(() => validateKey(k)).not.toThrow();
    }
  });

  it('rejects empty segments, . and .., absolute paths and NUL', () => {
    for (const k of ['', '/a', 'a/', 'a//b', '.', '..', 'a/../b', 'a/./b', '../a', 'a\0b', '.strata-tmp-1']) {
      expect(keyError(k)).not.toBeNull();
      expect(() => validateKey(k)).toThrow(InvalidKeyError);
    }
  });

  it('normalizes iter prefixes to directories', () => {
    expect(normalizePrefix('')).toBe('');
    expect(normalizePrefix('tenant-1')).toBe('tenant-1/');
    expect(normalizePrefix('tenant-1/')).toBe('tenant-1/');
    expect(normalizePrefix('a/b')).toBe('a/b/');
    for (const p of ['/', '//', 'a//', '/a', '../', 'a/../b']) expect(() => normalizePrefix(p)).toThrow(InvalidKeyError);
  });
});

describe('tenantPrefix / objectKey', () => {
  it('builds keys from a valid tenant ID and single-segment parts', () => {
    expect(tenantPrefix('tenant-1')).toBe('tenant-1/');
    expect(objectKey('tenant-1', '01HGW2N7EH', 'meta.json')).toBe('tenant-1/01HGW2N7EH/meta.json');
    expect(objectKey("a_b.c!*'()", 'bucket-index.json.gz')).toBe("a_b.c!*'()/bucket-index.json.gz");
  });

  it('rejects invalid tenant IDs (as Mimir does)', () => {
    for (const t of ['', '.', '..', 'a/b', 'with space', 'x'.repeat(151), '__mimir_cluster', 'ü']) {
      expect(() => tenantPrefix(t)).toThrow(InvalidKeyError);
      expect(() => objectKey(t, 'meta.json')).toThrow(InvalidKeyError);
    }
  });

  it('rejects parts that are not one path segment', () => {
    for (const p of ['', '.', '..', 'a/b', '/', 'a\0b', '.strata-tmp-x']) {
      expect(() => objectKey('tenant-1', p)).toThrow(InvalidKeyError);
      expect(() => objectKey('tenant-1', 'ok', p)).toThrow(InvalidKeyError);
    }
    expect(objectKey('tenant-1')).toBe('tenant-1');
  });
});
