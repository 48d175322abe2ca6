import { ApiError } from './errors';
import {
  MAX_TIME,
  MAX_TIME_FORMATTED,
  MIN_TIME,
  MIN_TIME_FORMATTED,
  checkRangeParams,
  durationParam,
  formValue,
  labelNameParam,
  parseDuration,
  parseGoFloat,
  parseGoInt,
  parseTime,
  parseUrlEncoded,
  requiredTimeParam,
  timeParam,
  toEngineMillis,
  toMillis,
  unescapeLabelName,
  type FormValues,
} from './params';

// Expectations were checked against Prometheus 2.42.0 (`time()` at the parsed time, and the
// error texts of /api/v1/query and /api/v1/query_range).

function form(o: Record<string, string | string[]>): FormValues {
  return new Map(Object.entries(o).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
}

function apiErr(fn: () => unknown): { errorType: string; message: string; status: number } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    const a = e as ApiError;
    return { errorType: a.errorType, message: a.message, status: a.status };
  }
  throw new Error('no error thrown');
}

describe('parseGoFloat (strconv.ParseFloat)', () => {
  test.each<[string, number | undefined]>([
    ['0', 0],
    ['1', 1],
    ['-1.5', -1.5],
    ['+.5e1', 5],
    ['5.', 5],
    ['.5', 0.5],
    ['1E3', 1000],
    ['1.0e+1', 10],
    ['1_0', 10],
    ['1_0.5_0', 10.5],
    ['1e1_0', 1e10],
    ['0x1p4', 16],
    ['0x1.8p1', 3],
    ['-0x_1p-2', -0.25],
    ['0x.8p1', 1],
    ['1e-400', 0],
    ['inf', Infinity],
    ['+Inf', Infinity],
    ['-infinity', -Infinity],
    ['', undefined],
    ['.', undefined],
    ['e5', undefined],
    ['1e', undefined],
    [' 1', undefined],
    ['1 ', undefined],
    ['1__0', undefined],
    ['_1', undefined],
    ['1_', undefined],
    ['1_.5', undefined],
    ['0x10', undefined],
    ['1e400', undefined],
    ['+nan', undefined],
    ['infin', undefined],
    ['1h', undefined],
  ])('%j → %p', (s, want) => {
    expect(parseGoFloat(s)).toBe(want);
  });

  test('nan', () => {
    expect(parseGoFloat('NaN')).toBeNaN();
    expect(parseGoFloat('nan')).toBeNaN();
  });
});

describe('parseGoInt (strconv.Atoi)', () => {
  test.each<[string, number | undefined]>([
    ['0', 0],
    ['+3', 3],
    ['-1', -1],
    ['007', 7],
    ['1.5', undefined],
    ['x', undefined],
    ['', undefined],
    [' 1', undefined],
    ['1_0', undefined],
    ['9223372036854775808', undefined],
  ])('%j → %p', (s, want) => {
    expect(parseGoInt(s)).toBe(want);
  });
});

