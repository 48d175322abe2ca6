import { ByteReader, ByteWriter, DecodeError, utf8Length, uvarintSize } from './encoding';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/ /g, ''), 'hex'));

function written(f: (w: ByteWriter) => void): string {
  const w = new ByteWriter(8);
  f(w);
  return hex(w.bytes());
}

describe('ByteWriter', () => {
  it('writes uvarints like Go binary.PutUvarint', () => {
    const cases: Array<[number, string]> = [
      [0, '00'],
      [1, '01'],
      [127, '7f'],
      [128, '8001'],
      [300, 'ac02'],
      [16384, '808001'],
      [2 ** 31 - 1, 'ffffffff07'],
      [2 ** 31, '8080808008'],
      [2 ** 32, '8080808010'],
      [Number.MAX_SAFE_INTEGER, 'ffffffffffffff0f'],
    ];
    for (const [v, h] of cases) {
      expect(written((w) => w.putUvarint(v))).toBe(h);
      expect(uvarintSize(v)).toBe(h.length / 2);
    }
    expect(written((w) => w.putUvarint64(0xffffffff, 0xffffffff))).toBe('ffffffffffffffffff01');
  });

  it('writes zigzag varints like Go binary.PutVarint', () => {
    const cases: Array<[number, string]> = [
      [0, '00'],
      [-1, '01'],
      [1, '02'],
      [-64, '7f'],
      [64, '8001'],
      [2 ** 30 - 1, 'feffffff07'],
      [-(2 ** 30), 'ffffffff07'],
      [2 ** 30, '8080808008'],
      [-(2 ** 30) - 1, '8180808008'],
      [1700000000000, '80a0abfef962'], // t0 of the formats.md §5.1 example
      [Number.MAX_SAFE_INTEGER, 'feffffffffffff1f'],
      [Number.MIN_SAFE_INTEGER, 'fdffffffffffff1f'],
    ];
    for (const [v, h] of cases) expect(written((w) => w.putVarint(v))).toBe(h);
  });

  it('writes big-endian fixed widths, BE64 as two’s complement', () => {
    expect(written((w) => w.putBE16(0xabcd))).toBe('abcd');
    expect(written((w) => w.putBE32(0xdeadbeef))).toBe('deadbeef');
    expect(written((w) => w.putBE64(0x0123456789abc))).toBe('0000123456789abc');
    expect(written((w) => w.putBE64(-1))).toBe('ffffffffffffffff');
    expect(written((w) => w.putBE64(-(2 ** 32)))).toBe('ffffffff00000000');
    expect(written((w) => w.putBE64Halves(0x7ff00000, 2))).toBe('7ff0000000000002');
  });

  it('writes ustr strings with UTF-8 byte lengths, bytes and zeros, and grows', () => {
    expect(written((w) => w.putUvarintString('up'))).toBe('027570');
    expect(written((w) => w.putUvarintString(''))).toBe('00');
    expect(written((w) => w.putUvarintString('é😀'))).toBe('06c3a9f09f9880');
    const long = 'x'.repeat(200) + 'ü';
    expect(written((w) => w.putUvarintString(long))).toBe('ca01' + '78'.repeat(200) + 'c3bc');
    expect(utf8Length('a\u00e9\u20ac😀\ud800')).toBe(1 + 2 + 3 + 4 + 3);

    const w = new ByteWriter(8);
    for (let i = 0; i < 1000; i++) w.putBE32(i);
    w.putBytes(fromHex('0102030405'), 1, 4);
    w.putZeros(3);
    expect(w.length).toBe(4006);
    expect(hex(w.bytes().subarray(3996))).toBe('000003e7' + '020304' + '000000');
    w.reset();
    expect(w.length).toBe(0);
    w.putByte(0x1ff);
    expect(hex(w.bytes())).toBe('ff');
  });
});

describe('ByteReader', () => {
  it('round-trips everything the writer writes', () => {
    const w = new ByteWriter();
    const nums = [0, 1, -1, 63, -64, 1000, -1000, 2 ** 31, -(2 ** 31), 2 ** 40 + 3, -(2 ** 40) - 3, 1.7e12];
    nums.push(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER);
    for (const n of nums) {
      w.putVarint(n);
      w.putBE64(n);
      if (n >= 0) w.putUvarint(n);
    }
    w.putUvarintString('naïve 😀');
    w.putBE16(0xbeef);
    w.putByte(7);
    const r = new ByteReader(w.bytes());
    for (const n of nums) {
      expect(r.readVarint()).toBe(n);
      expect(r.readBE64()).toBe(n);
      if (n >= 0) expect(r.readUvarint()).toBe(n);
    }
    expect(r.readUvarintString()).toBe('naïve 😀');
    expect(r.readBE16()).toBe(0xbeef);
    expect(r.readByte()).toBe(7);
    expect(r.remaining()).toBe(0);
  });

  it('reads full 64-bit values as halves', () => {
    const r = new ByteReader(fromHex('ffffffffffffffffff01 7ff0000000000002'));
    const out = new Uint32Array(2);
    r.readUvarint64(out);
    expect([...out]).toEqual([0xffffffff, 0xffffffff]);
    r.readBE64Halves(out);
    expect([...out]).toEqual([0x7ff00000, 2]);
  });

  it('throws a clear DecodeError on truncation and respects start/end', () => {
    const data = fromHex('aa 0102 8080 05 6869');
    const r = new ByteReader(data, 1, 3);
    expect(r.readBE16()).toBe(0x0102);
    expect(() => r.readByte()).toThrow(DecodeError);
    expect(() => new ByteReader(data, 3, 5).readUvarint()).toThrow(/unexpected end of data reading uvarint/);
    expect(() => new ByteReader(data, 3, 5).readVarint()).toThrow(DecodeError);
    expect(() => new ByteReader(fromHex('00ff')).readBE32()).toThrow(/BE32 at offset 0 \(need 4 bytes, 2 left\)/);
    expect(() => new ByteReader(fromHex('0500')).readUvarintString()).toThrow(/string/);
    const ok = new ByteReader(data, 5);
    expect(ok.readUvarint()).toBe(5);
    expect(hex(ok.readBytes(2))).toBe('6869');
    expect(() => ok.skip(1)).toThrow(DecodeError);
  });

  it('rejects overlong uvarints and values beyond 2^53', () => {
    expect(() => new ByteReader(fromHex('ffffffffffffffffff02')).readUvarint()).toThrow(/overflows/);
    expect(() => new ByteReader(fromHex('ffffffffffffffffffff01')).readUvarint64(new Uint32Array(2))).toThrow(DecodeError);
    expect(() => new ByteReader(fromHex('8080808080808010')).readUvarint()).toThrow(/safe integer/);
    expect(() => new ByteReader(fromHex('7fffffffffffffff')).readBE64()).toThrow(/safe integer/);
  });
});
