import { DecodeError } from '../encoding';
import {
  RECORD_SAMPLES,
  SamplesRecordBuilder,
  decodeRecord,
  encodeSeriesRecord,
  encodeTombstonesRecord,
} from './records';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('WAL records', () => {
  it('encodes series records in the Prometheus layout and decodes them', () => {
    const rec = encodeSeriesRecord([
      { ref: 1, labels: [{ name: '__name__', value: 'up' }] },
      { ref: 2 ** 40 + 5, labels: [{ name: 'a', value: 'é😀' }, { name: 'job', value: '' }] },
      { ref: 7, labels: [] },
    ]);
    expect(hex(rec.subarray(0, 22))).toBe(
      '01' + '0000000000000001' + '01' + '085f5f6e616d655f5f' + '027570',
    );
    expect(decodeRecord(rec)).toEqual({
      type: 'series',
      series: [
        { ref: 1, labels: [{ name: '__name__', value: 'up' }] },
        { ref: 2 ** 40 + 5, labels: [{ name: 'a', value: 'é😀' }, { name: 'job', value: '' }] },
        { ref: 7, labels: [] },
      ],
    });
  });

  it('builds samples records with zigzag deltas from the first sample', () => {
    const b = new SamplesRecordBuilder(16);
    b.add(10, 1700000000000, 0x3ff00000, 0);
    b.add(9, 1699999999999, 0x7ff00000, 2);
    expect(b.size()).toBe(2);
    expect(hex(b.finish())).toBe(
      '02' +
        '000000000000000a' +
        '0000018bcfe56800' +
        '00' + '00' + '3ff0000000000000' +
        '01' + '01' + '7ff0000000000002',
    );
    expect(b.byteLength()).toBe(b.finish().length);

    b.reset();
    const refs: number[] = [];
    const ts: number[] = [];
    for (let i = 0; i < 500; i++) {
      refs.push(1000 + ((i * 7919) % 3000) - 1500);
      ts.push(-5000 + i * 15000 - (i % 3) * 2 ** 35);
      b.add(refs[i]!, ts[i]!, (0xfff00000 + i) >>> 0, (i * 2654435761) >>> 0);
    }
    const d = decodeRecord(b.finish());
    if (d.type !== 'samples') throw new Error(d.type);
    expect(d.samples.refs).toEqual(refs);
    expect(d.samples.ts).toEqual(ts);
    expect(d.samples.his.length).toBe(500);
    expect(d.samples.his[3]).toBe(0xfff00003);
    expect(d.samples.los[499]).toBe((499 * 2654435761) >>> 0);
  });

  it('encodes an empty samples record as the type byte alone', () => {
    const b = new SamplesRecordBuilder();
    expect(hex(b.finish())).toBe('02');
    const d = decodeRecord(b.finish());
    expect(d.type === 'samples' && d.samples.refs.length).toBe(0);
    expect(RECORD_SAMPLES).toBe(2);
  });

  it('round-trips tombstones and reports unknown record types', () => {
    const rec = encodeTombstonesRecord([
      { ref: 3, mint: -10, maxt: 1700000000000 },
      { ref: 4, mint: 0, maxt: 5 },
    ]);
    expect(hex(rec.subarray(0, 11))).toBe('03' + '0000000000000003' + '13' + '80');
    expect(decodeRecord(rec)).toEqual({
      type: 'tombstones',
      tombstones: [
        { ref: 3, mint: -10, maxt: 1700000000000 },
        { ref: 4, mint: 0, maxt: 5 },
      ],
    });
    expect(decodeRecord(new Uint8Array([6, 1, 2]))).toEqual({ type: 'unknown', code: 6 });
  });

  it('throws DecodeError on truncated records', () => {
    const rec = encodeSeriesRecord([{ ref: 1, labels: [{ name: 'job', value: 'node' }] }]);
    expect(() => decodeRecord(rec.subarray(0, rec.length - 1))).toThrow(DecodeError);
    const b = new SamplesRecordBuilder();
    b.add(1, 2, 3, 4);
    expect(() => decodeRecord(b.finish().subarray(0, 20))).toThrow(DecodeError);
    expect(() => decodeRecord(new Uint8Array(0))).toThrow(DecodeError);
  });
});
