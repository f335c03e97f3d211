/**
 * An in-process authnzerver speaking the real protocol (Fernet envelope, reqid echo, the server's
 * status codes): session-exists, apikey-verify and apikey-verify-nosession over a small user table.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { decryptMessage, encryptMessage } from '../../src/schemes/authnzerver/messaging.js';

/** The shared secret the fake server holds. */
export const SECRET = randomBytes(32).toString('base64url') + '=';

export type Mode = 'ok' | 'wrong-reqid' | 'slow' | 'garbage' | 'status500' | 'ratelimited';

export interface Fake {
  url: string;
  mode: Mode;
  received: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * Sessions: `sess-good` (user 4, authenticated), `sess-staff` (user 9, staff), `sess-anon` (user 2,
 * anonymous), `sess-inactive` (user 6, is_active false). No-session keys: `tkn-good` of user 4 as
 * staff; session keys (`apikey-verify`): `tkn-sess` of user 4 as authenticated.
 */
export async function fakeAuthnzerver(): Promise<Fake> {
  const sessions = new Map<string, Record<string, unknown>>([
    ['sess-good', { user_id: 4, user_role: 'authenticated', email: 'a@example.org', is_active: true }],
    ['sess-staff', { user_id: 9, user_role: 'staff', email: 's@example.org', full_name: 'Sam Staff', is_active: true }],
    ['sess-anon', { user_id: 2, user_role: 'anonymous', is_active: true }],
    ['sess-inactive', { user_id: 6, user_role: 'authenticated', is_active: false }],
  ]);
  const keys = new Set(['apikey-verify-nosession|tkn-good|4|staff', 'apikey-verify|tkn-sess|4|authenticated']);
  const fake: Fake = { url: '', mode: 'ok', received: [], close: async () => undefined };
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let msg: Record<string, unknown>;
      try {
        msg = decryptMessage(Buffer.concat(chunks).toString(), SECRET);
      } catch {
        res
          .writeHead(401, { 'Content-Type': 'text/plain' })
          .end(
            'HTTP 401: Could not service this request because of invalid request authentication token or violation of host restriction.',
          );
        return;
      }
      fake.received.push(msg);
      if (fake.mode === 'ratelimited') {
        res.writeHead(429, { 'Retry-After': '180', 'Content-Type': 'text/plain' }).end('HTTP 429: Too Many Requests');
        return;
      }
      if (msg['reqid'] === undefined) {
        res.writeHead(500).end();
        return;
      }
      const body = msg['body'] as Record<string, unknown>;
      let response: Record<string, unknown>;
      if (msg['request'] === 'session-exists') {
        const info = sessions.get(String(body['session_token']));
        response = info
          ? { success: true, session_info: { ...info, session_token: body['session_token'] }, messages: ['Session look up successful.'] }
          : { success: false, session_info: null, messages: ['Session look up failed.'] };
      } else if (msg['request'] === 'apikey-verify-nosession' || msg['request'] === 'apikey-verify') {
        const d = body['apikey_dict'] as Record<string, unknown>;
        const ok = keys.has(`${String(msg['request'])}|${String(d['tkn'])}|${String(body['user_id'])}|${String(body['user_role'])}`);
        response = { success: ok, messages: [ok ? 'API key verified successfully.' : 'API key could not be verified.'] };
      } else {
        res.writeHead(400).end('HTTP 400: Bad Request');
        return;
      }
      const reply = {
        success: response['success'],
        response,
        messages: response['messages'],
        reqid: fake.mode === 'wrong-reqid' ? 'other' : msg['reqid'],
      };
      const send = () => {
        if (fake.mode === 'status500') res.writeHead(500).end('oops');
        else
          res
            .writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8' })
            .end(fake.mode === 'garbage' ? 'bm90IGEgdG9rZW4=' : encryptMessage(reply, SECRET));
      };
      if (fake.mode === 'slow') {
        const t = setTimeout(() => {
          timers.delete(t);
          send();
        }, 1500);
        timers.add(t);
      } else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = async () => {
    for (const t of timers) clearTimeout(t);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return fake;
}
