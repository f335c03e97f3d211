/**
 * CPython's `int(str)` and `float(str)`, for the policy port: authnzerver casts limit values and
 * shared-with ids with them, so the same text must pass or fail here as it does there.
 */

// str.strip() removes every character for which str.isspace() is true: JS's \s plus U+001C–U+001F
// and U+0085.
// eslint-disable-next-line no-control-regex -- Python counts U+001C–U+001F as white space
const PY_SPACE = /^[\s\x1c-\x1f\x85]+|[\s\x1c-\x1f\x85]+$/g;
const DIGIT = /\p{Nd}/u;

/** The value of one Unicode decimal digit (int() accepts every `Nd` digit, e.g. U+0664, U+FF12). */
function digitValue(char: string): number {
  const cp = char.codePointAt(0) as number;
  if (cp >= 0x30 && cp <= 0x39) return cp - 0x30;
  // Decimal digits come in contiguous runs of ten starting at zero, some runs back to back.
  let start = cp;
  while (start > 0 && DIGIT.test(String.fromCodePoint(start - 1))) start--;
  return (cp - start) % 10;
}

/** Digits (any `Nd`) with single underscores between them, as Python's numeric literals allow; ASCII out. */
function digits(text: string): string | undefined {
  const chars = [...text];
  if (chars.length === 0 || chars[0] === '_' || chars[chars.length - 1] === '_') return undefined;
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === '_') {
      if (chars[i - 1] === '_') return undefined;
      continue;
    }
    if (!DIGIT.test(c)) return undefined;
    out += String(digitValue(c));
  }
  return out;
}

/** `int(text)` in base 10: the value, or undefined where Python raises ValueError. */
export function pyInt(text: string): bigint | undefined {
  const m = /^([+-]?)(.*)$/su.exec(text.replace(PY_SPACE, '')) as RegExpExecArray;
  const body = digits(m[2] as string);
  if (body === undefined) return undefined;
  const value = BigInt(body);
  return m[1] === '-' ? -value : value;
}

/** `float(text)`: the value, or undefined where Python raises ValueError (no hex, no bare `.`). */
export function pyFloat(text: string): number | undefined {
  const t = text.replace(PY_SPACE, '');
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(t);
  if (special) {
    if ((special[2] as string).toLowerCase() === 'nan') return Number.NaN;
    return special[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  const m = /^([+-]?)([^.eE]*)(?:\.([^eE]*))?(?:[eE]([+-]?)(.*))?$/su.exec(t);
  if (!m) return undefined;
  const [, sign = '', intPart = '', frac, expSign = '', exp] = m;
  const i = intPart === '' ? '' : digits(intPart);
  const f = frac === undefined || frac === '' ? '' : digits(frac);
  if (i === undefined || f === undefined || (i === '' && f === '')) return undefined;
  let e = '';
  if (exp !== undefined) {
    const d = digits(exp);
    if (d === undefined) return undefined;
    e = `e${expSign}${d}`;
  }
  return Number(`${sign}${i === '' ? '0' : i}.${f === '' ? '0' : f}${e}`);
}
