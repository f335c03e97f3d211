/**
 * The verifier's reading of APIJwt extras: api_jwt's typed conversion (`split(',')`, `float()`,
 * `int()`), and the model's allowed values, which api_jwt checks only when issuing.
 */
import { allowedFor, pyEquals, type ApiJwtModel } from './config.js';

/** Why the extras of a token were refused. */
export type ExtrasFailure = 'claim_invalid' | 'value_not_allowed';

// Python float(): decimal or scientific text, optional sign and surrounding whitespace, inf/nan.
const PY_FLOAT = /^\s*[+-]?(?:(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?|\d(?:_?\d)*\.|inf(?:inity)?|nan)\s*$/i;
const PY_INT = /^\s*[+-]?\d(?:_?\d)*\s*$/;

/** Python `float()` of a JSON value; undefined where Python raises. */
export function toFloat(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'string' || !PY_FLOAT.test(value)) return undefined;
  const text = value.trim().replace(/_/g, '').toLowerCase();
  if (text.endsWith('inf') || text.endsWith('infinity')) return text.startsWith('-') ? -Infinity : Infinity;
  if (text.endsWith('nan')) return NaN;
  return Number(text);
}

function toInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'string' || !PY_INT.test(value)) return undefined;
  const n = Number(value.trim().replace(/_/g, ''));
  return Number.isSafeInteger(n) ? n : undefined;
}

// Python truthiness of a JSON value.
function truthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

function isAllowed(list: ReturnType<typeof allowedFor>, allowedDict: unknown, converted: unknown): boolean {
  if (list === undefined) return true;
  if (list === 'no_key') return false;
  if (list === 'keys') return typeof converted === 'string' && Object.prototype.hasOwnProperty.call(allowedDict, converted);
  const values: readonly unknown[] = Array.isArray(converted) ? converted : [converted];
  return values.every((v) => list.some((a) => pyEquals(a, v)));
}

/**
 * Converts every registered extra whose payload value is truthy, as api_jwt's `decode()` does.
 * With `checkAllowed`, each value must also be one the model allows for the token's key name (a
 * `PER_KEY` restriction with an unknown issuer allows nothing), and list extras must arrive in the
 * form api_jwt writes, a comma-joined string (Python's decode cannot read a JSON array).
 */
export function readExtras(
  model: ApiJwtModel,
  payload: Readonly<Record<string, unknown>>,
  keyName: string | undefined,
  checkAllowed: boolean,
): Record<string, unknown> | ExtrasFailure {
  const typed: Record<string, unknown> = {};
  for (const [name, spec] of model.extras) {
    const value = payload[name];
    if (!truthy(value)) continue;
    let converted: unknown;
    switch (spec.type) {
      case 'list':
        converted = typeof value === 'string' ? value.split(',') : Array.isArray(value) && !checkAllowed ? value.map(String) : undefined;
        break;
      case 'float':
        converted = toFloat(value);
        break;
      case 'int':
        converted = toInt(value);
        break;
      default:
        converted = value;
    }
    if (converted === undefined) return 'claim_invalid';
    if (checkAllowed) {
      const allowed = model.allowed[name];
      if (!isAllowed(allowedFor(allowed, keyName), allowed, converted)) return 'value_not_allowed';
    }
    typed[name] = converted;
  }
  return typed;
}
