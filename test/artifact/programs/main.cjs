// Loads the package with `require` (CommonJS) and runs one scenario of scenarios.cjs; prints its JSON.
'use strict';
const lib = require('authnz-express');
const express = require('express');
const scenarios = require('./scenarios.cjs');

const [name, kind, arg] = process.argv.slice(2);
const context = { lib, express, kind, port: Number(arg), url: arg };
if (name === 'redisDown' || name === 'bruteForce') {
  context.redisEntry = require('authnz-express/redis');
  context.redisModule = require(kind);
}
if (name === 'kmsDown') {
  context.kmsEntry = require('authnz-express/kms');
  context.sdk = require('@aws-sdk/client-kms');
}
scenarios[name](context).then((result) => {
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
});
