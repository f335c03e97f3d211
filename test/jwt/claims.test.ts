/**
 * The one checker of JWT time claims (exp, nbf, iat) and the policies the verifiers give it: which
 * claims are required, whole seconds, tolerance, maximum age and lifetime, and the order of checks.
 */
import {
  checkTimeClaims,
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  isNumericDate,
  maxTokenLifetimeOption,
  type TimeClaimPolicy,
} from '../../src/jwt/claims.js';

const NOW = 1_800_000_000;
/** checkTimeClaims at NOW with no tolerance, plus `policy`. */
const at = (claims: Record<string, unknown>, policy: Partial<TimeClaimPolicy> = {}) =>
  checkTimeClaims(claims, NOW, { clockToleranceSeconds: 0, ...policy });

describe('checkTimeClaims: the lifetime bound from iat (every JWT scheme reads exp through it)', () => {
  it('refuses exp - iat beyond the bound even when exp is near, with no tolerance on that bound; without iat only exp - now counts', () => {
    const now = 1_800_000_000;
    const check = (exp: number, tolerance: number, iat?: number) =>
      checkTimeClaims(iat === undefined ? { exp } : { exp, iat }, now, { clockToleranceSeconds: tolerance, maxTokenLifetimeSeconds: 60 });
    expect(check(now + 10, 0, now - 51)).toBe('lifetime_too_long');
    expect(check(now + 10, 30, now - 51)).toBe('lifetime_too_long');
    expect(check(now + 10, 0, now - 50)).toBeUndefined();
    expect(check(now + 10, 0)).toBeUndefined();
    expect(check(now + 61, 0)).toBe('lifetime_too_long');
  });
});

describe('exp', () => {
  it('is refused at and after the instant it names (RFC 7519 §4.1.4), within the tolerance too', () => {
    expect(at({ exp: NOW + 1 })).toBeUndefined();
    expect(at({ exp: NOW })).toBe('expired');
    expect(at({ exp: NOW - 1 })).toBe('expired');
    expect(checkTimeClaims({ exp: NOW - 30 }, NOW, { clockToleranceSeconds: 30 })).toBe('expired');
    expect(checkTimeClaims({ exp: NOW - 29 }, NOW, { clockToleranceSeconds: 30 })).toBeUndefined();
    expect(checkTimeClaims({ exp: NOW }, NOW - 0.5, { clockToleranceSeconds: 0 })).toBeUndefined();
  });

  it("required, optional or ignored; the reason for a missing one is the policy's", () => {
    expect(at({})).toBe('claim_missing');
    expect(at({}, { missingExp: 'claim_invalid' })).toBe('claim_invalid');
    expect(at({}, { exp: 'optional' })).toBeUndefined();
    expect(at({ exp: NOW - 1 }, { exp: 'optional' })).toBe('expired');
    expect(at({ exp: NOW - 1 }, { exp: 'ignored' })).toBeUndefined();
  });

  it('must be a finite number, and whole unless wholeExp is false', () => {
    for (const exp of ['1900000000', null, Number.POSITIVE_INFINITY, Number.NaN, true]) expect(at({ exp })).toBe('claim_invalid');
    expect(at({ exp: NOW + 10.5 })).toBe('claim_invalid');
    expect(at({ exp: NOW + 10.5 }, { wholeExp: false })).toBeUndefined();
  });
});

describe('nbf', () => {
  it('is refused while in the future beyond the tolerance, and when not a number', () => {
    expect(at({ exp: NOW + 60, nbf: NOW })).toBeUndefined();
    expect(at({ exp: NOW + 60, nbf: NOW + 1 })).toBe('not_yet_valid');
    expect(checkTimeClaims({ exp: NOW + 60, nbf: NOW + 30 }, NOW, { clockToleranceSeconds: 30 })).toBeUndefined();
    expect(at({ exp: NOW + 60, nbf: 'soon' })).toBe('claim_invalid');
  });
});

describe('iat', () => {
  it("in the future beyond the tolerance is refused, with the policy's reason", () => {
    expect(at({ exp: NOW + 60, iat: NOW })).toBeUndefined();
    expect(at({ exp: NOW + 60, iat: NOW + 1 })).toBe('issued_in_future');
    expect(at({ exp: NOW + 60, iat: NOW + 1 }, { futureIat: 'not_yet_valid' })).toBe('not_yet_valid');
    expect(checkTimeClaims({ exp: NOW + 60, iat: NOW + 5 }, NOW, { clockToleranceSeconds: 5 })).toBeUndefined();
  });

  it('is required with requireIat or a maximum age, whole with wholeIat', () => {
    expect(at({ exp: NOW + 60 })).toBeUndefined();
    expect(at({ exp: NOW + 60 }, { requireIat: true })).toBe('claim_missing');
    expect(at({ exp: NOW + 60 }, { maxTokenAgeSeconds: 300 })).toBe('claim_missing');
    expect(at({ exp: NOW + 60, iat: NOW - 0.5 })).toBeUndefined();
    expect(at({ exp: NOW + 60, iat: NOW - 0.5 }, { wholeIat: true })).toBe('claim_invalid');
    expect(at({ exp: NOW + 60, iat: '0' })).toBe('claim_invalid');
  });

  it('older than the maximum age is too_old; the tolerance extends the age unless strictAge', () => {
    const policy = { clockToleranceSeconds: 10, maxTokenAgeSeconds: 60 };
    expect(checkTimeClaims({ exp: NOW + 60, iat: NOW - 70 }, NOW, policy)).toBeUndefined();
    expect(checkTimeClaims({ exp: NOW + 60, iat: NOW - 71 }, NOW, policy)).toBe('too_old');
    expect(checkTimeClaims({ exp: NOW + 60, iat: NOW - 60 }, NOW, { ...policy, strictAge: true })).toBeUndefined();
    expect(checkTimeClaims({ exp: NOW + 60, iat: NOW - 61 }, NOW, { ...policy, strictAge: true })).toBe('too_old');
  });
});

describe('order of the checks', () => {
  it("exp-first reports exp before iat; iat-first (PyJWT's) reports iat, then nbf, then exp", () => {
    const claims = { exp: NOW - 1, nbf: NOW + 100, iat: NOW + 100 };
    expect(at(claims)).toBe('expired');
    expect(at(claims, { order: 'iat-first' })).toBe('issued_in_future');
    expect(at({ exp: NOW - 1, nbf: NOW + 100 }, { order: 'iat-first' })).toBe('not_yet_valid');
    expect(at({ exp: NOW - 1, nbf: NOW + 100 })).toBe('expired');
  });
});

describe('isNumericDate', () => {
  it('accepts finite numbers only', () => {
    expect([0, -1, 1.5, NOW].every(isNumericDate)).toBe(true);
    expect([Number.NaN, Number.POSITIVE_INFINITY, '1', null, undefined, 1n].some(isNumericDate)).toBe(false);
  });
});

describe('maxTokenLifetimeOption', () => {
  it('defaults to a day, takes an integer > 0, and refuses anything else naming the option', () => {
    expect(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS).toBe(86_400);
    expect(maxTokenLifetimeOption(undefined, 'v()')).toBe(86_400);
    expect(maxTokenLifetimeOption(3600, 'v()')).toBe(3600);
    for (const bad of [0, -1, 1.5, Number.NaN, '3600'])
      expect(() => maxTokenLifetimeOption(bad, 'v()')).toThrow(/^v\(\): "maxTokenLifetimeSeconds" must be an integer > 0/);
  });
});
