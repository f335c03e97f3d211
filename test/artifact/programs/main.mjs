// Loads the package with `import` (ESM) and runs one scenario of scenarios.cjs; prints its JSON.
import * as lib from 'authnz-express';
import express from 'express';
import scenarios from './scenarios.cjs';

const [name, kind, arg] = process.argv.slice(2);
const context = { lib, express, kind };
if (name === 'redisDown' || name === 'bruteForce') {
  context.redisEntry = await import('authnz-express/redis');
  context.redisModule = await import(kind);
}
if (name === 'kmsDown') {
  context.kmsEntry = await import('authnz-express/kms');
  context.sdk = await import('@aws-sdk/client-kms');
}
context.port = Number(arg);
context.url = arg;
const result = await scenarios[name](context);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
