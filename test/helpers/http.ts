/**
 * Shared pieces of the hardening suites: a raw-socket HTTP client (so hostile bytes reach the server
 * exactly as written), a listener helper, and the one assertion every refusal must pass.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';

/** A parsed raw HTTP/1.1 response. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string[]>>;
  readonly body: string;
}

/** A listening server on 127.0.0.1 and its close function. */
export interface Listening {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** Starts `handler` on a free loopback port. */
export async function listen(handler: RequestListener): Promise<Listening> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * An RFC 7662 introspection endpoint on a free loopback port that answers each token with its
 * entry of `answers` (set by the test as it goes), else `{ "active": false }`; any path.
 */
export function introspectionStub(answers: ReadonlyMap<string, Record<string, unknown>>): Promise<Listening> {
  return listen((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answers.get(new URLSearchParams(body).get('token') ?? '') ?? { active: false }));
    });
  });
}

/**
 * Sends one GET with the given header lines (raw bytes, CR/LF removed) over a fresh socket and
 * parses the answer. Status 0 means the server closed the socket without an HTTP answer.
 */
export function rawGet(port: number, path: string, headerLines: readonly Buffer[]): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error('raw request timed out')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split === -1 ? text : text.slice(0, split);
      const lines = head.split('\r\n');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '');
      const headers: Record<string, string[]> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon === -1) continue;
        const name = line.slice(0, colon).trim().toLowerCase();
        (headers[name] ??= []).push(line.slice(colon + 1).trim());
      }
      resolve({ status: m ? Number(m[1]) : 0, headers, body: split === -1 ? '' : text.slice(split + 4) });
    });
    const clean = headerLines.map((l) => Buffer.from(l.filter((b) => b !== 0x0d && b !== 0x0a)));
    const parts: Buffer[] = [Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`)];
    for (const line of clean) parts.push(line, Buffer.from('\r\n'));
    parts.push(Buffer.from('Connection: close\r\n\r\n'));
    // write, not end: a half-closed socket makes Node abort requests still being authenticated.
    socket.write(Buffer.concat(parts));
  });
}

/** A header line from a name and raw value bytes. */
export function headerLine(name: string, value: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from(`${name}: `), typeof value === 'string' ? Buffer.from(value, 'latin1') : value]);
}

/** The minimal view of a response the refusal check needs (supertest or {@link rawGet}). */
export interface ResponseLike {
  readonly status: number;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly text?: string;
  readonly body?: unknown;
}

function headerValues(headers: Readonly<Record<string, unknown>>, name: string): string[] {
  const v = headers[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

/**
 * What every refusal must look like: 400, 401 or 403 (or the one given); an RFC 9457 problem+json
 * body whose status matches; a `WWW-Authenticate` challenge of the expected scheme; and no secret.
 * Returns the parsed problem for further checks.
 */
export function expectRefusal(
  res: ResponseLike,
  challengeScheme: string,
  options: { status?: number | readonly number[]; secrets?: readonly string[] } = {},
): { status: number; code: string; reason?: string; detail: string; type: string } {
  const allowed = options.status === undefined ? [400, 401, 403] : Array.isArray(options.status) ? options.status : [options.status];
  expect(allowed).toContain(res.status);
  const contentType = headerValues(res.headers, 'content-type').join(',');
  expect(contentType).toMatch(/^application\/problem\+json/);
  const text = res.text ?? (typeof res.body === 'string' ? res.body : JSON.stringify(res.body));
  const problem = JSON.parse(text) as { status: number; code: string; reason?: string; detail: string; type: string };
  expect(problem.status).toBe(res.status);
  expect(problem.type).toMatch(/^urn:authnz-express:problem:/);
  expect(typeof problem.code).toBe('string');
  const challenges = headerValues(res.headers, 'www-authenticate');
  expect(challenges.length).toBeGreaterThan(0);
  const scheme = new RegExp(`(^|,\\s*)${challengeScheme}(\\s|,|$)`);
  expect(challenges.join(', ')).toMatch(scheme);
  for (const secret of options.secrets ?? []) {
    if (secret.length >= 8) {
      expect(text).not.toContain(secret);
      expect(challenges.join('\n')).not.toContain(secret);
    }
  }
  return problem;
}
