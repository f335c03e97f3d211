/**
 * API key routes: a rate-limited report route and a policy-guarded dataset route, on memory stores.
 * A development key and pepper are made on first start (`<devDir>/apikey-dev.json`, mode 0600) and
 * seeded into the store on a start that does not have it (memory: every start), so the printed curl
 * lines keep working; a key already in a shared store is left as it is, revoked or not.
 * Printing the key is for this development banner only; the library never logs keys.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Express } from 'express';
import {
  ApiKeyManager,
  apiKeyScheme,
  authenticate,
  bruteForce,
  hashApiKey,
  loadPolicy,
  parseApiKey,
  rateLimit,
  requireAccess,
  type AccessTarget,
  type ApiKeyStore,
} from '../../../src/index.js';
import type { RouteModule } from '../context.js';
import { storesOf } from '../stores.js';

const OWNER = 'dev-service';

/** A small policy in authnzerver's schema. */
const POLICY = loadPolicy({
  roles: ['superuser', 'staff', 'authenticated', 'anonymous', 'locked'],
  items: ['dataset'],
  actions: ['list', 'view', 'create', 'delete', 'edit'],
  visibilities: ['public', 'unlisted', 'private', 'shared'],
  limits: {},
  item_policy: {
    dataset: {
      valid_role_actions: ['list', 'view', 'create', 'delete', 'edit'],
      valid_visibilities: ['public', 'unlisted', 'private', 'shared'],
      invalid_roles: ['locked'],
    },
  },
  role_policy: {
    authenticated: {
      can_own_items: ['dataset'],
      allowed_actions_for_owned: ['list', 'view', 'create', 'delete', 'edit'],
      allowed_actions_for_other: { public: ['list', 'view'], unlisted: ['view'], shared: ['view'], private: [] },
    },
  },
});

const DATASETS: Record<string, AccessTarget> = {
  mine: { name: 'dataset', ownerId: OWNER, visibility: 'private' },
  theirs: { name: 'dataset', ownerId: 'someone-else', visibility: 'private' },
  open: { name: 'dataset', ownerId: 'someone-else', visibility: 'public' },
};

/** Loads or makes the development key; seeds the store with its record. */
async function devKey(devDir: string, store: ApiKeyStore): Promise<{ manager: ApiKeyManager; key: string }> {
  const file = join(devDir, 'apikey-dev.json');
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { pepper: string; key: string; createdAt: number };
    const pepper = Buffer.from(saved.pepper, 'base64url');
    const parsed = parseApiKey(saved.key);
    if (parsed) {
      // Seeded only when absent: a shared store (PostgreSQL) already has it, maybe revoked, and a
      // restart or another instance must not write it back as valid.
      if ((await store.get(parsed.id)) === undefined) {
        await store.save({
          id: parsed.id,
          prefix: parsed.prefix,
          hash: hashApiKey(pepper, parsed),
          owner: OWNER,
          kind: 'service',
          scopes: ['reports:read'],
          level: 1,
          role: 'authenticated',
          name: 'example dev key',
          createdAt: saved.createdAt,
        });
      }
      return { manager: new ApiKeyManager({ store, pepper }), key: saved.key };
    }
  }
  const pepper = randomBytes(32);
  const manager = new ApiKeyManager({ store, pepper });
  const { key, record } = await manager.issue({
    owner: OWNER,
    scopes: ['reports:read'],
    level: 1,
    role: 'authenticated',
    name: 'example dev key',
  });
  writeFileSync(file, JSON.stringify({ pepper: pepper.toString('base64url'), key, createdAt: record.createdAt }) + '\n', { mode: 0o600 });
  return { manager, key };
}

export const mountApiKey: RouteModule = async (app: Express, ctx) => {
  const { manager, key } = await devKey(ctx.devDir, storesOf(ctx).apiKeyStore);
  const guard = bruteForce({ maxFailures: 10, lockSeconds: 300, factory: storesOf(ctx).limiterFactory, logger: ctx.logger });
  const keyIdHint = (req: { headers: Record<string, unknown> }): string | undefined => {
    const header = req.headers['x-api-key'];
    return typeof header === 'string' ? parseApiKey(header)?.id : undefined;
  };
  const auth = authenticate([guard.protect(apiKeyScheme({ manager }), keyIdHint)], { realm: 'example', logger: ctx.logger });

  app.get(
    '/apikey/reports',
    auth,
    rateLimit({ name: 'reports', limit: 5, windowSeconds: 60, factory: storesOf(ctx).limiterFactory, logger: ctx.logger }),
    (req, res) => {
      res.json({ principal: req.principal, reports: ['q1', 'q2'] });
    },
  );
  app.get(
    '/apikey/datasets/:id',
    auth,
    requireAccess(
      'view',
      (req) => DATASETS[String((req as unknown as { params: { id?: string } }).params.id)] ?? { name: 'dataset', visibility: 'private' },
      { policy: POLICY },
    ),
    (req, res) => {
      res.json({ dataset: req.params.id, viewer: req.principal?.subject });
    },
  );

  const u = ctx.baseUrl;
  return [
    `curl -i ${u}/apikey/reports -H 'X-API-Key: ${key}'                # 200 with RateLimit-* headers; the 6th call within a minute gets 429`,
    `curl -i ${u}/apikey/reports -H 'Authorization: ApiKey ${key}'     # 200`,
    `curl -i ${u}/apikey/datasets/mine -H 'X-API-Key: ${key}'          # 200 (owner)`,
    `curl -i ${u}/apikey/datasets/theirs -H 'X-API-Key: ${key}'        # 403 forbidden (private, not the owner)`,
    `curl -i ${u}/apikey/datasets/open -H 'X-API-Key: ${key}'          # 200 (public)`,
    `curl -i ${u}/apikey/reports -H 'X-API-Key: ak_0123456789abcdef.${'A'.repeat(43)}'  # 401; repeated failures are slowed, then 429 locked_out`,
  ];
};
