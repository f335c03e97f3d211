/** Both Redis Cluster clients (ioredis `Cluster`, node-redis `createCluster`) on a test cluster. */
import { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import type { RedisClientLike } from '../../src/redis.js';

/** Which client library. */
export type ClientKind = 'ioredis' | 'node-redis';

/** A connected cluster client and how to close it. */
export interface ClusterClient {
  readonly kind: ClientKind;
  readonly client: RedisClientLike;
  close(): Promise<void>;
}

/** Connects a cluster client of `kind` to the nodes on `ports` (errors are reported by commands). */
export async function clusterClient(kind: ClientKind, ports: readonly number[]): Promise<ClusterClient> {
  if (kind === 'ioredis') {
    const client = new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })));
    client.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('end', () => reject(new Error('ioredis cluster ended before ready')));
    });
    return { kind, client, close: async () => client.disconnect() };
  }
  const client = createCluster({ rootNodes: ports.map((port) => ({ url: `redis://127.0.0.1:${port}` })) });
  client.on('error', () => undefined);
  await client.connect();
  return { kind, client, close: async () => client.destroy() };
}

/** Both kinds, for `describe.each`. */
export const CLIENT_KINDS: readonly ClientKind[] = ['ioredis', 'node-redis'];
