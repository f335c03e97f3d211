import express from 'express';
import request from 'supertest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import {
  authenticate,
  loadPolicy,
  checkAccess,
  checkLimit,
  requireAccess,
  PolicyError,
  type AccessTarget,
  type Principal,
  principalRole,
  createPrincipal,
} from '../../src/index.js';
import { toyScheme } from '../helpers/toy-scheme.js';

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURE = join(here, '../fixtures/policy/permissions-model.json');
const policy = loadPolicy(FIXTURE);
const raw = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;

const ds = (visibility: string, ownerId = 'owner', sharedWith?: string[] | string): AccessTarget => ({
  name: 'dataset',
  ownerId,
  visibility,
  ...(sharedWith === undefined ? {} : { sharedWith }),
});

describe('checkAccess (table)', () => {
  it.each<[string, string | undefined, string, string, AccessTarget, boolean, string]>([
    // who, userId, role, action, target, allowed, reason
    ['owner views own private', 'owner', 'authenticated', 'view', ds('private'), true, 'allowed'],
    ['owner changes owner (not in owned set)', 'owner', 'authenticated', 'change_owner', ds('private'), false, 'action_not_permitted'],
    ['other views private (observed upstream: denied)', 'u1', 'authenticated', 'view', ds('private'), false, 'action_not_permitted'],
    ['other views public', 'u1', 'authenticated', 'view', ds('public'), true, 'allowed'],
    ['other edits public', 'u1', 'authenticated', 'edit', ds('public'), false, 'action_not_permitted'],
    ['other lists unlisted', 'u1', 'authenticated', 'list', ds('unlisted'), false, 'action_not_permitted'],
    ['other views unlisted', 'u1', 'authenticated', 'view', ds('unlisted'), true, 'allowed'],
    ['shared with u1 edits', 'u1', 'authenticated', 'edit', ds('shared', 'owner', ['u1']), true, 'allowed'],
    ['shared with others: gate fails', 'u1', 'authenticated', 'edit', ds('shared', 'owner', ['u2']), false, 'visibility'],
    ['shared CSV with 2 = everyone', '17', 'authenticated', 'view', ds('shared', '5', '3,2'), true, 'allowed'],
    ['shared CSV with id', '17', 'authenticated', 'view', ds('shared', '5', '3, 17'), true, 'allowed'],
    ['shared "none" → owner only', '17', 'authenticated', 'view', ds('shared', '5', 'none'), false, 'visibility'],
    ['shared unparsable CSV → fail', '17', 'authenticated', 'view', ds('shared', '5', 'a,b'), false, 'visibility'],
    ['shared owner passes', '5', 'authenticated', 'delete', ds('shared', '5', ''), true, 'allowed'],
    ['staff views other private', 's', 'staff', 'view', ds('private'), true, 'allowed'],
    ['staff edits other private', 's', 'staff', 'edit', ds('private'), false, 'action_not_permitted'],
    ['superuser changes owner of private', 'su', 'superuser', 'change_owner', ds('private'), true, 'allowed'],
    ['locked owner cannot view own', 'owner', 'locked', 'view', ds('public'), false, 'action_not_permitted'],
    ['anonymous views public', undefined, 'anonymous', 'view', ds('public'), true, 'allowed'],
    ['anonymous views private', undefined, 'anonymous', 'view', ds('private'), false, 'action_not_permitted'],
    [
      'anonymous on apikey (invalid role)',
      undefined,
      'anonymous',
      'view',
      { name: 'apikey', visibility: 'private' },
      false,
      'action_not_permitted',
    ],
    [
      'apikey edit not a valid item action',
      'owner',
      'authenticated',
      'edit',
      { name: 'apikey', ownerId: 'owner', visibility: 'private' },
      false,
      'action_not_permitted',
    ],
    [
      'apikey with invalid visibility',
      'owner',
      'authenticated',
      'view',
      { name: 'apikey', ownerId: 'owner', visibility: 'public' },
      false,
      'action_not_permitted',
    ],
    ['owner but role cannot own', 'owner', 'anonymous', 'view', ds('public'), false, 'action_not_permitted'],
    [
      'unknown item',
      'owner',
      'authenticated',
      'view',
      { name: 'nope', ownerId: 'owner', visibility: 'public' },
      false,
      'action_not_permitted',
    ],
    ['unknown role', 'owner', 'wizard', 'view', ds('public'), false, 'action_not_permitted'],
    ['unknown visibility', 'su', 'superuser', 'view', ds('secret'), false, 'action_not_permitted'],
  ])('%s', (_name, userId, role, action, target, allowed, reason) => {
    expect(checkAccess(policy, { userId, role, action, target })).toEqual({ allowed, reason });
  });
});

describe('checkLimit (table)', () => {
  it.each<[string, string, number | string, boolean]>([
    ['authenticated', 'max_requests', 499999, true],
    ['authenticated', 'max_requests', 500000, false],
    ['authenticated', 'max_requests', '12', true],
    ['authenticated', 'max_requests', 'abc', false],
    ['authenticated', 'max_requests', '', false],
    ['authenticated', 'min_age', 14, true],
    ['authenticated', 'min_age', 13, false],
    ['authenticated', 'min_age', 13.9, false],
    ['authenticated', 'max_ratio', 0.49, true],
    ['authenticated', 'max_ratio', 0.5, false],
    ['authenticated', 'no_such_limit', 1e12, true],
    ['locked', 'max_requests', 0, false],
    ['nobody', 'max_requests', 1, false], // a role missing from the policy fails, as in authnzerver (KeyError)
  ])('%s %s %s → %s', (role, name, value, expected) => {
    expect(checkLimit(policy, role, name, value)).toBe(expected);
  });
});

