/**
 * Clients for the store suites: one ioredis and one node-redis client on the test Redis, and an
 * ioredis client that can never connect (the outage case), so each suite states only its cases.
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { redisReady } from '../../src/redis.js';
import { redisUrl } from './services.js';

/** A node-redis client as `createClient()` makes it. */
export type NodeRedisClient = ReturnType<typeof createClient>;

/**
 * Registers, in the calling `describe`, an ioredis and a node-redis client that are ready before the
 * first test (a client still connecting spends the stores' short deadlines) and closed after the
 * last; every key under `prefix` is deleted then.
 */
export function bothRedisClients(prefix: string): { io: Redis; node: NodeRedisClient } {
  const url = redisUrl();
  const io = new Redis(url, { maxRetriesPerRequest: 1 });
  const node = createClient({ url });
  beforeAll(async () => {
    await node.connect();
    await Promise.all([redisReady(io), redisReady(node)]);
  });
  afterAll(async () => {
    const keys = await io.keys(`${prefix}*`);
    if (keys.length > 0) await io.del(...keys);
    io.disconnect();
    await node.close();
  });
  return { io, node };
}

/** An ioredis client on a port nothing listens on, which fails every command at once; disconnect it after use. */
export function unreachableRedis(): Redis {
  const down = new Redis('redis://127.0.0.1:1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  down.on('error', () => undefined);
  return down;
}
