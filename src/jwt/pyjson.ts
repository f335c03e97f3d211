/**
 * Python-compatible value formatting, so tokens we issue are byte-identical to the Python originals':
 * `str()` of ints and floats, and `json.dumps(obj, separators=(',', ':'))` with `ensure_ascii`.
 * JavaScript has one number type; a `bigint` stands for a Python `int` where the difference shows.
 */

/** Python `repr(float)` / `str(float)`: shortest round-trip digits, `.0` on integral values. */
export function pyFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = value.toExponential().split('e') as [string, string];
  const exponent = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  // Python switches to scientific notation outside 1e-4 <= |x| < 1e16.
  if (exponent < -4 || exponent >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exponent);
    return `${sign}${m}e${exponent < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const intLen = exponent + 1;
  if (digits.length <= intLen) return `${sign}${digits}${'0'.repeat(intLen - digits.length)}.0`;
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

/** Python `str(int)`. */
export function pyInt(value: number | bigint): string {
  if (typeof value === 'bigint') return value.toString();
  if (!Number.isSafeInteger(value)) throw new RangeError('integer outside the safe range; pass a bigint');
  return String(value);
}

/** Python `json.dumps` of a string with `ensure_ascii=True`. */
export function pyString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    // ensure_ascii: everything outside printable ASCII (DEL included) as \uXXXX, lowercase hex, UTF-16 units.
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += text[i];
  }
  return out + '"';
}

/** Values `pyJsonDumps` can write. */
export type PyJsonValue = string | number | bigint | boolean | null | readonly PyJsonValue[] | { readonly [key: string]: PyJsonValue };

/**
 * `json.dumps(value, separators=(',', ':'))`: compact, insertion-ordered keys, non-ASCII escaped,
 * floats written as Python writes them (numbers are floats unless integral; bigint is an int).
 */
export function pyJsonDumps(value: PyJsonValue): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return pyString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'number':
      if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
      return Number.isInteger(value) ? String(value) : pyFloat(value);
    default:
      break;
  }
  if (Array.isArray(value)) return `[${value.map((v) => pyJsonDumps(v as PyJsonValue)).join(',')}]`;
  const entries = Object.entries(value as { readonly [key: string]: PyJsonValue });
  return `{${entries.map(([k, v]) => `${pyString(k)}:${pyJsonDumps(v)}`).join(',')}}`;
}