/** A policy document under test: any shape, mutated freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type PolicyDraft = Record<string, any>;

describe('loadPolicy validation', () => {
  const broken = (mutate: (d: PolicyDraft) => void): Record<string, unknown> => {
    const d = JSON.parse(JSON.stringify(raw)) as PolicyDraft;
    mutate(d);
    return d;
  };
  it.each<[string, (d: PolicyDraft) => void, string]>([
    [
      'roles missing',
      (d) => {
        delete d['roles'];
      },
      'roles',
    ],
    [
      'unknown action in item policy',
      (d) => {
        d['item_policy'].dataset.valid_role_actions.push('fly');
      },
      'item_policy.dataset.valid_role_actions[7]',
    ],
    [
      'unknown item key',
      (d) => {
        d['item_policy'].widget = d['item_policy'].dataset;
      },
      'item_policy.widget',
    ],
    [
      'unknown role key',
      (d) => {
        d['role_policy'].wizard = d['role_policy'].staff;
      },
      'role_policy.wizard',
    ],
    [
      'unknown limit kind',
      (d) => {
        d['role_policy'].staff.limits.max_requests.type = 'maximum';
      },
      'role_policy.staff.limits.max_requests.type',
    ],
    [
      'non-numeric limit',
      (d) => {
        d['role_policy'].staff.limits.max_requests.limit = '10';
      },
      'role_policy.staff.limits.max_requests.limit',
    ],
    [
      'bad operator',
      (d) => {
        d['limits'].max.operator = 'le';
      },
      'limits.max.operator',
    ],
    [
      'unknown visibility for other',
      (d) => {
        d['role_policy'].authenticated.allowed_actions_for_other.secret = [];
      },
      'role_policy.authenticated.allowed_actions_for_other.secret',
    ],
    [
      'non-string owned item',
      (d) => {
        d['role_policy'].staff.can_own_items[1] = 3;
      },
      'role_policy.staff.can_own_items[1]',
    ],
  ])('%s → names %s', (_n, mutate, path) => {
    let caught: unknown;
    try {
      loadPolicy(broken(mutate));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PolicyError);
    expect((caught as PolicyError).path).toBe(path);
    expect((caught as PolicyError).message.startsWith(`${path}: `)).toBe(true);
  });

  it('names the line of a JSON syntax error', () => {
    const text = '{\n  "roles": ["a"],\n  "items": [,]\n}';
    expect(() => loadPolicy(text)).toThrow(/line 3/);
  });

  it('returns a frozen document', () => {
    expect(Object.isFrozen(policy.role_policy['staff']?.can_own_items)).toBe(true);
  });
});

describe('requireAccess guard', () => {
  const datasets: Record<string, AccessTarget> = {
    a: { name: 'dataset', ownerId: 'alice', visibility: 'private' },
    p: { name: 'dataset', ownerId: 'alice', visibility: 'public' },
  };
  // The toy scheme cannot carry details; map its first scope to the role.
  const roleOf = (p: Principal) => p.scopes[0] ?? 'authenticated';
  const app = express();
  const auth = authenticate([toyScheme()]);
  app.get(
    '/datasets/:id',
    auth,
    requireAccess(
      'view',
      (req) => {
        const t = datasets[(req as unknown as { params: { id: string } }).params.id];
        if (!t) throw new Error('no such dataset');
        return t;
      },
      { policy, roleOf },
    ),
    (_q, r) => {
      r.send('ok');
    },
  );
  app.delete(
    '/datasets/:id',
    auth,
    requireAccess('delete', (req) => datasets[(req as unknown as { params: { id: string } }).params.id] as AccessTarget, {
      policy,
      roleOf,
    }),
    (_q, r) => {
      r.send('deleted');
    },
  );

  it.each<[string, string, string | undefined, number]>([
    ['get', '/datasets/a', 'alice', 200],
    ['get', '/datasets/a', 'bob', 403],
    ['get', '/datasets/a', 'bob:staff', 200],
    ['get', '/datasets/p', 'bob', 200],
    ['delete', '/datasets/p', 'bob', 403],
    ['delete', '/datasets/p', 'bob:superuser', 200],
    ['get', '/datasets/missing', 'alice', 403],
    ['get', '/datasets/a', undefined, 401],
  ])('%s %s as %s → %d', async (method, path, who, status) => {
    const r = method === 'get' ? request(app).get(path) : request(app).delete(path);
    const res = who === undefined ? await r : await r.set('Authorization', `Toy ${who}`);
    expect(res.status).toBe(status);
    if (status === 403) expect(res.body.code).toBe('forbidden');
  });

  it('maps roles from details.role, a role: scope, or the default', () => {
    expect(principalRole(createPrincipal({ subject: 'a', kind: 'user', scheme: 'x', details: { role: 'staff' } }))).toBe('staff');
    expect(principalRole(createPrincipal({ subject: 'a', kind: 'user', scheme: 'x', scopes: ['read', 'role:superuser'] }))).toBe(
      'superuser',
    );
    expect(principalRole(createPrincipal({ subject: 'a', kind: 'user', scheme: 'x' }), 'anonymous')).toBe('anonymous');
  });

  it('rejects unknown actions and items at construction', () => {
    expect(() => requireAccess('fly', { name: 'dataset', visibility: 'public' }, { policy })).toThrow(/fly/);
    expect(() => requireAccess('view', { name: 'widget', visibility: 'public' }, { policy })).toThrow(/widget/);
  });
});
