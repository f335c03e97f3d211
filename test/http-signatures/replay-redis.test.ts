/**
 * Signature nonces across two app instances sharing one real Redis (RedisReplayStore, with ioredis
 * and node-redis): a signed request accepted by one instance is refused by the other; nonces are
 * scoped by keyid, so two keys may use the same nonce.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { RedisReplayStore } from '../../src/redis.js';
import { bothRedisClients } from '../helpers/redis-clients.js';
import { p256, signedApp, signedHeaders } from './helpers.js';

const PREFIX = `test:httpsig:${randomUUID()}:`;

describe('httpSignatureScheme nonces on Redis (two instances)', () => {
  const { io, node } = bothRedisClients(PREFIX);

  it.each([
    ['ioredis', () => io],
    ['node-redis', () => node],
  ] as const)('%s: a nonce used on instance A is refused on instance B', async (_, client) => {
    const a = signedApp({ nonce: 'required', replayStore: new RedisReplayStore(client(), { keyPrefix: PREFIX }) });
    const b = signedApp({ nonce: 'required', replayStore: new RedisReplayStore(client(), { keyPrefix: PREFIX }) });
    const headers = signedHeaders({}, { params: { nonce: randomUUID() } });
    expect((await request(a).get('/r').set(headers)).status).toBe(200);
    const replay = await request(b).get('/r').set(headers);
    expect({ status: replay.status, reason: (replay.body as { reason?: string }).reason }).toEqual({ status: 401, reason: 'replayed' });
    // The same nonce under another keyid is another nonce.
    const nonce = /nonce="([^"]+)"/.exec(headers['signature-input'] as string)?.[1] as string;
    const other = signedHeaders({}, { params: { nonce }, key: p256.privateKey, keyId: 'p256-1' });
    expect((await request(b).get('/r').set(other)).status).toBe(200);
  });
});
