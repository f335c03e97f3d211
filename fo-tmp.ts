import { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import { randomUUID } from 'node:crypto';
import { RedisClusterFixture } from './test/cluster/redis-cluster.js';
import { RedisNonceStore } from './src/stores/redis-nonce.js';
const c = await RedisClusterFixture.start();
const io = new Cluster(c.rootNodes, { });
io.on('error', () => undefined);
const node = createCluster({ rootNodes: c.rootNodes.map((n) => ({ url: `redis://127.0.0.1:${n.port}` })) });
node.on('error', () => undefined);
await node.connect();
const stores = { io: new RedisNonceStore(io, { timeoutMs: 500, waitReplicas: Number(process.env.W ?? 0) }), node: new RedisNonceStore(node, { timeoutMs: 500, waitReplicas: Number(process.env.W ?? 0) }) };
const subject = 'svc';
const key = stores.io.keyFor({ subject, time: '1', nonce: 'x' });
const m = await c.masterOfSlot(await c.slotOf(key));
const [rep] = await c.replicasOf(m);
console.log('master', m, 'replica', rep);
for (const [name, s] of Object.entries(stores)) { const t=Date.now(); console.log(name, await s.claim({ subject, time: '1', nonce: randomUUID(), ttlMs: 40000 }), Date.now()-t); }
const t0 = Date.now();
await c.kill(m);
const log: Record<string, string[]> = { io: [], node: [] };
const done: Record<string, number> = {};
await Promise.all(Object.entries(stores).map(async ([name, s]) => {
  while (Date.now() - t0 < 20000) {
    const t = Date.now();
    try { await s.claim({ subject, time: '1', nonce: randomUUID(), ttlMs: 40000 }); log[name]!.push(`ok@${t - t0}`); done[name] = t - t0; break; }
    catch (e) { log[name]!.push(`${(e as {reason?:string}).reason}@${t - t0}+${Date.now()-t}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
}));
console.log(log, done);
io.disconnect(); await node.close().catch(()=>{}); await c.stop();
