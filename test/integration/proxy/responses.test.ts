import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { http, waitFor } from '../../helpers/http.ts';
import { sleep, spec, startProxy, table, type Harness } from './support.ts';

/** Response direction: how an upstream's answer reaches the client, and what happens when either side fails. */
describe('proxy: relaying responses', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function upstream(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ origin: string; server: Server }> {
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
  }

  /** An upstream that writes whatever bytes it is given, for answers Node's own server would refuse to send. */
  async function rawUpstream(answer: string): Promise<string> {
    const sockets = new Set<Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.once('data', () => socket.end(answer));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async function proxyTo(origin: string): Promise<Harness> {
    const gh = await startProxy({ table: table(spec({ origin })) });
    cleanups.push(() => gh.close());
    return gh;
  }

  it('keeps repeated response headers such as Set-Cookie as separate lines', async () => {
    const app = await upstream((_req, res) => {
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/; HttpOnly']);
      res.setHeader('x-app', 'yes');
      res.end('ok');
    });
    const gh = await proxyTo(app.origin);
    const res = await http(gh.port, 'app.test', '/');
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/; HttpOnly']);
    expect(res.headers['x-app']).toBe('yes');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('does not relay informational responses; the final answer arrives intact', async () => {
    const origin = await rawUpstream(
      'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n' + 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nfinal',
    );
    const gh = await proxyTo(origin);
    const res = await http(gh.port, 'app.test', '/');
    expect(res.status).toBe(200);
    expect(res.body).toBe('final');
  });

  it('answers 502 with its own page when the upstream sends a header Node cannot relay', async () => {
    const origin = await rawUpstream('HTTP/1.1 200 OK\r\nX-Bad: one\u0001two\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
    const gh = await proxyTo(origin);
    const res = await http(gh.port, 'app.test', '/', { headers: { accept: 'application/json' } });
    expect(res.status).toBe(502);
    expect(res.headers['x-bad']).toBeUndefined();
    expect(JSON.parse(res.body)).toMatchObject({ error: expect.any(String) });
  });

  it('cuts the client connection when the upstream dies mid-body, so a truncated answer never looks complete', async () => {
    const app = await upstream((_req, res) => {
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(10_000, 'a'));
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const gh = await proxyTo(app.origin);
    const outcome = await new Promise<{ received: number; error: string | null; complete: boolean }>((resolve) => {
      let received = 0;
      const req = request({ port: gh.port, host: '127.0.0.1', path: '/', headers: { host: 'app.test' }, agent: false }, (res) => {
        res.on('data', (chunk: Buffer) => (received += chunk.length));
        res.on('end', () => resolve({ received, error: null, complete: res.complete }));
        res.on('error', (error) => resolve({ received, error: error.message, complete: res.complete }));
        res.on('aborted', () => resolve({ received, error: 'aborted', complete: false }));
      });
      req.on('error', (error) => resolve({ received, error: error.message, complete: false }));
      req.end();
    });
    expect(outcome.received).toBe(10_000);
    expect(outcome.complete).toBe(false);
    expect(outcome.error).not.toBeNull();
  });

  it('aborts the upstream request when the client goes away mid-response', async () => {
    let upstreamClosed = false;
    const app = await upstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const timer = setInterval(() => res.write('data: tick\n\n'), 20);
      req.socket.once('close', () => {
        clearInterval(timer);
        upstreamClosed = true;
      });
    });
    const gh = await proxyTo(app.origin);
    const req = request({ port: gh.port, host: '127.0.0.1', path: '/events', headers: { host: 'app.test' }, agent: false });
    req.on('error', () => {});
    const firstChunk = new Promise<void>((resolve) => req.on('response', (res) => res.once('data', () => resolve())));
    req.end();
    await firstChunk;
    req.destroy();
    await waitFor(() => (upstreamClosed ? true : undefined), 'the upstream connection to close', 5_000);
    const line = await waitFor(() => gh.logLines().find((l) => l.mod === 'access' && l.path === '/events'), 'the access-log line', 5_000);
    expect(line).toMatchObject({ status: 499 });
  });

  it('applies backpressure downstream: a client that stops reading stalls the upstream instead of filling the proxy', async () => {
    const MB = 1024 * 1024;
    let written = 0;
    let finished = false;
    const app = await upstream((_req, res) => {
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (written < 64 * MB) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        finished = true;
        res.end();
      };
      pump();
    });
    const gh = await proxyTo(app.origin);
    let received = 0;
    const client = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ port: gh.port, host: '127.0.0.1', path: '/big', headers: { host: 'app.test' }, agent: false }, resolve);
      req.on('error', reject);
      req.end();
    });
    client.pause();
    await sleep(1_000);
    const aheadWhilePaused = written;
    client.on('data', (chunk: Buffer) => (received += chunk.length));
    const ended = new Promise((resolve) => client.on('end', resolve));
    client.resume();
    await ended;
    // Socket buffers on three connections hold a few MB at most; without backpressure all 64 MB would be sent at once.
    expect(aheadWhilePaused).toBeLessThan(16 * MB);
    expect(finished).toBe(true);
    expect(received).toBe(64 * MB);
  });
});
