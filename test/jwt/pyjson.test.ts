import { pyFloat, pyJsonDumps, pyString } from '../../src/jwt/pyjson.js';

describe('Python-compatible JSON', () => {
  // Expected values printed by CPython 3.11's str(float).
  it.each([
    [3.1, '3.1'], [1, '1.0'], [4, '4.0'], [0.5, '0.5'], [1e-5, '1e-05'], [1.5e16, '1.5e+16'], [1e16, '1e+16'],
    [123456789012345.6, '123456789012345.6'], [0.0001, '0.0001'], [0.00012345, '0.00012345'], [1e22, '1e+22'],
    [-2.5, '-2.5'], [9999999999999998, '9999999999999998.0'], [-0, '-0.0'], [NaN, 'nan'], [Infinity, 'inf'],
  ])('str(%p) is %s', (value, expected) => {
    expect(pyFloat(value)).toBe(expected);
  });

  it('escapes as ensure_ascii does: control characters, DEL, non-ASCII and astral characters', () => {
    expect(pyString('a"b\\c\n\t\u0001\u007f é €😀')).toBe('"a\\"b\\\\c\\n\\t\\u0001\\u007f \\u00e9 \\u20ac\\ud83d\\ude00"');
  });

  it('writes compact, ordered objects with bigint as int', () => {
    expect(pyJsonDumps({ b: 1, a: [1.5, 2n, 'x'], c: null, d: true })).toBe('{"b":1,"a":[1.5,2,"x"],"c":null,"d":true}');
  });
});
