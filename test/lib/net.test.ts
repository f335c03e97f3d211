/** Transport rules of every outbound call: https except on loopback, and answers read under a byte cap. */
import { isLoopbackHost, isResponseTooLargeError, isSecureUrl, readCappedText, ResponseTooLargeError } from '../../src/lib/net.js';

/** A stream of `chunks` that counts how many were pulled and whether it was cancelled. */
function counted(chunks: Uint8Array[]): { stream: ReadableStream<Uint8Array>; pulled: () => number; cancelled: () => boolean } {
  let pulled = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[pulled++];
        if (chunk === undefined) controller.close();
        else controller.enqueue(chunk);
      },
      cancel() {
        cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => pulled, cancelled: () => cancelled };
}

describe('isLoopbackHost and isSecureUrl', () => {
  it('loopback is localhost, 127.0.0.0/8 and ::1, nothing that merely starts like them', () => {
    for (const host of ['localhost', 'LOCALHOST', '127.0.0.1', '127.255.0.9', '[::1]', '::1']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['localhost.example', '127.0.0.1.example', '128.0.0.1', '0.0.0.0', '[::2]', 'example.com', ''])
      expect(isLoopbackHost(host)).toBe(false);
  });

  it('https anywhere, http only to loopback, nothing else', () => {
    expect(isSecureUrl('https://idp.example/jwks')).toBe(true);
    expect(isSecureUrl('http://127.0.0.1:8080/jwks')).toBe(true);
    expect(isSecureUrl('http://localhost/x')).toBe(true);
    expect(isSecureUrl('http://[::1]:9/x')).toBe(true);
    expect(isSecureUrl('http://idp.example/jwks')).toBe(false);
    expect(isSecureUrl('http://127.0.0.1.nip.io/jwks')).toBe(false);
    expect(isSecureUrl('ftp://127.0.0.1/x')).toBe(false);
    expect(isSecureUrl('not a url')).toBe(false);
  });
});

describe('readCappedText', () => {
  it('reads a body up to the cap as UTF-8, characters split across chunks included', async () => {
    const bytes = Buffer.from('héllo €', 'utf8');
    const { stream } = counted([bytes.subarray(0, 2), bytes.subarray(2, 7), bytes.subarray(7)]);
    expect(await readCappedText({ body: stream, text: async () => 'unused' }, bytes.length)).toBe('héllo €');
    expect(await readCappedText(new Response('{"keys":[]}'), 11)).toBe('{"keys":[]}');
  });

  it('stops reading and cancels the stream as soon as the body passes the cap', async () => {
    const chunk = new Uint8Array(400);
    const source = counted([chunk, chunk, chunk, chunk, chunk, chunk]);
    await expect(readCappedText({ body: source.stream, text: async () => '' }, 1000)).rejects.toThrow(ResponseTooLargeError);
    expect(source.pulled()).toBe(3);
    expect(source.cancelled()).toBe(true);
  });

  it('refuses a declared Content-Length over the cap before reading anything', async () => {
    const source = counted([new Uint8Array(10)]);
    const headers = new Headers({ 'content-length': '5000' });
    const error = await readCappedText({ headers, body: source.stream, text: async () => '' }, 1000).catch((e: unknown) => e);
    expect(isResponseTooLargeError(error)).toBe(true);
    expect((error as Error).message).toBe('the answer is larger than 1000 bytes');
    expect(source.pulled()).toBe(0);
    expect(source.cancelled()).toBe(true);
  });

  it('without a stream, measures the whole text in bytes', async () => {
    expect(await readCappedText({ text: async () => 'ééé' }, 6)).toBe('ééé');
    await expect(readCappedText({ body: null, text: async () => 'éééé' }, 6)).rejects.toMatchObject({ code: 'response_too_large' });
  });

  it('isResponseTooLargeError recognises that error only', () => {
    expect(isResponseTooLargeError(new ResponseTooLargeError(1))).toBe(true);
    expect(isResponseTooLargeError(new Error('the answer is larger than 1 bytes'))).toBe(false);
  });
});
