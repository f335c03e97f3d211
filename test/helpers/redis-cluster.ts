/**
 * A real Redis Cluster on loopback for tests: three masters and three replicas, each a
 * `redis-server --cluster-enabled yes` child on free ports (client and bus), files in a temporary
 * folder, joined by `redis-cli --cluster create … --cluster-replicas 1`, stopped by PID at the end.
 * Every wait is bounded and waits for the state it needs (slots served, replicas linked, promotion).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './redis-server.js';

const run = promisify(execFile);

/** One node of the cluster. */
export interface ClusterNode {
  readonly port: number;
  readonly busPort: number;
  readonly child: ChildProcess;
}

/** Sends one command over a fresh connection (RESP), resolving to the raw reply text. */
export function rawCommand(port: number, args: readonly string[], timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply from ${port} to ${args[0]}`));
    }, timeoutMs);
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('data', (chunk) => {
      out += chunk.toString();
      // A bulk string is complete when its announced length has arrived; simple replies end at CRLF.
      const bulk = /^\$(-?\d+)\r\n/.exec(out);
      const done = bulk ? Number(bulk[1]) < 0 || out.length >= bulk[0].length + Number(bulk[1]) + 2 : out.endsWith('\r\n');
      if (done) {
        clearTimeout(timer);
        socket.end();
        resolve(bulk ? out.slice(bulk[0].length, bulk[0].length + Math.max(0, Number(bulk[1]))) : out.trim());
      }
    });
    socket.write(args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).reduce((s, a) => s + a, `*${args.length}\r\n`));
  });
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`cluster: ${what} within ${timeoutMs} ms failed (${String(last ?? 'not yet')})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A running three-master, three-replica cluster. */
export class RedisClusterFixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'authnz-cluster-'));
  readonly nodes: ClusterNode[] = [];

  private constructor(readonly nodeTimeoutMs: number) {}

  /**
   * Starts six nodes and joins them. `nodeTimeoutMs` is `cluster-node-timeout`: how long a silent
   * master stays a master before its replica may take over (default 1000 ms for a short test).
   */
  static async start(options: { nodeTimeoutMs?: number } = {}): Promise<RedisClusterFixture> {
    const cluster = await RedisClusterFixture.reserve(options);
    try {
      await cluster.launch();
      await cluster.form();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /**
   * Picks the six nodes' ports without starting anything: clients can be pointed at a cluster that
   * does not exist yet ({@link launch} starts the nodes, {@link form} joins them).
   */
  static async reserve(options: { nodeTimeoutMs?: number } = {}): Promise<RedisClusterFixture> {
    const cluster = new RedisClusterFixture(options.nodeTimeoutMs ?? 1000);
    const ports = new Set<number>();
    while (ports.size < 12) ports.add(await freePort());
    const list = [...ports];
    for (let i = 0; i < 6; i++) cluster.ports.push({ port: list[2 * i] as number, busPort: list[2 * i + 1] as number });
    return cluster;
  }

  /** The reserved client and bus ports, started or not. */
  readonly ports: Array<{ port: number; busPort: number }> = [];

  /** Starts the six nodes, each a cluster of its own until {@link form} joins them. */
  async launch(): Promise<void> {
    for (const { port, busPort } of this.ports) {
      mkdirSync(join(this.dir, String(port)));
      this.nodes.push({ port, busPort, child: this.#spawn(port, busPort) });
    }
    await Promise.all(this.nodes.map((n) => this.#answering(n.port)));
  }

  /** Joins the started nodes (three masters, one replica each) and waits until all are healthy. */
  async form(): Promise<void> {
    await run(
      'redis-cli',
      ['--cluster', 'create', ...this.nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'],
      { timeout: 30_000 },
    );
    await this.waitHealthy(30_000);
  }

  #spawn(port: number, busPort: number): ChildProcess {
    // require-full-coverage no: a shard without a master refuses its own slots only, not the others'.
    return spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--cluster-port',
        String(busPort),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        String(this.nodeTimeoutMs),
        '--cluster-require-full-coverage',
        'no',
        '--dir',
        join(this.dir, String(port)),
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--logfile',
        join(this.dir, String(port), 'redis.log'),
      ],
      { stdio: 'ignore' },
    );
  }

  /** Starts a killed node again on its port and folder: it rejoins (a former master as a replica). */
  async restart(port: number): Promise<void> {
    const index = this.nodes.findIndex((n) => n.port === port);
    const node = this.nodes[index];
    if (!node) throw new Error(`no node on ${port}`);
    this.nodes[index] = { ...node, child: this.#spawn(node.port, node.busPort) };
    await this.#answering(port);
  }

  /** Waits until the node on `port` answers PING; if it never does, the error carries its log's end. */
  async #answering(port: number): Promise<void> {
    try {
      await until(`node ${port} answering`, 10_000, async () => ((await rawCommand(port, ['PING'])) === '+PONG' ? true : undefined));
    } catch (error) {
      let log = '';
      try {
        log = readFileSync(join(this.dir, String(port), 'redis.log'), 'utf8')
          .trim()
          .split('\n')
          .slice(-5)
          .join(' | ');
      } catch {
        log = 'no log written';
      }
      throw new Error(`${(error as Error).message}; redis.log: ${log}`);
    }
  }

  /** `{ host, port }` of every node, for client start-up lists. */
  get rootNodes(): Array<{ host: string; port: number }> {
    return this.ports.map((n) => ({ host: '127.0.0.1', port: n.port }));
  }

  /** Live nodes (their process has not exited). */
  live(): ClusterNode[] {
    return this.nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
  }

  /** Waits until every live node reports `cluster_state:ok` and every live replica's link is up. */
  async waitHealthy(timeoutMs: number): Promise<void> {
    await Promise.all(
      this.live().map((n) =>
        until(`node ${n.port} healthy`, timeoutMs, async () => {
          const info = await rawCommand(n.port, ['CLUSTER', 'INFO']);
          if (!info.includes('cluster_state:ok')) return undefined;
          const role = await rawCommand(n.port, ['INFO', 'replication']);
          return role.includes('role:master') || role.includes('master_link_status:up') ? true : undefined;
        }),
      ),
    );
  }

  /** The port of the master serving `slot`, as node `askPort` sees it. */
  async masterOfSlot(slot: number, askPort = this.live()[0]?.port as number): Promise<number> {
    const nodes = await rawCommand(askPort, ['CLUSTER', 'NODES']);
    for (const line of nodes.split('\n')) {
      const parts = line.trim().split(' ');
      if (!parts[2]?.includes('master') || parts[2].includes('fail')) continue;
      for (const range of parts.slice(8)) {
        const [from, to] = range.split('-').map(Number);
        if (from !== undefined && slot >= from && slot <= (to ?? from)) return Number(parts[1]?.split(':')[1]?.split('@')[0]);
      }
    }
    throw new Error(`no master serves slot ${slot}`);
  }

  /** The Redis Cluster slot of a key (asked of the cluster itself, not recomputed here). */
  async slotOf(key: string): Promise<number> {
    return Number((await rawCommand(this.live()[0]?.port as number, ['CLUSTER', 'KEYSLOT', key])).slice(1));
  }

  /** Ports of the replicas of the master on `masterPort`. */
  async replicasOf(masterPort: number): Promise<number[]> {
    const info = await rawCommand(masterPort, ['INFO', 'replication']);
    return [...info.matchAll(/slave\d+:ip=[^,]+,port=(\d+)/g)].map((m) => Number(m[1]));
  }

  /** SIGKILLs the node on `port` (no goodbye) and waits for its exit. */
  async kill(port: number): Promise<void> {
    const node = this.nodes.find((n) => n.port === port);
    if (!node || node.child.exitCode !== null || node.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => node.child.once('exit', () => resolve()));
    node.child.kill('SIGKILL');
    await exited;
  }

  /** Freezes (SIGSTOP) or thaws (SIGCONT) the node on `port`: connections stay open, nothing answers. */
  signal(port: number, signal: 'SIGSTOP' | 'SIGCONT'): void {
    this.nodes.find((n) => n.port === port)?.child.kill(signal);
  }

  /** Waits until the node on `port` reports itself a master (promotion after a failover). */
  async waitMaster(port: number, timeoutMs: number): Promise<void> {
    await until(`node ${port} promoted`, timeoutMs, async () => ((await rawCommand(port, ['ROLE'])).includes('master') ? true : undefined));
  }

  /** Waits until the node on `port` is a replica whose link to its master is up (its full sync done). */
  async waitLinked(port: number, timeoutMs: number): Promise<void> {
    await until(`node ${port} linked to its master`, timeoutMs, async () => {
      const info = await rawCommand(port, ['INFO', 'replication']);
      return info.includes('role:slave') && info.includes('master_link_status:up') ? true : undefined;
    });
  }

  /** Stops every node by PID and removes the folder. */
  async stop(): Promise<void> {
    for (const n of this.live()) n.child.kill('SIGCONT');
    await Promise.all(this.nodes.map((n) => this.kill(n.port)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * One cluster for the calling test file: started in `beforeAll`, stopped in `afterAll`. Returns a
 * getter (the cluster exists only once `beforeAll` ran).
 */
export function useCluster(): () => RedisClusterFixture {
  let cluster: RedisClusterFixture | undefined;
  beforeAll(async () => {
    cluster = await RedisClusterFixture.start();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  return () => {
    if (!cluster) throw new Error('the cluster is not started yet');
    return cluster;
  };
}