describe('parseTime', () => {
  // [input, engine ms (UnixNano/1e6), storage ms (timestamp.FromTime)]
  test.each<[string, number, number]>([
    ['0', 0, 0],
    ['1', 1000, 1000],
    ['-1.5', -1500, -1500],
    ['0.007', 7, 7],
    ['-0.007', -7, -7],
    ['0.0005', 1, 1],
    ['-0.0005', -1, -1],
    ['-0.0015', -2, -2],
    ['1.0005', 1000, 1000], // 1.0005 is 1.000499999… as a double
    ['-1.0005', -1000, -1000],
    ['1.9996', 2000, 2000],
    ['-1.9996', -2000, -2000],
    ['1700000000.123456', 1700000000123, 1700000000123],
    ['1700000000.0015', 1700000000001, 1700000000001],
    ['1700000000.9995', 1700000001000, 1700000001000],
    ['1e3', 1000000, 1000000],
    ['1_0', 10000, 10000],
    ['0x1p4', 16000, 16000],
    ['1e-400', 0, 0],
    ['2023-11-14T22:13:20Z', 1700000000000, 1700000000000],
    ['2023-11-14T22:13:20.8506Z', 1700000000850, 1700000000850],
    ['2023-11-14T22:13:20,5Z', 1700000000500, 1700000000500],
    ['2023-11-14T22:13:20.123456789Z', 1700000000123, 1700000000123],
    ['2023-11-14T2:13:20Z', 1699928000000, 1699928000000],
    ['2023-11-14T22:13:20+01:00', 1699996400000, 1699996400000],
    ['2023-11-14T22:13:20-00:30', 1700001800000, 1700001800000],
    ['2023-11-14T22:13:20+99:99', 1699637660000, 1699637660000],
    ['2024-02-29T00:00:00Z', 1709164800000, 1709164800000],
    ['2000-02-29T00:00:00Z', 951782400000, 951782400000],
    ['1969-12-31T23:59:59.9995Z', 0, -1], // the engine truncates toward zero, storage floors
    ['1969-12-31T23:59:59.5Z', -500, -500],
    ['1900-01-01T00:00:00Z', -2208988800000, -2208988800000],
    ['0000-01-01T00:00:00Z', -62167219200000, -62167219200000],
  ])('%s → engine %p, storage %p', (s, engineMs, storageMs) => {
    const t = parseTime(s);
    expect(toEngineMillis(t)).toBe(engineMs);
    expect(toMillis(t)).toBe(storageMs);
  });

  test.each([
    '',
    'x',
    ' 1',
    '1 ',
    '0x10',
    '1e400',
    'inf',
    '-Inf',
    'NaN',
    '2023-11-14t22:13:20Z',
    '2023-11-14T22:13:20z',
    '2023-11-14T22:13:20',
    '2023-11-14',
    '2023-02-30T22:13:20Z',
    '2023-02-29T00:00:00Z',
    '2100-02-29T00:00:00Z',
    '2023-11-14T24:13:20Z',
    '2023-11-14T22:60:20Z',
    '2023-11-14T22:13:60Z',
    '2023-13-14T22:13:20Z',
    '2023-00-14T22:13:20Z',
    '2023-11-00T22:13:20Z',
    '2023-11-14T22:13:20.Z',
    '2023-11-14T22:13:20.1234567891Z',
    '2023-11-14T022:13:20Z',
    '2023-1-14T22:13:20Z',
    '+2023-11-14T22:13:20Z',
    '2023-11-14T22:13:20+0100',
    '2023-11-14T22:13:20+1:00',
  ])('refuses %j', (s) => {
    expect(() => parseTime(s)).toThrow(`cannot parse ${JSON.stringify(s)} to a valid timestamp`);
  });

  test('min and max time strings', () => {
    expect(parseTime(MIN_TIME_FORMATTED)).toBe(MIN_TIME);
    expect(parseTime(MAX_TIME_FORMATTED)).toBe(MAX_TIME);
    expect(toMillis(MIN_TIME)).toBe(-9223309901257974000);
    expect(toMillis(MAX_TIME)).toBe(9223309901257974999);
  });

  test('Go quoting in the error', () => {
    expect(() => parseTime('a"b\n')).toThrow('cannot parse "a\\"b\\n" to a valid timestamp');
  });
});

