// The same package seen from CommonJS (require condition, dist/*.d.cts).
import express = require('express');
import authnz = require('authnz-express');
import redis = require('authnz-express/redis');

const app = express();
app.get('/me', authnz.authenticate([authnz.apiJwtScheme({ publicKeys: [''] })]), (req, res) => {
  res.json({ subject: req.principal?.subject });
});
declare const client: redis.RedisClientLike;
export const store: authnz.ReplayStore = new redis.RedisReplayStore(client);
export const failed: boolean = authnz.isAuthError(new authnz.AuthError('token_invalid'));
export { app };
