/**
 * The policy port decides as authnzerver's permissions.py does where inputs are text: numbers are
 * read as CPython's `int()` / `float()` read them, a role missing from the policy fails the limit
 * check (Python raises KeyError), and the shared-with CSV is parsed with `int()` per item.
 * Expected values come from running CPython 3 on each input (see docs/policy.md).
 */
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { checkAccess, checkLimit, loadPolicy, validatePolicy, type AccessTarget } from '../../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const policy = loadPolicy(join(here, '../fixtures/policy/permissions-model.json'));

describe('checkLimit reads text as Python int() does (authenticated: max_requests < 500000, int)', () => {
  it.each<[string, boolean]>([
    // int() refuses these: the check fails.
    ['599.5', false],
    ['1e2', false],
    ['0x10', false],
    ['0b1', false],
    ['0o7', false],
    ['_4', false],
    ['4_', false],
    ['4__0', false],
    ['12a', false],
    ['1 2', false],
    ['+-1', false],
    ['', false],
    ['  ', false],
    ['nan', false],
    ['inf', false],
    // int() reads these.
    ['04', true],
    ['+4', true],
    [' 4 ', true],
    ['4\n', true],
    ['\t-0 ', true],
    ['4_0', true],
    ['0004', true],
    ['-3', true],
    ['\u0664', true], // ARABIC-INDIC DIGIT FOUR: int() reads it as 4
    ['\uff11\uff12', true], // FULLWIDTH 12
    ['499999', true],
    ['500000', false],
    ['9999999999999999999999999', false], // Python ints are unbounded: far above the limit
  ])('%j → %s', (value, expected) => {
    expect(checkLimit(policy, 'authenticated', 'max_requests', value)).toBe(expected);
  });

  it('numbers are truncated as int(float) does; NaN and infinities fail', () => {
    expect(checkLimit(policy, 'authenticated', 'min_age', 13.9)).toBe(false); // int(13.9) = 13, not > 13
    expect(checkLimit(policy, 'authenticated', 'min_age', 14.1)).toBe(true);
    expect(checkLimit(policy, 'authenticated', 'max_requests', Number.NaN)).toBe(false);
    expect(checkLimit(policy, 'authenticated', 'max_requests', Number.NEGATIVE_INFINITY)).toBe(false);
  });
});

describe('checkLimit reads text as Python float() does (authenticated: max_ratio < 0.5, float)', () => {
  it.each<[string, boolean]>([
    ['.4', true],
    ['1.', false],
    ['4e-1', true],
    ['1_0e-2', true],
    ['-inf', true],
    ['-Infinity', true],
    ['Infinity', false],
    ['nan', false], // nan < 0.5 is False in Python
    ['0x0', false], // float() has no hex literals
    ['_1', false],
    ['1e', false],
    ['.', false],
  ])('%j → %s', (value, expected) => {
    expect(checkLimit(policy, 'authenticated', 'max_ratio', value)).toBe(expected);
  });
});

describe('checkLimit: roles and limits the policy does not have', () => {
  it('a role missing from the policy fails the check (authnzerver raises KeyError and denies)', () => {
    expect(checkLimit(policy, 'nobody', 'max_requests', 1)).toBe(false);
    expect(checkLimit(policy, '__proto__', 'max_requests', 1)).toBe(false);
  });

  it('a role without a limits member fails too; a role with limits but not this one passes', () => {
    const doc = validatePolicy({
      roles: ['a', 'b'], items: ['x'], actions: ['view'], visibilities: ['public'], limits: { max: { type: 'int', operator: 'lt' } },
      item_policy: { x: { valid_role_actions: ['view'], valid_visibilities: ['public'] } },
      role_policy: { a: { can_own_items: [] }, b: { limits: {}, can_own_items: [] } },
    });
    expect(checkLimit(doc, 'a', 'max_requests', 1)).toBe(false);
    expect(checkLimit(doc, 'b', 'max_requests', 1)).toBe(true);
  });
});

describe('shared-with CSV parsed with int() per item', () => {
  const shared = (sharedWith: string): AccessTarget => ({ name: 'dataset', ownerId: '5', visibility: 'shared', sharedWith });
  const view = (userId: string, sharedWith: string) => checkAccess(policy, { userId, role: 'authenticated', action: 'view', target: shared(sharedWith) });
  it.each<[string, string, boolean]>([
    ['4', '04', true],
    ['4', '+4', true],
    ['4', ' 4 ', true],
    ['4', '3, 4', true],
    ['40', '4_0', true],
    ['4', '4,', false], // int('') raises: the gate fails
    ['4', ' ', false],
    ['4', ' none', false],
    ['4', '0x4', false],
    ['4', 'None', false], // "none" in any case: owner only
    ['5', 'NONE', true], // … and the owner passes
    ['17', '02', true], // 2 (anonymous) in the list: everyone
  ])('user %s, sharedWith %j → %s', (userId, csv, allowed) => {
    expect(view(userId, csv).allowed).toBe(allowed);
  });
});