describe('parseDuration (ns)', () => {
  test.each<[string, number]>([
    ['1', 1e9],
    ['0.5', 5e8],
    ['.5', 5e8],
    ['5.', 5e9],
    ['+1', 1e9],
    ['-1', -1e9],
    ['0', 0],
    ['1e-400', 0],
    ['0x1p-2', 2.5e8],
    ['1_0', 1e10],
    ['0.0001', 1e5],
    ['5ms', 5e6],
    ['1s', 1e9],
    ['5m', 3e11],
    ['1h30m', 5.4e12],
    ['1d', 8.64e13],
    ['1w', 6.048e14],
    ['1y', 3.1536e16],
    ['1y2w3d4h5m6s7ms', (31536000 + 2 * 604800 + 3 * 86400 + 4 * 3600 + 5 * 60 + 6) * 1e9 + 7e6],
    ['0s', 0],
    ['01m', 6e10],
    ['292y', 292 * 3.1536e16],
  ])('%s → %p', (s, ns) => {
    expect(parseDuration(s)).toBe(ns);
  });

  test('NaN and 2^63 become the minimum int64, as Go on amd64', () => {
    expect(parseDuration('nan')).toBe(-(2 ** 63));
    expect(parseDuration('9223372036.854775807')).toBe(-(2 ** 63));
  });

  test.each(['', 'x', '1h1h', '1.5m', '5M', '1m 5s', '-1m', '99999999999y', '293y', '1e400', '1e'])('refuses %j', (s) => {
    expect(() => parseDuration(s)).toThrow(`cannot parse ${JSON.stringify(s)} to a valid duration`);
  });

  test.each(['inf', '-inf', '1e10', '-9223372037'])('overflow %j', (s) => {
    expect(() => parseDuration(s)).toThrow(`cannot parse ${JSON.stringify(s)} to a valid duration. It overflows int64`);
  });
});

describe('parameter helpers (Prometheus wording)', () => {
  test('timeParam: default, value, error', () => {
    const dflt = { sec: 5, nsec: 0 };
    expect(timeParam(form({}), 'time', dflt)).toBe(dflt);
    expect(timeParam(form({ time: '' }), 'time', dflt)).toBe(dflt);
    expect(toMillis(timeParam(form({ time: ['7', '9'] }), 'time', dflt))).toBe(7000);
    expect(apiErr(() => timeParam(form({ start: 'x' }), 'start', dflt))).toEqual({
      errorType: 'bad_data',
      status: 400,
      message: 'invalid parameter "start": Invalid time value for \'start\': cannot parse "x" to a valid timestamp',
    });
  });

  test('requiredTimeParam and durationParam', () => {
    expect(apiErr(() => requiredTimeParam(form({}), 'start')).message).toBe(
      'invalid parameter "start": cannot parse "" to a valid timestamp',
    );
    expect(apiErr(() => requiredTimeParam(form({ end: 'x' }), 'end')).message).toBe(
      'invalid parameter "end": cannot parse "x" to a valid timestamp',
    );
    expect(apiErr(() => durationParam(form({ step: 'x' }), 'step')).message).toBe(
      'invalid parameter "step": cannot parse "x" to a valid duration',
    );
    expect(apiErr(() => durationParam(form({ timeout: 'inf' }), 'timeout')).message).toBe(
      'invalid parameter "timeout": cannot parse "inf" to a valid duration. It overflows int64',
    );
  });

  const T = (sec: number, nsec = 0) => ({ sec, nsec });

  test('checkRangeParams', () => {
    expect(checkRangeParams(T(0), T(10), 1e9)).toBe(1000);
    expect(checkRangeParams(T(0), T(11000), 1e9)).toBe(1000);
    expect(checkRangeParams(T(0), T(11000, 999000000), 1e9)).toBe(1000);
    expect(checkRangeParams(T(1), T(1), 1e6)).toBe(1);
    expect(checkRangeParams(T(0), T(10), 1.5e9)).toBe(1500);
    expect(apiErr(() => checkRangeParams(T(10), T(1), 1e9)).message).toBe(
      'invalid parameter "end": end timestamp must not be before start time',
    );
    const zero =
      'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer';
    expect(apiErr(() => checkRangeParams(T(0), T(10), 0)).message).toBe(zero);
    expect(apiErr(() => checkRangeParams(T(0), T(10), -1e9)).message).toBe(zero);
    expect(apiErr(() => checkRangeParams(T(1), T(1), 1e5)).message).toBe(zero); // below 1ms
    const tooMany = {
      errorType: 'bad_data',
      status: 400,
      message: 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    };
    expect(apiErr(() => checkRangeParams(T(0), T(11001), 1e9))).toEqual(tooMany);
    expect(checkRangeParams(T(0), T(11), 1e6)).toBe(1); // exactly 11000 steps
    expect(apiErr(() => checkRangeParams(T(0), T(11, 1e6), 1e6))).toEqual(tooMany);
    expect(apiErr(() => checkRangeParams(MIN_TIME, MAX_TIME, 1e9))).toEqual(tooMany);
    // end - start saturates at the largest Duration (~292 years) before the division.
    expect(checkRangeParams(MIN_TIME, MAX_TIME, 86400e9 * 10)).toBe(864000000);
  });
});

