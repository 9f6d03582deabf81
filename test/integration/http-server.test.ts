/**
 * The service on a real listening server (serveHttp, as `clearframe serve` runs it), spoken to over raw
 * sockets: a 413 says `Connection: close` and closes; Node's own 431 and 408 answers are problem+json;
 * a slow body is cut off at REQUEST_TIMEOUT_MS; a client over its request allowance gets 429 with
 * Retry-After, counted per token subject, else per address; one address holds a bounded number of connections.
 */
import type { Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveHttp } from '../../src/runtime.ts';
import { databaseUnavailable } from '../support/db.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Exchange = { text: string; closed: boolean };

/** Writes `parts` (with a pause between them) and collects what comes back until the server closes or `waitMs` passes. */
function exchange(port: number, parts: string[], waitMs = 3000, pauseMs = 0): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    socket.on('data', (d) => {
      text += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ text, closed });
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed });
    }, waitMs);
    socket.on('connect', async () => {
      for (const [i, part] of parts.entries()) {
        if (i > 0 && pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
        if (!socket.destroyed) socket.write(part);
      }
    });
  });
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
const headerOf = (text: string, name: string) => new RegExp(`^${name}: *(.*)\\r$`, 'im').exec(text)?.[1];
const bodyOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { type: string; status: number; detail: string };

async function listen(svc: TestService): Promise<{ server: Server; port: number }> {
  const server = serveHttp(svc.runtime, { port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((r) => (server.listening ? r() : server.once('listening', () => r())));
  return { server, port: (server.address() as AddressInfo).port };
}

describe.skipIf(databaseUnavailable())('the listening server', () => {
  let svc: TestService;
  let server: Server;
  let port: number;
  let legal: string;

  beforeAll(async () => {
    svc = await startTestService({ REQUEST_TIMEOUT_MS: '1500', HEADERS_TIMEOUT_MS: '1000', RATE_LIMIT_REQUESTS: '0' });
    ({ server, port } = await listen(svc));
    legal = await svc.token('legal');
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await svc?.close();
  });

  it('a 413 says Connection: close and closes the socket; the next connection is answered', async () => {
    const head = `POST /v1/assets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${legal}\r\nContent-Type: application/json\r\nContent-Length: ${2 * 1024 * 1024}\r\nConnection: keep-alive\r\n\r\n`;
    const got = await exchange(port, [head, '{"title":"'], 3000);
    expect(statusOf(got.text)).toBe(413);
    expect(headerOf(got.text, 'connection')?.toLowerCase()).toBe('close');
    expect(headerOf(got.text, 'content-type')).toBe('application/problem+json');
    expect(got.closed).toBe(true);
    const next = await exchange(port, ['GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    expect(statusOf(next.text)).toBe(200);
  });

  it("Node's 431 for oversized headers is problem+json", async () => {
    const got = await exchange(port, [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]);
    expect(statusOf(got.text)).toBe(431);
    expect(headerOf(got.text, 'content-type')).toBe('application/problem+json');
    expect(bodyOf(got.text)).toMatchObject({ type: 'https://clearframe.dev/problems/headers-too-large', status: 431 });
    expect(got.closed).toBe(true);
  });

  it('a request that is not HTTP gets a 400 problem+json', async () => {
    const got = await exchange(port, ['NOT HTTP AT ALL\r\n\r\n']);
    expect(statusOf(got.text)).toBe(400);
    expect(headerOf(got.text, 'content-type')).toBe('application/problem+json');
  });

  it('an authenticated slow body is cut off with a 408 problem+json at REQUEST_TIMEOUT_MS', async () => {
    const started = performance.now();
    const head = `POST /v1/assets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${legal}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
    // A byte every 200 ms: never idle long enough for a socket timeout, never done.
    const got = await exchange(port, [head, ...Array.from({ length: 40 }, () => ' ')], 8000, 200);
    const seconds = (performance.now() - started) / 1000;
    expect(statusOf(got.text)).toBe(408);
    expect(headerOf(got.text, 'content-type')).toBe('application/problem+json');
    expect(bodyOf(got.text).type).toBe('https://clearframe.dev/problems/request-timeout');
    expect(got.closed).toBe(true);
    expect(seconds).toBeLessThan(5);
  });
});

describe.skipIf(databaseUnavailable())('the per-client limits', () => {
  let svc: TestService;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    svc = await startTestService({ RATE_LIMIT_REQUESTS: '3', RATE_LIMIT_WINDOW_SECONDS: '60', MAX_CONNECTIONS_PER_CLIENT: '4' });
    ({ server, port } = await listen(svc));
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await svc?.close();
  });

  const get = (path: string, token?: string) =>
    exchange(port, [`GET ${path} HTTP/1.1\r\nHost: x\r\n${token ? `Authorization: Bearer ${token}\r\n` : ''}Connection: close\r\n\r\n`]);

  it('answers 429 problem+json with Retry-After past the allowance; a token subject has its own', async () => {
    for (let i = 0; i < 3; i++) expect(statusOf((await get('/healthz')).text)).toBe(200);
    const over = await get('/healthz');
    expect(statusOf(over.text)).toBe(429);
    expect(headerOf(over.text, 'content-type')).toBe('application/problem+json');
    expect(Number(headerOf(over.text, 'retry-after'))).toBeGreaterThan(0);
    expect(Number(headerOf(over.text, 'retry-after'))).toBeLessThanOrEqual(60);
    expect(bodyOf(over.text).type).toBe('https://clearframe.dev/problems/too-many-requests');
    // A token that does not verify buys no fresh allowance...
    expect(statusOf((await get('/v1/assets', 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln')).text)).toBe(429);
    // ...a valid one is counted by its subject, apart from the address.
    const legal = await svc.token('legal', 'someone-else');
    for (let i = 0; i < 3; i++) expect(statusOf((await get('/v1/assets', legal)).text)).toBe(200);
    expect(statusOf((await get('/v1/assets', legal)).text)).toBe(429);
  });

  it('one address holds at most MAX_CONNECTIONS_PER_CLIENT connections', async () => {
    const sockets = await Promise.all(
      Array.from(
        { length: 6 },
        () =>
          new Promise<Socket>((r) => {
            const s = connect(port, '127.0.0.1', () => r(s));
            s.on('error', () => {});
          }),
      ),
    );
    const open = await Promise.all(
      sockets.map(
        (s) =>
          new Promise<boolean>((r) => {
            if (s.destroyed) return r(false);
            s.once('close', () => r(false));
            setTimeout(() => r(!s.destroyed), 300);
          }),
      ),
    );
    expect(open.filter(Boolean).length).toBe(4);
    for (const s of sockets) s.destroy();
  });
});
