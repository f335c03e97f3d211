/**
 * The deadline timer of every dependency call: it expires once its time has passed and the I/O
 * already waiting in that loop turn has been read, so an answer that arrived in time wins even when
 * the process was too busy to read it before the timer came due.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startDeadline } from '../../src/lib/deadline.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Blocks the event loop for `ms`, as a long synchronous verification would. */
function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // spin
  }
}

describe('startDeadline', () => {
  it('calls expire once, after the timeout', async () => {
    let expired = 0;
    const started = Date.now();
    let at = 0;
    startDeadline(30, () => {
      expired++;
      at = Date.now();
    });
    await sleep(10);
    expect(expired).toBe(0);
    await sleep(60);
    expect(expired).toBe(1);
    expect(at - started).toBeGreaterThanOrEqual(29);
  });

  it('never expires once cleared, before or after the timer came due', async () => {
    let expired = 0;
    startDeadline(20, () => expired++).clear();
    // Cleared by a timer due in the same turn as the deadline's, so after the deadline's timer ran.
    const late = startDeadline(10, () => expired++);
    setTimeout(() => late.clear(), 10);
    busy(30);
    await sleep(60);
    expect(expired).toBe(0);
  });

  describe('an answer that arrived while the loop was busy', () => {
    let server: Server;
    let client: Socket;
    let peer: Socket;
    beforeAll(async () => {
      server = createServer();
      const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      client = connect((server.address() as AddressInfo).port, '127.0.0.1');
      await new Promise<void>((resolve) => client.once('connect', resolve));
      peer = await accepted;
    });
    afterAll(async () => {
      client.destroy();
      peer.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    /** Starts a 10 ms wait with `start`, has the answer written at once, blocks the loop 50 ms; which came first. */
    async function race(start: (expire: () => void) => () => void): Promise<string[]> {
      const events: string[] = [];
      // From the check phase: the next turn runs the due timers first, then reads the socket.
      await new Promise<void>((resolve) => setImmediate(resolve));
      await new Promise<void>((resolve) => {
        const cancel = start(() => {
          events.push('expired');
        });
        client.once('data', () => {
          events.push('answer');
          cancel();
        });
        peer.write('pong');
        busy(50);
        setTimeout(resolve, 40);
      });
      return events;
    }

    it('is read before the deadline expires', async () => {
      const events = await race((expire) => {
        const deadline = startDeadline(10, expire);
        return () => deadline.clear();
      });
      expect(events).toEqual(['answer']);
    });

    it('whereas a plain setTimeout of the same length fires first', async () => {
      const events = await race((expire) => {
        const timer = setTimeout(expire, 10);
        return () => clearTimeout(timer);
      });
      expect(events).toEqual(['expired', 'answer']);
    });
  });
});
