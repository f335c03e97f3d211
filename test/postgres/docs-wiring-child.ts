/**
 * An app process built on the PostgreSQL wiring of docs/deployment.md (the block `id=postgres-apikeys`,
 * loaded as written): `/reports` behind `apiKeyScheme`. Run as a child (`node --import tsx`) with
 * DATABASE_URL and AUTHNZ_APIKEY_PEPPER; prints `LISTENING <port>`.
 */
import express from 'express';
import type { AddressInfo } from 'node:net';
import { apiKeyScheme, authenticate, type ApiKeyManager } from '../../src/index.js';
import { loadSnippet } from '../docs/snippets.js';

const { apiKeys } = await loadSnippet<{ apiKeys: ApiKeyManager }>('postgres-apikeys');
const app = express();
app.get('/reports', authenticate([apiKeyScheme({ manager: apiKeys })]), (_req, res) => {
  res.json({ pid: process.pid });
});
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
