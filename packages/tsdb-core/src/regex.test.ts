import { compileAnchoredRegex, RegexSyntaxError } from './regex';

const m = (re: string, s: string) => compileAnchoredRegex(re).test(s);

describe('Go RE2 → JS regex', () => {
  test.each([
    ['.', '😀', true],
    ['.', 'ab', false],
    ['new.line', 'new\nline', false],
    ['(?s)new.line', 'new\nline', true],
    ['(?i)FOO', 'foo', true],
    ['[😀Ａ]', 'Ａ', true],
    ['[^a-z]', '😀', true],
    ['\\p{L}+', 'üñí', true],
    ['\\pL+', 'abc', true],
    ['\\p{Greek}|\\p{Han}+', '日本', true],
    ['\\PL', '1', true],
    ['[[:alpha:]]+', 'abc', true],
    ['[[:word:]]+', 'a_1', true],
    ['[[:digit:]]', 'x', false],
    ['\\Qa.b\\E', 'a.b', true],
    ['\\Qa.b\\E', 'axb', false],
    ['\\x{66}oo', 'foo', true],
    ['\\x66oo', 'foo', true],
    ['\\Afoo\\z', 'foo', true],
    ['(?P<t>a)b', 'ab', true],
    ['a{2}', 'aa', true],
    ['a{', 'a{', true],
    ['a}', 'a}', true],
    ['a]', 'a]', true],
    ['[]a]+', ']a', true],
    ['\\-\\:', '-:', true],
    ['\\101', 'A', true],
    ['a|b|', '', true],
    ['.*', '', true],
  ])('%s ~ %j → %s', (re, s, want) => {
    expect(m(re, s)).toBe(want);
  });

  test.each(['(?=a)', '(?!a)', '(?<=a)b', '\\1', '(a)\\1', '\\e', '(?<t>a)', 'x{1001}', 'x{2,1}', '[a', '(a', 'a)', '\\'])(
    '%s is rejected as RE2 does',
    (re) => {
      expect(() => compileAnchoredRegex(re)).toThrow(RegexSyntaxError);
      expect(() => compileAnchoredRegex(re)).toThrow(/^error parsing regexp: /);
    },
  );
});

describe('more RE2 forms', () => {
  test.each([
    ['[[:^alpha:]]*', '12 😀', true],
    ['[[:^alpha:]]*', 'a', false],
    ['(?m)^line$', 'new\nline', false],
    ['(?m)new$\n^line', 'new\nline', true],
    ['(?U)f.*', 'foo', true],
  ])('%s ~ %j → %s', (re, s, want) => {
    expect(compileAnchoredRegex(re).test(s)).toBe(want);
  });

  test('(?U) swaps greediness', () => {
    const re = compileAnchoredRegex('(?U)(a+)(a*)');
    expect(re.exec('aaa')!.slice(1)).toEqual(['a', 'aa']);
    const re2 = compileAnchoredRegex('(?U)(a+?)(a*)');
    expect(re2.exec('aaa')!.slice(1)).toEqual(['aaa', '']);
  });
});
