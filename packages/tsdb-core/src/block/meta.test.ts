import { BlockMetaError, encodeMeta, readMeta, type BlockMeta } from './meta';

const ULID = '01HZ0000000000000000000000';

describe('meta.json', () => {
  it('reads what Prometheus writes (zero counters omitted) and fills the defaults', () => {
    const m = readMeta(`{
	"ulid": "${ULID}",
	"minTime": 1700000000000,
	"maxTime": 1700000045001,
	"stats": { "numSamples": 4, "numSeries": 2, "numChunks": 2 },
	"compaction": { "level": 1, "sources": ["${ULID}"] },
	"version": 1
}`);
    expect(m).toEqual({
      ulid: ULID,
      minTime: 1700000000000,
      maxTime: 1700000045001,
      stats: { numSamples: 4, numFloatSamples: 0, numHistogramSamples: 0, numSeries: 2, numChunks: 2, numTombstones: 0 },
      compaction: { level: 1, sources: [ULID], parents: [] },
      version: 1,
    });
    expect(m.thanos).toBeUndefined();
  });

  it('round-trips through encodeMeta, with the thanos section', () => {
    const meta: BlockMeta = {
      ulid: ULID,
      minTime: -5,
      maxTime: 7200000,
      stats: { numSamples: 10, numFloatSamples: 10, numHistogramSamples: 0, numSeries: 1, numChunks: 1, numTombstones: 0 },
      compaction: { level: 2, sources: [ULID], parents: [{ ulid: ULID, minTime: 0, maxTime: 1 }], hints: ['from-out-of-order'] },
      version: 1,
      thanos: {
        version: 1,
        labels: { __compactor_shard_id__: '1_of_2' },
        downsample: { resolution: 300000 },
        source: 'compactor',
        files: [{ rel_path: 'index', size_bytes: 100 }, { rel_path: 'meta.json' }],
      },
    };
    const text = encodeMeta(meta);
    expect(text).toContain('\t"ulid"');
    const o = JSON.parse(text) as Record<string, Record<string, unknown>>;
    expect(o.stats).toEqual({ numSamples: 10, numFloatSamples: 10, numSeries: 1, numChunks: 1 });
    expect(o.thanos!.labels).toEqual({ __compactor_shard_id__: '1_of_2' });
    expect(readMeta(text)).toEqual(meta);
    // labels are always serialized, even when empty
    expect(JSON.parse(encodeMeta({ ...meta, thanos: { ...meta.thanos!, labels: {} } })).thanos.labels).toEqual({});
  });

  it('rejects other versions and malformed fields', () => {
    const base = { ulid: ULID, minTime: 0, maxTime: 1, compaction: { level: 1 }, version: 1 };
    expect(() => readMeta({ ...base, version: 2 })).toThrow(/unsupported version 2/);
    expect(() => readMeta(JSON.stringify({ ...base, version: undefined }))).toThrow(BlockMetaError);
    expect(() => readMeta({ ...base, ulid: 'x' })).toThrow(/ulid is not a ULID/);
    expect(() => readMeta({ ...base, minTime: 2 })).toThrow(/minTime 2 is after maxTime 1/);
    expect(() => readMeta({ ...base, maxTime: '1' })).toThrow(/maxTime must be an integer/);
    expect(() => readMeta('{nope')).toThrow(/invalid JSON/);
    expect(() => readMeta({ ...base, compaction: { level: 1, sources: ['bad'] } })).toThrow(/sources\[0\]/);
    expect(() => readMeta(new TextEncoder().encode(JSON.stringify(base)))).not.toThrow();
  });
});
