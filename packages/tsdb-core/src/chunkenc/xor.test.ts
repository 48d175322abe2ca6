import { SampleBuffer } from '../sample-buffer';
import { STALE_HI, STALE_LO, XorAppender, XorIterator, bitsToFloat, decodeXorInto, floatToBits, isStaleBits } from './xor';

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

describe('decodeXorInto', () => {
  interface Got {
    ts: number[];
    bits: number[];
    stale: number[];
    err: string | null;
  }

  /** What ChunkSeries.decodeInto used to do: iterate with XorIterator, cut to [mint, maxt]. */
  function reference(data: Uint8Array, mint: number, maxt: number): Got {
    const got: Got = { ts: [], bits: [], stale: [], err: null };
    try {
      const it = new XorIterator(data);
      while (it.next()) {
        const t = it.t;
        if (t < mint) continue;
        if (t > maxt) break;
        if (it.stale) got.stale.push(t);
        else {
          got.ts.push(t);
          got.bits.push(it.hi, it.lo);
        }
      }
    } catch (e) {
      got.err = (e as Error).message;
    }
    return got;
  }

  const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

  /** decodeXorInto into a buffer that already holds `pre` samples; returns only what it appended. */
  function fast(b: Uint8Array, start: number, end: number, mint: number, maxt: number, buf: SampleBuffer, pre: number): Got {
    buf.reset();
    for (let i = 0; i < pre; i++) buf.push(-i, i);
    const got: Got = { ts: [], bits: [], stale: [], err: null };
    try {
      decodeXorInto(b, start, end, mint, maxt, buf);
    } catch (e) {
      got.err = (e as Error).message;
    }
    let sameMemory = true;
    for (let i = pre; i < buf.n; i++) {
      got.ts.push(buf.ts[i]!);
      const h = buf.vbits[2 * i + (LE ? 1 : 0)]!;
      const l = buf.vbits[2 * i + (LE ? 0 : 1)]!;
      got.bits.push(h, l);
      if (!Object.is(buf.vs[i], bitsToFloat(h, l)) && !Number.isNaN(buf.vs[i])) sameMemory = false;
    }
    expect(sameMemory).toBe(true);
    for (let i = 0; i < buf.nStale; i++) got.stale.push(buf.staleTs[i]!);
    expect(Array.from(buf.ts.subarray(0, pre))).toEqual(Array.from({ length: pre }, (_, i) => -i));
    return got;
  }

  const DODS = [0, 1, -1, 8192, -8191, 8193, -8192, 65536, -65535, 65537, -65536, 524288, -524287, 524289, -524288, 2 ** 33, -(2 ** 33)];

  function randomChunk(r: () => number): Sample[] {
    const n = r() < 0.1 ? 1 + Math.floor(r() * 3) : 1 + Math.floor(r() * (r() < 0.8 ? 130 : 400));
    const style = Math.floor(r() * 4);
    let t = [1795305600000, -1700000000000, 0, Math.floor(r() * 2 ** 50) - 2 ** 49][Math.floor(r() * 4)]!;
    let delta = [15000, 300000, 1, 0, Math.floor(r() * 2 ** 40)][Math.floor(r() * 5)]!;
    let v = r() * 100;
    const out: Sample[] = [];
    for (let i = 0; i < n; i++) {
      if (i > 0) {
        if (style === 1 || r() < 0.2) {
          const d = r() < 0.5 ? DODS[Math.floor(r() * DODS.length)]! : Math.floor((r() - 0.5) * 2 ** Math.floor(r() * 36));
          if (delta + d >= 0) delta += d;
        }
        t += delta;
      }
      let hi: number;
      let lo: number;
      const kind = r();
      if (kind < 0.05) [hi, lo] = [STALE_HI, STALE_LO];
      else if (kind < 0.08) [hi, lo] = bits([NaN, Infinity, -Infinity, -0, 5e-324][Math.floor(r() * 5)]!);
      else if (kind < 0.12) [hi, lo] = [(r() * 2 ** 32) >>> 0, (r() * 2 ** 32) >>> 0];
      else if (kind < 0.14) [hi, lo] = [0x7ff00000 | ((r() * 2 ** 20) >>> 0), (r() * 2 ** 32) >>> 0]; // NaN payloads
      else {
        if (style === 2) v = r() * 2 ** ((r() - 0.5) * 200);
        else if (style === 3 && r() < 0.5) v += Math.floor(r() * 10);
        else if (r() < 0.5) v = r() < 0.5 ? -v : v * (1 + r());
        [hi, lo] = bits(v);
      }
      out.push({ t, hi, lo });
    }
    return out;
  }

  it('gives exactly what XorIterator gives, on random chunks and cuts', () => {
    const r = rng(20240611);
    const buf = new SampleBuffer(4);
    let samples = 0;
    let stale = 0;
    for (let iter = 0; iter < 3000; iter++) {
      const ss = randomChunk(r);
      const data = encode(ss).bytes().slice();
      const first = ss[0]!.t;
      const last = ss[ss.length - 1]!.t;
      const pick = (): number => {
        const x = r();
        if (x < 0.15) return -Infinity;
        if (x < 0.3) return Infinity;
        if (x < 0.6) return ss[Math.floor(r() * ss.length)]!.t + (r() < 0.5 ? 0 : r() < 0.5 ? -1 : 1);
        return first + Math.floor(r() * (last - first + 1));
      };
      let mint = pick();
      let maxt = pick();
      if (mint > maxt && r() < 0.8) [mint, maxt] = [maxt, mint];
      // The chunk embedded in a larger buffer, surrounded by garbage (or at its very end).
      const before = Math.floor(r() * 8);
      const after = r() < 0.3 ? 0 : Math.floor(r() * 8);
      const big = new Uint8Array(before + data.length + after);
      for (let i = 0; i < big.length; i++) big[i] = (r() * 256) | 0;
      big.set(data, before);
      const want = reference(data, mint, maxt);
      const got = fast(big, before, before + data.length, mint, maxt, buf, Math.floor(r() * 3));
      expect(got).toEqual(want);
      samples += want.ts.length;
      stale += want.stale.length;
    }
    expect(samples).toBeGreaterThan(50000);
    expect(stale).toBeGreaterThan(1000);
  });

  it('throws what XorIterator throws on truncated and corrupted chunks, after the same samples', () => {
    const r = rng(99);
    const buf = new SampleBuffer(8);
    let errors = 0;
    for (let iter = 0; iter < 3000; iter++) {
      const data = encode(randomChunk(r)).bytes().slice();
      let bad: Uint8Array;
      if (r() < 0.5) {
        bad = data.subarray(0, Math.floor(r() * data.length));
      } else {
        bad = data.slice();
        for (let k = 0; k < 1 + r() * 3; k++) {
          const at = Math.floor(r() * bad.length);
          bad[at] = bad[at]! ^ (1 << Math.floor(r() * 8));
        }
      }
      const want = reference(bad, -Infinity, Infinity);
      const got = fast(bad, 0, bad.length, -Infinity, Infinity, buf, 0);
      expect(got).toEqual(want);
      if (want.err !== null) errors++;
    }
    expect(errors).toBeGreaterThan(1000);
  });

  it('decodes the documented example and rejects a short header', () => {
    const a = encode(floats([1700000000000, 1700000015000], [1, 0]));
    const buf = new SampleBuffer(1);
    decodeXorInto(a.bytes(), 0, a.byteLength(), -Infinity, Infinity, buf);
    expect([buf.n, Array.from(buf.ts.subarray(0, 2)), Array.from(buf.vs.subarray(0, 2))]).toEqual([2, [1700000000000, 1700000015000], [1, 0]]);
    expect(() => decodeXorInto(new Uint8Array(1), 0, 1, 0, 1, buf)).toThrow(/shorter than the 2-byte header/);
  });
});
