/**
 * One app instance for the multi-process cluster tests, run as a child (`node --import tsx`):
 * asymmetric JWT with a RedisReplayStore on `/whoami`, and a Redis rate limit on `/limited`, both on
 * the Redis Cluster named by CLUSTER_PORTS with the client named by CLIENT. Prints `LISTENING <port>`.
 */
import express from 'express';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { authenticate } from '../../src/index.js';
import { RedisReplayStore, redisRateLimit } from '../../src/redis.js';
import { asymmetricJwtScheme } from '../../src/schemes/asymmetric-jwt/scheme.js';
import { toyScheme } from '../helpers/toy-scheme.js';
import { clusterClient, type ClientKind } from './clients.js';

const ports = (process.env['CLUSTER_PORTS'] ?? '').split(',').map(Number);
const prefix = process.env['KEY_PREFIX'] ?? 'test:cluster:';
const points = Number(process.env['RATE_POINTS'] ?? '10');
const { client } = await clusterClient(process.env['CLIENT'] as ClientKind, ports);
const publicKey = readFileSync(new URL('../fixtures/asymmetric-jwt/keys/ed25519_public.pem', import.meta.url), 'utf8');

const app = express();
// Happy-path deadlines and window are generous: this app shows replay refusal across processes, and a
// loaded machine must not turn a slow answer into a 503 or a late request into an expired token
// (deadlines and the window have their own tests).
const nonces = new RedisReplayStore(client, { keyPrefix: `${prefix}nonce:`, timeoutMs: 10_000 });
app.get(
  '/whoami',
  authenticate([
    asymmetricJwtScheme({ users: { 'svc-client': { publicKeys: [publicKey] } }, replayStore: nonces, maxTokenAgeSeconds: 300 }),
  ]),
  (req, res) => {
    res.json({ subject: req.principal?.subject, pid: process.pid });
  },
);
app.get(
  '/limited',
  authenticate([toyScheme()]),
  redisRateLimit(client, { name: 'limited', limit: points, windowSeconds: 60, keyPrefix: `${prefix}rl:`, timeoutMs: 10_000 }),
  (_req, res) => {
    res.json({ pid: process.pid });
  },
);
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
