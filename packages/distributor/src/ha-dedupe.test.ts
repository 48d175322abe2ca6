import { Overrides, createRegistry, defaultConfig, limitsFromConfig, type Limits } from '@strata/common';
import { seriesKeyFromLabels, WriteBatch } from '@strata/tsdb-core';
import { HADedupe, countSamples, findHALabels } from './ha-dedupe';
import { ReplicasNotMatchError } from './ha-tracker';
import { DecodeError, WriteRequestDecoder, type DiscardSink } from './write-request-decoder';
import { label, lenField, sample, str } from '../../../tests/helpers/proto-bytes';

const histogram = () => lenField(4, [0x08, 0x01]);
const series = (ls: [string, string][], samples = 1, extra: number[] = []) =>
  lenField(1, [...ls.flatMap(([n, v]) => label(n, v)), ...Array.from({ length: samples }, (_, i) => sample(1000 + i, 1)).flat(), ...extra]);
const metadata = () => lenField(3, [...str(2, 'up')]);

const CL = Buffer.from('cluster');
const RL = Buffer.from('__replica__');

describe('first-series label scan', () => {
  test('finds both labels in the first series only, wherever they are', () => {
    const body = Uint8Array.from([
      ...metadata(), // metadata before the series is skipped
      ...series([['__replica__', 'r1'], ['__name__', 'up'], ['cluster', 'c1']]),
      ...series([['__name__', 'up'], ['__replica__', 'r2'], ['cluster', 'c2']]),
    ]);
    expect(findHALabels(body, CL, RL)).toEqual({ cluster: 'c1', replica: 'r1' });
    const onlyLater = Uint8Array.from([...series([['__name__', 'up'], ['cluster', 'c1']]), ...series([['__replica__', 'r2']])]);
    expect(findHALabels(onlyLater, CL, RL)).toEqual({ cluster: 'c1', replica: '' });
    expect(findHALabels(new Uint8Array(0), CL, RL)).toEqual({ cluster: '', replica: '' });
  });

  test('label fields in any order, unknown fields skipped, utf-8 values', () => {
    const lbl = lenField(1, [...str(2, 'é-1'), 0x18, 0x05, ...str(1, 'cluster')]);
    const body = Uint8Array.from(lenField(1, [...lbl, ...label('__replica__', 'x')]));
    expect(findHALabels(body, CL, RL)).toEqual({ cluster: 'é-1', replica: 'x' });
  });

  test('counts samples and histograms of all series; malformed bytes throw DecodeError', () => {
    const body = Uint8Array.from([...series([['__name__', 'a']], 3), ...metadata(), ...series([['__name__', 'b']], 2, histogram())]);
    expect(countSamples(body)).toBe(6);
    expect(() => countSamples(body.subarray(0, body.length - 3))).toThrow(DecodeError);
    expect(() => findHALabels(Uint8Array.of(0x0a, 0x05, 0x0a), CL, RL)).toThrow(DecodeError);
  });
});

describe('WriteRequestDecoder dropLabel', () => {
  const decoder = new WriteRequestDecoder();
  const lim = { maxLabelNamesPerSeries: 30, maxLabelNameLength: 1024, maxLabelValueLength: 2048, maxTimestamp: Infinity };
  function keys(body: number[], dropLabel?: string): string[] {
    const batch = new WriteBatch(4);
    const errs: string[] = [];
    const sink: DiscardSink = { discard: (id) => void errs.push(id) };
    decoder.decode(Uint8Array.from(body), lim, batch, sink, { dropLabel });
    expect(errs).toEqual([]);
    return batch.keys;
  }
  const key = (ls: [string, string][]) => seriesKeyFromLabels(ls.map(([name, value]) => ({ name, value })));

  test.each([
    ['first', [['__replica__', 'a'], ['__name__', 'up'], ['job', 'x']]],
    ['middle', [['__name__', 'up'], ['__replica__', 'a'], ['job', 'x']]],
    ['last', [['__name__', 'up'], ['job', 'x'], ['zz_replica', 'a']]],
    ['unsorted', [['job', 'x'], ['__replica__', 'a'], ['__name__', 'up']]],
    ['twice', [['__name__', 'up'], ['__replica__', 'a'], ['job', 'x'], ['__replica__', 'b']]],
    ['absent', [['__name__', 'up'], ['job', 'x']]],
  ] as [string, [string, string][]][])('label %s: the key is the canonical key without it', (_n, ls) => {
    const drop = ls.some(([n]) => n === 'zz_replica') ? 'zz_replica' : '__replica__';
    expect(keys(series(ls), drop)).toEqual([key([['__name__', 'up'], ['job', 'x']])]);
  });

  test('without dropLabel the label is kept; a prefix of the name is not dropped', () => {
    const ls: [string, string][] = [['__name__', 'up'], ['__replica__', 'a']];
    expect(keys(series(ls))).toEqual([key(ls)]);
    expect(keys(series(ls), '__replica')).toEqual([key(ls)]);
    expect(keys(series(ls), '__replica__x')).toEqual([key(ls)]);
    // One decoder serves requests with different drop labels.
    expect(keys(series([['__name__', 'up'], ['r', '1']]), 'r')).toEqual([key([['__name__', 'up']])]);
    expect(keys(series(ls), '')).toEqual([key(ls)]);
  });
});

describe('HADedupe without a KV store', () => {
  function setup(over: Partial<Limits> = {}) {
    const calls: string[] = [];
    const tracker = {
      async checkReplica(tenant: string, cluster: string, replica: string, now: number) {
        calls.push(`${tenant}/${cluster}/${replica}@${now}`);
        if (replica !== 'a') throw new ReplicasNotMatchError(replica, 'a');
      },
    };
    const ov = new Overrides({ ...limitsFromConfig(defaultConfig()), acceptHASamples: true, ...over });
    const d = new HADedupe({ tracker, overrides: ov, registry: createRegistry(false), now: () => 42 });
    return { d, calls };
  }

  test('asks the tracker with the first series\' labels and the clock', async () => {
    const { d, calls } = setup();
    const body = Uint8Array.from(series([['__name__', 'up'], ['__replica__', 'a'], ['cluster', 'c']], 2));
    expect(await d.check('t1', body)).toEqual({ samples: 0, dropLabel: '__replica__' });
    expect(calls).toEqual(['t1/c/a@42']);
  });

  test('a replica value longer than the label value limit is not tracked (validation rejects it)', async () => {
    const { d, calls } = setup({ maxLabelValueLength: 3 });
    const body = Uint8Array.from(series([['__name__', 'up'], ['__replica__', 'abcd'], ['cluster', 'c']]));
    expect(await d.check('t1', body)).toEqual({ samples: 0, nonHA: true });
    expect(calls).toEqual([]);
  });

  test('malformed bodies pass through untouched so the decoder answers 400', async () => {
    const { d, calls } = setup();
    expect(await d.check('t1', Uint8Array.of(0x0a, 0x09, 0x0a))).toEqual({ samples: 0 });
    // A non-elected replica whose body breaks after the first series: not a 202 either.
    const good = series([['__name__', 'up'], ['__replica__', 'b'], ['cluster', 'c']]);
    expect(await d.check('t1', Uint8Array.from([...good, 0x0a, 0x20, 0x01]))).toEqual({ samples: 0 });
    expect(calls).toEqual(['t1/c/b@42']);
  });
});
