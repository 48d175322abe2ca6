import { shardToken } from './shard-token';

/** Plain FNV-1a 32 over bytes. */
function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) {
    h ^= b;
    h = Number((BigInt(h) * 0x01000193n) & 0xffffffffn);
  }
  return h;
}

function reference(tenant: string, key: string): number {
  return fnv1a(Buffer.concat([Buffer.from(tenant, 'utf8'), Buffer.from([0xff]), Buffer.from(key, 'latin1')]));
}

test('the reference FNV-1a matches the published test vectors', () => {
  expect(fnv1a(Buffer.from(''))).toBe(0x811c9dc5);
  expect(fnv1a(Buffer.from('a'))).toBe(0xe40c292c);
  expect(fnv1a(Buffer.from('foobar'))).toBe(0xbf9cf968);
});

test('shardToken is FNV-1a 32 of tenant bytes, 0xff, then the key bytes', () => {
  const key = '\x0a\x12\x0a\x08__name__\x12\x06up_abc\x0a\x0b\x0a\x03job\x12\x04n\xe9de';
  for (const tenant of ['', 'tenant-1', 'anonymous', 'ü-tenant', '😀']) {
    for (const k of ['', key, 'x', '\xff\x00\x80']) {
      expect(shardToken(tenant, k)).toBe(reference(tenant, k));
    }
  }
  // Alternating tenants (the memoised tenant hash must not leak between them).
  expect(shardToken('t1', key)).toBe(reference('t1', key));
  expect(shardToken('t2', key)).toBe(reference('t2', key));
  expect(shardToken('t1', key)).toBe(reference('t1', key));
});

test('shardToken is a uint32 and depends on the tenant and on every byte of the key', () => {
  const a = shardToken('t', 'abc');
  expect(Number.isInteger(a) && a >= 0 && a <= 0xffffffff).toBe(true);
  expect(shardToken('u', 'abc')).not.toBe(a);
  expect(shardToken('t', 'abd')).not.toBe(a);
  // The separator keeps "ab"+"c" and "a"+"bc" apart.
  expect(shardToken('ab', 'c')).not.toBe(shardToken('a', 'bc'));
});
