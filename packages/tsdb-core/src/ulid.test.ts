import { isULID, newULID, ulidTime } from './ulid';

describe('ULID', () => {
  it('encodes the time in the first 10 characters and 80 random bits in the rest', () => {
    const id = newULID(1700000000000);
    expect(id).toHaveLength(26);
    expect(id).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
    expect(ulidTime(id)).toBe(1700000000000);
    // Known encoding of the time part (ulid spec: 48-bit big-endian time in Crockford base32).
    expect(newULID(0).slice(0, 10)).toBe('0000000000');
    expect(newULID(2 ** 48 - 1).slice(0, 10)).toBe('7ZZZZZZZZZ');
    expect(newULID(1469918176385).slice(0, 10)).toBe('01ARYZ6S41'); // example from the spec
    expect(ulidTime('01ARYZ6S41TSV4RRFFQ69G5FAV')).toBe(1469918176385);
  });

  it('uses fresh randomness by default and the given random source when passed', () => {
    const a = newULID(1);
    const b = newULID(1);
    expect(a.slice(0, 10)).toBe(b.slice(0, 10));
    expect(a).not.toBe(b);
    const seq = (): (() => number) => {
      let i = 0;
      return () => (i++ % 32) / 32;
    };
    expect(newULID(5, seq())).toBe(newULID(5, seq()));
    expect(newULID(5, seq()).slice(10)).toBe('0123456789ABCDEF');
    expect(newULID(5, () => 0.999999).slice(10)).toBe('ZZZZZZZZZZZZZZZZ');
  });

  it('sorts by time as strings', () => {
    const ids = [3, 1700000000000, 42, 2 ** 40].map((t) => newULID(t));
    const byString = [...ids].sort();
    expect(byString.map(ulidTime)).toEqual([3, 42, 2 ** 40, 1700000000000]);
  });

  it('rejects invalid times and random sources', () => {
    expect(() => newULID(-1)).toThrow(RangeError);
    expect(() => newULID(2 ** 48)).toThrow(RangeError);
    expect(() => newULID(1.5)).toThrow(RangeError);
    expect(() => newULID(1, () => 1)).toThrow(RangeError);
  });

  it('isULID is strict', () => {
    expect(isULID('01ARYZ6S41TSV4RRFFQ69G5FAV')).toBe(true);
    expect(isULID('7ZZZZZZZZZZZZZZZZZZZZZZZZZ')).toBe(true);
    expect(isULID('8ZZZZZZZZZZZZZZZZZZZZZZZZZ')).toBe(false); // overflows 128 bits
    expect(isULID('01ARYZ6S41TSV4RRFFQ69G5FA')).toBe(false); // 25 chars
    expect(isULID('01ARYZ6S41TSV4RRFFQ69G5FAVX')).toBe(false);
    for (const bad of ['I', 'L', 'O', 'U', 'a', '-', 'é']) {
      expect(isULID('01ARYZ6S41TSV4RRFFQ69G5FA' + bad)).toBe(false);
    }
    expect(isULID('01aryz6s41tsv4rrffq69g5fav')).toBe(false); // canonical upper case only
    expect(isULID('01ARYZ6S41TSV4RRFFQ69G5FAV.tmp-for-creation')).toBe(false);
    expect(() => ulidTime('nope')).toThrow(/not a valid ULID/);
  });
});