describe('parseUrlEncoded (url.ParseQuery)', () => {
  test('values in order, repeated keys, + and %XX', () => {
    const f: FormValues = new Map();
    expect(parseUrlEncoded('match[]=up&match%5B%5D=a%2Bb+c&x&=v&&time=1', f)).toBeUndefined();
    expect(f.get('match[]')).toEqual(['up', 'a+b c']);
    expect(f.get('x')).toEqual(['']);
    expect(f.get('')).toEqual(['v']);
    expect(formValue(f, 'time')).toBe('1');
    expect(formValue(f, 'none')).toBe('');
  });

  test('UTF-8 escapes', () => {
    const f: FormValues = new Map();
    parseUrlEncoded('q=%C3%BC%F0%9F%98%80&r=ü', f);
    expect(f.get('q')).toEqual(['ü😀']);
    expect(f.get('r')).toEqual(['ü']);
  });

  test('bad escapes and semicolons skip the pair and report the first error', () => {
    const f: FormValues = new Map();
    expect(parseUrlEncoded('a=1&time=%zz&b=2;c=3&d=%4', f)).toBe('invalid URL escape "%zz"');
    expect([...f.keys()]).toEqual(['a']);
    const g: FormValues = new Map();
    expect(parseUrlEncoded('a=1;b=2&c=%', g)).toBe('invalid semicolon separator in query');
    expect(g.size).toBe(0);
  });
});

describe('label names', () => {
  test.each<[string, string]>([
    ['job', 'job'],
    ['U__a_2e_b', 'a.b'],
    ['U__my__name', 'my_name'],
    ['U__a_1F600_', 'a😀'],
    ['U___2e_', '.'],
    ['U__a_2E_b', 'a.b'],
    ['U__a_zz_b', 'U__a_zz_b'], // invalid hex: unchanged
    ['U__a_2e', 'U__a_2e'], // unterminated
    ['U__a_', 'U__a_'],
    ['U__a_1234567_', 'U__a_1234567_'], // more than 6 hex digits
    ['U__a_d800_', 'U__a_d800_'], // a surrogate is not a valid rune
    ['U__a_110000_', 'U__a_110000_'],
    ['U__', ''],
  ])('unescape %s → %s', (raw, want) => {
    expect(unescapeLabelName(raw)).toBe(want);
  });

  test('labelNameParam', () => {
    expect(labelNameParam('__name__')).toBe('__name__');
    expect(labelNameParam('U__a_2e_b')).toBe('a.b');
    expect(labelNameParam('U__a_zz_b')).toBe('U__a_zz_b');
    const bad = (raw: string) => apiErr(() => labelNameParam(raw)).message;
    expect(bad('1abc')).toBe('invalid label name: "1abc"');
    expect(bad('a b')).toBe('invalid label name: "a b"');
    expect(bad('a"b')).toBe('invalid label name: "a\\"b"');
    expect(bad('ü')).toBe('invalid label name: "ü"');
    expect(bad('a\nb')).toBe('invalid label name: "a\\nb"');
    expect(bad('a\x01b')).toBe('invalid label name: "a\\x01b"');
    expect(bad('a\u00a0b')).toBe('invalid label name: "a\\u00a0b"');
    expect(bad('a\u200bb')).toBe('invalid label name: "a\\u200bb"');
    expect(bad('\x07\x08\x0b\x0c\r\t')).toBe('invalid label name: "\\a\\b\\v\\f\\r\\t"');
    expect(bad('')).toBe('invalid label name: ""');
    expect(bad('U__')).toBe('invalid label name: ""');
  });
});
