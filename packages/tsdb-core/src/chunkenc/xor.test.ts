import { STALE_HI, STALE_LO, XorAppender, XorIterator, bitsToFloat, floatToBits, isStaleBits } from './xor';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

interface Sample {
  t: number;
  hi: number;
  lo: number;
}

function bits(v: number): [number, number] {
  const out = new Uint32Array(2);
  floatToBits(v, out);
  return [out[0]!, out[1]!];
}

function encode(samples: readonly Sample[]): XorAppender {
  const a = new XorAppender();
  for (const s of samples) a.append(s.t, s.hi, s.lo);
  return a;
}

function decode(data: Uint8Array): Sample[] {
  const it = new XorIterator(data);
  const out: Sample[] = [];
  while (it.next()) out.push({ t: it.t, hi: it.hi, lo: it.lo });
  return out;
}

function floats(ts: readonly number[], vs: readonly number[]): Sample[] {
  return ts.map((t, i) => {
    const [hi, lo] = bits(vs[i]!);
    return { t, hi, lo };
  });
}

/** Deterministic PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

describe('float bits helpers', () => {
  it('round-trips ordinary values and recognises the stale marker', () => {
    for (const v of [0, 1, -1, 0.1, 1e308, 5e-324, Infinity, -Infinity]) {
      const [hi, lo] = bits(v);
      expect(bitsToFloat(hi, lo)).toBe(v);
    }
    expect(bits(1)).toEqual([0x3ff00000, 0]);
    expect(bits(-0)).toEqual([0x80000000, 0]);
    expect(isStaleBits(STALE_HI, STALE_LO)).toBe(true);
    expect(isStaleBits(...bits(NaN))).toBe(false);
  });
});

describe('XorAppender / XorIterator', () => {
  it('reproduces the formats.md §5.1 worked example byte for byte', () => {
    const a = encode(floats([1700000000000, 1700000015000], [1, 0]));
    expect(hex(a.bytes())).toBe('0002' + '80a0abfef962' + '3ff0000000000000' + '9875' + 'c457fe');
    expect(a.byteLength()).toBe(21);
    expect(a.numSamples()).toBe(2);
    expect(a.minTime()).toBe(1700000000000);
    expect(a.maxTime()).toBe(1700000015000);
    const got = decode(a.bytes());
    expect(got.map((s) => s.t)).toEqual([1700000000000, 1700000015000]);
    expect(got.map((s) => bitsToFloat(s.hi, s.lo))).toEqual([1, 0]);
  });

  it('encodes an empty chunk as a zero count header', () => {
    const a = new XorAppender();
    expect(hex(a.bytes())).toBe('0000');
    const it = new XorIterator(a.bytes());
    expect(it.next()).toBe(false);
  });

  it('uses each delta-of-delta width with the asymmetric ranges', () => {
    // Boundaries of every width, both signs, plus just outside them.
    const dods = [
      0, 1, -1, 8192, -8191, 8193, -8192, 65536, -65535, 65537, -65536, 524288, -524287, 524289, -524288,
      2 ** 40, -(2 ** 40), 0, 0,
    ];
    const ts = [1000, 1000 + 10 ** 7];
    let delta = 10 ** 7;
    for (const d of dods) {
      delta += d;
      ts.push(ts[ts.length - 1]! + delta);
    }
    const samples = floats(ts, ts.map((_, i) => i));
    const a = encode(samples);
    expect(decode(a.bytes())).toEqual(samples);
  });

  it('writes exactly the documented bit widths per dod class', () => {
    // With a constant value every sample after the second costs dodBits + 1 value bit.
    const sizeFor = (dod: number): number => {
      const a = encode(floats([0, 1e6, 2e6 + dod], [5, 5, 5]));
      const b = encode(floats([0, 1e6], [5, 5]));
      return (a as unknown as { bitLen: number }).bitLen - (b as unknown as { bitLen: number }).bitLen;
    };
    expect(sizeFor(0)).toBe(1 + 1);
    expect(sizeFor(8192)).toBe(16 + 1);
    expect(sizeFor(-8191)).toBe(16 + 1);
    expect(sizeFor(-8192)).toBe(20 + 1);
    expect(sizeFor(65536)).toBe(20 + 1);
    expect(sizeFor(65537)).toBe(24 + 1);
    expect(sizeFor(-65535)).toBe(20 + 1);
    expect(sizeFor(-65536)).toBe(24 + 1);
    expect(sizeFor(524288)).toBe(24 + 1);
    expect(sizeFor(524289)).toBe(68 + 1);
    expect(sizeFor(-524288)).toBe(68 + 1);
  });

  it('handles negative timestamps', () => {
    const ts = [-1700000000000, -1699999985000, -1699999970000, -5, -1, 0, 3, 2 ** 45];
    const samples = floats(ts, [1, 2, 3, 4, 5, 6, 7, 8]);
    const a = encode(samples);
    expect(a.minTime()).toBe(-1700000000000);
    expect(decode(a.bytes())).toEqual(samples);
  });

  it('preserves NaN payloads, ±Inf, -0 and the stale marker bit-exactly', () => {
    const pats: Array<[number, number]> = [
      [0x3ff00000, 0],
      [STALE_HI, STALE_LO],
      [0x7ff80000, 0], // canonical quiet NaN
      [0x7ff00000, 0x00000001], // signalling NaN payload
      [0xfff80000, 0xdeadbeef], // negative NaN with payload
      [0x7ff00000, 0], // +Inf
      [0xfff00000, 0], // -Inf
      [0x80000000, 0], // -0
      [0, 0],
      [STALE_HI, STALE_LO],
      [STALE_HI, STALE_LO],
      [0x00000000, 0x00000001], // smallest subnormal
      [0xffffffff, 0xffffffff],
      [0x3ff00000, 0],
    ];
    const samples = pats.map(([hi, lo], i) => ({ t: 1000 * i, hi, lo }));
    const a = encode(samples);
    const it = new XorIterator(a.bytes());
    let i = 0;
    while (it.next()) {
      const [hi, lo] = pats[i]!;
      expect([it.hi, it.lo]).toEqual([hi, lo]);
      expect(it.stale).toBe(hi === STALE_HI && lo === STALE_LO);
      if (i === 5) expect(it.v).toBe(Infinity);
      if (i === 7) expect(Object.is(it.v, -0)).toBe(true);
      i++;
    }
    expect(i).toBe(pats.length);
  });

  it('round-trips 120+ samples of varied data and reuses the iterator via reset', () => {
    const r = rng(42);
    const samples: Sample[] = [];
    let t = 1700000000000;
    let v = 100;
    for (let i = 0; i < 500; i++) {
      t += 15000 + Math.floor((r() - 0.5) * 2000) + (i % 7 === 0 ? Math.floor(r() * 1e7) : 0);
      if (i % 3 === 0) v += Math.floor(r() * 10); // counter-like, often equal
      else if (i % 3 === 1) v = r() * 1e6; // noisy gauge
      const [hi, lo] = i % 50 === 49 ? [STALE_HI, STALE_LO] : bits(v);
      samples.push({ t, hi, lo });
    }
    const a = encode(samples);
    expect(a.numSamples()).toBe(500);
    expect(decode(a.bytes())).toEqual(samples);

    const it = new XorIterator(a.bytes());
    let n = 0;
    while (it.next()) n++;
    it.reset(encode(samples.slice(0, 130)).bytes());
    let m = 0;
    while (it.next()) {
      expect(it.t).toBe(samples[m]!.t);
      m++;
    }
    expect([n, m]).toEqual([500, 130]);
  });

  it('exercises every leading/trailing window shape with random bit patterns', () => {
    const r = rng(7);
    const samples: Sample[] = [];
    for (let i = 0; i < 2000; i++) {
      const kind = i % 5;
      const hi = kind === 0 ? 0 : (r() * 4294967296) >>> 0;
      const lo = kind === 1 ? 0 : kind === 2 ? (((r() * 4294967296) >>> 0) & 0xffff0000) >>> 0 : (r() * 4294967296) >>> 0;
      samples.push({ t: i * 10, hi, lo });
    }
    expect(decode(encode(samples).bytes())).toEqual(samples);
  });

  it('grows its buffer from a small start', () => {
    const a = new XorAppender(4);
    const samples = floats(
      Array.from({ length: 300 }, (_, i) => i * 1000 + (i % 2)),
      Array.from({ length: 300 }, (_, i) => Math.sin(i)),
    );
    for (const s of samples) a.append(s.t, s.hi, s.lo);
    expect(decode(a.bytes())).toEqual(samples);
  });

  it('rejects out-of-order appends and truncated chunks', () => {
    const a = encode(floats([10, 20, 30], [1, 2, 3]));
    expect(() => a.append(25, 0, 0)).toThrow(RangeError);
    expect(decode(a.bytes()).length).toBe(3); // state unchanged by the rejected append
    const cut = a.bytes().slice(0, a.byteLength() - 3);
    const it = new XorIterator(cut);
    expect(() => {
      while (it.next());
    }).toThrow(/truncated/);
    expect(() => new XorIterator(new Uint8Array(1))).toThrow(/header/);
  });
});
