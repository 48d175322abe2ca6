import { labelsFromObject, type Labels } from '@strata/tsdb-core';
import {
  BodyWriter,
  encodeJson,
  errorJson,
  formatFloatTimestamp,
  formatPointTimestamp,
  formatSampleValue,
  formatScalarValue,
  jsonString,
  labelsJson,
  queryDataJson,
  stringArrayJson,
  successJson,
  writeQueryData,
} from './format';

// Expected strings below were taken from Prometheus 2.42.0 (Debian build, go1.19.8) answering
// `vector(<v>)` (sample values) and `<v>` (scalar values) on /api/v1/query.

describe('formatSampleValue (vector/matrix values)', () => {
  test.each<[number, string]>([
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [-1, '-1'],
    [0.1, '0.1'],
    [3.14, '3.14'],
    [1 / 3, '0.3333333333333333'],
    [1234.5678, '1234.5678'],
    [100, '100'],
    [1e20, '100000000000000000000'],
    [123456789012345680000, '123456789012345680000'],
    [999999999999999900000, '999999999999999900000'],
    [1e21, '1e+21'],
    [-1e21, '-1e+21'],
    [1.5e21, '1.5e+21'],
    [1e22, '1e+22'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [0.000001, '0.000001'],
    [-0.000001, '-0.000001'],
    [9.999999999999997e-7, '9.999999999999997e-07'], // the double just below 1e-6
    [1e-7, '1e-07'],
    [1.5e-7, '1.5e-07'],
    [-1.5e-7, '-1.5e-07'],
    [1e-9, '1e-09'],
    [1e-10, '1e-10'],
    [-1e-100, '-1e-100'],
    [2.2250738585072014e-308, '2.2250738585072014e-308'],
    [5e-324, '5e-324'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ])('%p → %s', (v, want) => {
    expect(formatSampleValue(v)).toBe(want);
  });

  test('the stale-marker NaN prints as NaN', () => {
    const dv = new DataView(new ArrayBuffer(8));
    dv.setBigUint64(0, 0x7ff0000000000002n);
    expect(formatSampleValue(dv.getFloat64(0))).toBe('NaN');
  });
});

describe('formatScalarValue (scalar results: always fixed notation)', () => {
  test.each<[number, string]>([
    [0, '0'],
    [-0, '-0'],
    [2, '2'],
    [123456789.125, '123456789.125'],
    [1e-7, '0.0000001'],
    [1.5e-7, '0.00000015'],
    [-1.5e-7, '-0.00000015'],
    [1e21, '1000000000000000000000'],
    [1.5e21, '1500000000000000000000'],
    [-1.2345e22, '-12345000000000000000000'],
    [1e-20, '0.00000000000000000001'],
    [5e-324, '0.' + '0'.repeat(323) + '5'],
    [1.7976931348623157e308, '17976931348623157' + '0'.repeat(292)],
    [1700000000.123, '1700000000.123'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ])('%p → %s', (v, want) => {
    expect(formatScalarValue(v)).toBe(want);
  });

  test('agrees with the exponent form on the digits', () => {
    for (let i = 0; i < 2000; i++) {
      const v = (Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 80 - 40);
      expect(Number(formatScalarValue(v))).toBe(v);
      expect(formatScalarValue(v)).not.toMatch(/e/);
    }
  });
});

describe('timestamps', () => {
  test.each<[number, string]>([
    [0, '0'],
    [1000, '1'],
    [1500, '1.500'],
    [1001, '1.001'],
    [1010, '1.010'],
    [1700000000000, '1700000000'],
    [1700000000850, '1700000000.850'],
    [1700000000050, '1700000000.050'],
    [1700000000005, '1700000000.005'],
    [-1500, '-1.500'],
    [-2000, '-2'],
    [-1, '-0.001'],
    [-999, '-0.999'],
  ])('point %p → %s', (t, want) => {
    expect(formatPointTimestamp(t)).toBe(want);
  });

  test.each<[number, string]>([
    [0, '0'],
    [-0, '0'],
    [1000, '1'],
    [1500, '1.5'],
    [-1500, '-1.5'],
    [1700000000500, '1700000000.5'],
    [1700000000123, '1700000000.123'],
    [1700000000850, '1700000000.85'],
    [7, '0.007'],
  ])('scalar/string %p → %s', (t, want) => {
    expect(formatFloatTimestamp(t)).toBe(want);
  });
});

describe('jsonString (Go encoding/json with HTML escaping)', () => {
  test.each<[string, string]>([
    ['', '""'],
    ['up', '"up"'],
    ['a<b>&c', '"a\\u003cb\\u003e\\u0026c"'],
    ['q"uote\\nl\n', '"q\\"uote\\\\nl\\n"'],
    ['\t\r\n', '"\\t\\r\\n"'],
    ['\x00\x01\x08\x0c\x1f', '"\\u0000\\u0001\\u0008\\u000c\\u001f"'],
    ['\x7f', '"\x7f"'],
    ['\u2028\u2029', '"\\u2028\\u2029"'],
    ['ü😀é', '"ü😀é"'],
    ['\u00a0\ufeff', '"\u00a0\ufeff"'],
    ['a\ud800b', '"a\\ufffdb"'],
    ['\udc00', '"\\ufffd"'],
    ['x😀<', '"x😀\\u003c"'],
  ])('%j → %s', (s, want) => {
    expect(jsonString(s)).toBe(want);
  });

  test('round-trips through JSON.parse for valid strings', () => {
    const s = 'a"b\\c\u0001<>&\u2028 😀 \u00e9';
    expect(JSON.parse(jsonString(s))).toBe(s);
  });
});

function L(o: Record<string, string>): Labels {
  return labelsFromObject(o);
}

describe('query results', () => {
  test('vector, byte for byte as Prometheus', () => {
    const got = successJson(
      queryDataJson({
        resultType: 'vector',
        result: [
          { metric: L({ __name__: 'm', job: 'a<b>&c', x: 'q"uote\\nl\n' }), t: 1700000000850, v: 1e-7 },
          { metric: L({ __name__: 'm', job: 'ü😀', x: '\\u0001' }), t: 1700000000850, v: 3.14 },
        ],
      }),
    );
    expect(got).toBe(
      '{"status":"success","data":{"resultType":"vector","result":[' +
        '{"metric":{"__name__":"m","job":"a\\u003cb\\u003e\\u0026c","x":"q\\"uote\\\\nl\\n"},"value":[1700000000.850,"1e-07"]},' +
        '{"metric":{"__name__":"m","job":"ü😀","x":"\\\\u0001"},"value":[1700000000.850,"3.14"]}]}}',
    );
  });

  test('matrix, byte for byte as Prometheus', () => {
    const got = successJson(
      queryDataJson({
        resultType: 'matrix',
        result: [{ metric: [], ts: [-2000, -1500, -1000], vs: [-2, -1.5, -1] }],
      }),
    );
    expect(got).toBe(
      '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[-2,"-2"],[-1.500,"-1.5"],[-1,"-1"]]}]}}',
    );
  });

  test('matrix with special values and a series without points', () => {
    const got = queryDataJson({
      resultType: 'matrix',
      result: [
        { metric: L({ a: '1' }), ts: [1000, 1050, 2000, 3000, 4000], vs: [1e21, -0, NaN, Infinity, -Infinity] },
        { metric: L({ a: '2' }), ts: [], vs: [] },
      ],
    });
    expect(got).toBe(
      '{"resultType":"matrix","result":[{"metric":{"a":"1"},"values":[[1,"1e+21"],[1.050,"-0"],[2,"NaN"],[3,"+Inf"],[4,"-Inf"]]},{"metric":{"a":"2"}}]}',
    );
  });

  test('scalar and string', () => {
    expect(queryDataJson({ resultType: 'scalar', result: { t: 1700000000500, v: 1e-7 } })).toBe(
      '{"resultType":"scalar","result":[1700000000.5,"0.0000001"]}',
    );
    expect(queryDataJson({ resultType: 'scalar', result: { t: -1500, v: 123456789.125 } })).toBe(
      '{"resultType":"scalar","result":[-1.5,"123456789.125"]}',
    );
    expect(queryDataJson({ resultType: 'string', result: { t: 1700000000123, v: 'a<b' } })).toBe(
      '{"resultType":"string","result":[1700000000.123,"a\\u003cb"]}',
    );
  });

  test('empty results are []', () => {
    expect(queryDataJson({ resultType: 'vector', result: [] })).toBe('{"resultType":"vector","result":[]}');
    expect(queryDataJson({ resultType: 'matrix', result: [] })).toBe('{"resultType":"matrix","result":[]}');
    expect(stringArrayJson([])).toBe('[]');
  });

  test('output is valid JSON', () => {
    const res = queryDataJson({
      resultType: 'matrix',
      result: [{ metric: L({ __name__: 'x', l: '"\n\u2028' }), ts: [1, 2, 1001], vs: [0.5, NaN, 1e-300] }],
    });
    expect(JSON.parse(res)).toEqual({
      resultType: 'matrix',
      result: [{ metric: { __name__: 'x', l: '"\n\u2028' }, values: [[0.001, '0.5'], [0.002, 'NaN'], [1.001, '1e-300']] }],
    });
  });
});

describe('envelope and generic JSON', () => {
  test('error envelope', () => {
    expect(errorJson('bad_data', 'invalid parameter "query": 1:3: parse error: unclosed left parenthesis')).toBe(
      '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"query\\": 1:3: parse error: unclosed left parenthesis"}',
    );
  });

  test('labels and label lists', () => {
    expect(labelsJson([])).toBe('{}');
    expect(labelsJson(L({ b: '2', a: '1' }))).toBe('{"a":"1","b":"2"}');
    expect(stringArrayJson(['__name__', 'a&b'])).toBe('["__name__","a\\u0026b"]');
  });

  test('encodeJson keeps key order and Go escaping', () => {
    expect(
      encodeJson({
        version: '2.42.0+ds',
        revision: 'r<1>',
        n: 1.5,
        ok: true,
        nothing: null,
        skipped: undefined,
        list: [1, 'a', { x: -0 }],
      }),
    ).toBe('{"version":"2.42.0+ds","revision":"r\\u003c1\\u003e","n":1.5,"ok":true,"nothing":null,"list":[1,"a",{"x":0}]}');
    expect(() => encodeJson(NaN)).toThrow();
  });
});

describe('BodyWriter', () => {
  test('a large matrix is written in several chunks that concatenate to the same JSON', () => {
    const result = [];
    for (let i = 0; i < 20; i++) {
      const ts: number[] = [];
      const vs: number[] = [];
      for (let j = 0; j < 1000; j++) {
        ts.push(1700000000000 + j * 15001);
        vs.push(j % 7 === 0 ? NaN : j / 3);
      }
      result.push({ metric: L({ __name__: 'ü😀_metric', i: String(i).padStart(2, '0') }), ts, vs });
    }
    const w = new BodyWriter();
    writeQueryData({ resultType: 'matrix', result }, w);
    expect(w.chunks.length).toBeGreaterThan(1);
    expect(w.length).toBe(w.chunks.reduce((n, c) => n + c.length, 0));
    const parsed = JSON.parse(w.toString());
    expect(parsed.result).toHaveLength(20);
    expect(parsed.result[3].metric).toEqual({ __name__: 'ü😀_metric', i: '03' });
    expect(parsed.result[3].values[1]).toEqual([1700000015.001, '0.3333333333333333']);
    expect(parsed.result[19].values[999]).toEqual([1700014985.999, '333']);
    expect(parsed.result[0].values[7]).toEqual([1700000105.007, 'NaN']);
  });

  test('a large vector too', () => {
    const result = Array.from({ length: 3000 }, (_, i) => ({ metric: L({ n: 'é' + i }), t: -1, v: i }));
    const w = new BodyWriter();
    writeQueryData({ resultType: 'vector', result }, w);
    expect(w.chunks.length).toBeGreaterThan(1);
    const parsed = JSON.parse(w.toString());
    expect(parsed.result[2999]).toEqual({ metric: { n: 'é2999' }, value: [-0.001, '2999'] });
  });
});

test('BodyWriter.point writes what formatPointTimestamp and formatSampleValue give', () => {
  const ts = [0, 1, -1, 999, 1000, 1001, -1500, 1700000000000, 1700000000005, 1700000000050, 2147483647999, 2147483648000, 2147483648001, -2147483649001, 8640000000000000, 12345678901234567];
  const vs = [0, -0, 1, -1, 7, 9, 10, 99, 100, 2147483647, 2147483648, -2147483649, 999999999, 1000000000, 1e9 + 1, 1e15 - 1, 1e15, -1e15 + 1, 1e15 + 1, 2 ** 53, 1e21, 0.5, -2.25, 1 / 3, 1e-7, NaN, Infinity, -Infinity];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < 2000; i++) {
    ts.push(Math.floor((rnd() - 0.3) * 2 ** (10 + rnd() * 43)));
    vs.push(Math.floor((rnd() - 0.5) * 2 ** (rnd() * 60)));
    vs.push((rnd() - 0.5) * 10 ** (rnd() * 30 - 10));
  }
  for (const t of ts) {
    for (const v of [vs[Math.floor(rnd() * vs.length)]!, vs[Math.floor(rnd() * vs.length)]!]) {
      const w = new BodyWriter();
      w.point(t, v);
      w.point(t, v, true);
      const one = `[${formatPointTimestamp(t)},"${formatSampleValue(v)}"]`;
      expect(w.toString()).toBe(one + ',' + one);
    }
  }
});
