/** Shared set-up for the asymmetric JWT suites: vector files, keys, and an app per configuration. */
import express from 'express';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { authenticate } from '../../src/index.js';
import { asymmetricJwtScheme, type AsymmetricJwtSchemeOptions } from '../../src/schemes/asymmetric-jwt/scheme.js';

export const FIXTURES = join(process.cwd(), 'test/fixtures/asymmetric-jwt');

/** Reads a key file from the fixtures. */
export function keyText(name: string): string {
  return readFileSync(join(FIXTURES, 'keys', name), 'utf8');
}

/** One server case of a vector file. */
export interface VectorResult {
  verify_at: number;
  authenticated: boolean;
  user: string | null;
  exception: { type: string; message: string } | null;
}
export interface ServerCase {
  name: string;
  description: string;
  authorization?: string;
  result: VectorResult & Record<string, VectorResult>;
}
export interface VectorFile {
  fixed: { username: string; now: number; nonce?: string; client_time_time?: number; client_random_random?: number };
  keys?: Record<string, { kid_fingerprint_sha256_of_spki_pem: string; as_jwk: Record<string, unknown> }>;
  client_tokens: Record<string, { authorization?: string; token?: string; payload?: Record<string, unknown> } | boolean>;
  server_results: ServerCase[];
}

/** Loads a vector file. */
export function vectors(file: string): VectorFile {
  return JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as VectorFile;
}

/** An express app with one protected route answering the principal. */
export function appWith(options: AsymmetricJwtSchemeOptions): express.Express {
  const app = express();
  app.get('/whoami', authenticate([asymmetricJwtScheme(options)]), (req, res) => {
    res.json(req.principal);
  });
  return app;
}
