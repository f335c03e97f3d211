/** Both Redis Cluster clients (ioredis `Cluster`, node-redis `createCluster`) on a test cluster. */
import { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import type { RedisClientLike, RedisReplayStore, RedisReplayStoreOptions } from '../../src/redis.js';
import { loadSnippet } from '../docs/snippets.js';

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

/** What the docs' wiring blocks (docs/deployment.md, `cluster-ioredis` / `cluster-node-redis`) export. */
interface DocsWiring {
  clusterNonceStore(
    rootNodes: Array<{ host: string; port: number }>,
    options?: RedisReplayStoreOptions,
    onError?: (error: Error) => void,
  ): {
    redis: { disconnect?(): void; destroy?(): void };
    replayStore: RedisReplayStore;
  };
}

/** A client and nonce store built by the docs' own block for `kind`, and how to close the client. */
export interface DocsClusterClient {
  readonly kind: ClientKind;
  readonly replayStore: RedisReplayStore;
  /** Errors the client reported through the docs' `onError`. */
  readonly errors: Error[];
  close(): void;
}

/**
 * Builds the client and nonce store exactly as docs/deployment.md does, by loading its block. Nothing
 * is awaited: the client may be pointed at a cluster that is not there yet.
 */
export async function docsClusterClient(
  kind: ClientKind,
  rootNodes: Array<{ host: string; port: number }>,
  options: RedisReplayStoreOptions,
): Promise<DocsClusterClient> {
  const wiring = await loadSnippet<DocsWiring>(kind === 'ioredis' ? 'cluster-ioredis' : 'cluster-node-redis');
  const errors: Error[] = [];
  const { redis, replayStore } = wiring.clusterNonceStore(rootNodes, options, (error) => errors.push(error));
  return { kind, replayStore, errors, close: () => (kind === 'ioredis' ? redis.disconnect?.() : redis.destroy?.()) };
}
