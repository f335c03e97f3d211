/**
 * Deadlines under a busy event loop: an answer that arrived before its deadline is not turned into a
 * 503 because the loop was too busy to read it before the deadline's timer ran (timers run before
 * the loop reads sockets). This is what made one slow turn of a loaded process a burst of 503s.
 */
import { Redis } from 'ioredis';
import { redisCommand, redisReady } from '../../src/redis.js';
import { redisUrl } from '../helpers/services.js';

function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // The process is busy with other requests: no I/O is read meanwhile.
  }
}

describe('deadline after a blocked event loop', () => {
  it('a Redis reply that arrived in time is delivered, not a 503, when the loop was blocked past the deadline', async () => {
    const client = new Redis(redisUrl());
    try {
      await redisReady(client);
      const send = redisCommand(client, { timeoutMs: 50 });
      const outcomes: unknown[] = [];
      for (let i = 0; i < 5; i++) {
        const reply = send(['PING']);
        busy(300); // Redis answers within a millisecond; the reply waits in the socket
        outcomes.push(await reply.catch((e: { reason?: string }) => e.reason));
      }
      expect(outcomes).toEqual(['PONG', 'PONG', 'PONG', 'PONG', 'PONG']);
    } finally {
      client.disconnect();
    }
  });

  it('a reply that really is late is still a 503 within the deadline', async () => {
    const client = new Redis(redisUrl());
    try {
      await redisReady(client);
      const send = redisCommand(client, { timeoutMs: 100 });
      const started = Date.now();
      // DEBUG SLEEP would block the shared Redis for everyone; a blocking pop on an empty, unique key does not.
      await expect(send(['BLPOP', `test:deadline:${started}:${Math.random()}`, '1'])).rejects.toMatchObject({
        status: 503,
        reason: 'redis_timeout',
      });
      expect(Date.now() - started).toBeLessThan(900);
    } finally {
      client.disconnect();
    }
  });
});
