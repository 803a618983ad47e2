import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { ALICE, gateFor } from '../../helpers/gates.ts';
import { parseResponse, sleep, spec, startProxy, table, type Harness } from './support.ts';

interface WsUpstream {
  readonly origin: string;
  readonly handshakes: IncomingMessage[];
  readonly server: Server;
  close(): Promise<void>;
}

/** A real websocket echo server that remembers every handshake request it accepted. */
async function startWsEcho(options: { refuse?: boolean } = {}): Promise<WsUpstream> {
  const handshakes: IncomingMessage[] = [];
  const server = createServer((_req, res) => res.end('plain http'));
  const wss = new WebSocketServer({
    server,
    verifyClient: (_info, done) => (options.refuse ? done(false, 401, 'Unauthorized') : done(true)),
  });
  wss.on('connection', (socket, req) => {
    handshakes.push(req);
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    handshakes,
    server,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function connect(port: number, path: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { host: 'app.test', ...headers } });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data: data as Buffer, isBinary })));
}

function statusOf(promise: Promise<unknown>): Promise<number> {
  return promise.then(
    () => 101,
    (error: { status?: number }) => error.status ?? -1,
  );
}

/** Signs alice in on websocket upgrades only. */
const aliceGate = gateFor((req) => (req.isUpgrade ? ALICE : null));

const restricted = { public: false, allow: [{ kind: 'any' as const }], deny: [], bypass: [], corsPreflight: false };

describe('proxy: websockets', () => {
  let upstream: WsUpstream;
  let refusing: WsUpstream;
  let gh: Harness;
  let signedIn: Harness;

  beforeAll(async () => {
    upstream = await startWsEcho();
    refusing = await startWsEcho({ refuse: true });
    const routes = table(
      spec({ origin: upstream.origin }),
      spec({ name: 'stripped', origin: upstream.origin, path: '/socket', stripPath: true }),
      spec({ name: 'private', hosts: ['private.test'], origin: upstream.origin, policy: restricted }),
      spec({ name: 'no-ws', hosts: ['nows.test'], origin: upstream.origin, websockets: false }),
      spec({ name: 'starting', hosts: ['starting.test'], origin: upstream.origin, ready: false }),
      spec({ name: 'dead', hosts: ['dead.test'], origin: 'http://127.0.0.1:1' }),
      spec({ name: 'refusing', hosts: ['refusing.test'], origin: refusing.origin }),
    );
    gh = await startProxy({ table: routes });
    signedIn = await startProxy({ table: table(spec({ origin: upstream.origin, policy: restricted, identity: 'headers' })), gate: aliceGate });
  });
  afterAll(async () => {
    await gh.close();
    await signedIn.close();
    await upstream.close();
    await refusing.close();
  });

  it('relays text and binary messages both ways, including large ones', async () => {
    const ws = await connect(gh.port, '/chat?room=1');
    try {
      let reply = nextMessage(ws);
      ws.send('hello');
      expect((await reply).data.toString()).toBe('hello');
      const big = Buffer.alloc(1024 * 1024 + 7, 0xab);
      reply = nextMessage(ws);
      ws.send(big);
      const got = await reply;
      expect(got.isBinary).toBe(true);
      expect(Buffer.compare(got.data, big)).toBe(0);
      const handshake = upstream.handshakes.at(-1) as IncomingMessage;
      expect(handshake.url).toBe('/chat?room=1');
      expect(handshake.headers.host).toBe('app.test');
      expect(handshake.headers['x-forwarded-for']).toBe('127.0.0.1');
    } finally {
      ws.close();
    }
  });

  it('applies strip_path to upgrades too', async () => {
    const ws = await connect(gh.port, '/socket/feed');
    ws.close();
    expect(upstream.handshakes.at(-1)?.url).toBe('/feed');
  });

  it('never lets spoofed identity headers reach the upstream on an upgrade, and adds the gate ones', async () => {
    const ws = await connect(signedIn.port, '/', { 'X-Iap-User': 'mallory', X_IAP_EMAIL: 'm@evil.example', 'X.Iap.Groups': 'admins' });
    ws.close();
    const handshake = upstream.handshakes.at(-1) as IncomingMessage;
    const identity = handshake.rawHeaders.filter((_, i) => i % 2 === 0 && /^x[-_.]iap[-_.]/i.test(handshake.rawHeaders[i] as string));
    expect(identity.sort()).toEqual(['x-iap-email', 'x-iap-groups', 'x-iap-jwt-assertion', 'x-iap-name', 'x-iap-user']);
    expect(handshake.headers['x-iap-user']).toBe('alice');
    expect(handshake.headers['x-iap-email']).toBe('alice@corp.example');
  });

  it('keeps gate and forwarding headers when a raw upgrade names them in Connection', async () => {
    const before = upstream.handshakes.length;
    const socket = net.connect((signedIn.proxy.address as { port: number }).port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      [
        'GET /raw HTTP/1.1',
        'Host: app.test',
        'Upgrade: websocket',
        'Connection: Upgrade, X-Iap-User, X-Forwarded-For, X-Forwarded-Host',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version: 13',
        'X-Iap-User: mallory',
        '',
        '',
      ].join('\r\n'),
    );
    const head = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (text.includes('\r\n\r\n')) resolve(text);
      });
    });
    socket.destroy();
    expect(parseResponse(head).status).toBe(101);
    expect(parseResponse(head).headers['x-request-id']).toBeTruthy();
    expect(upstream.handshakes.length).toBe(before + 1);
    const handshake = upstream.handshakes.at(-1) as IncomingMessage;
    expect(handshake.headers['x-iap-user']).toBe('alice');
    expect(handshake.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(handshake.headers['x-forwarded-host']).toBe('app.test');
  });

  it('refuses upgrades with 403 where sign-in is needed but not configured, before any upstream contact', async () => {
    const before = upstream.handshakes.length;
    expect(await statusOf(connect(gh.port, '/', { host: 'private.test' }))).toBe(403);
    expect(upstream.handshakes.length).toBe(before);
  });

  it('refuses upgrades on routes without websockets (400), unknown hosts (404) and unready routes (503)', async () => {
    const before = upstream.handshakes.length;
    expect(await statusOf(connect(gh.port, '/', { host: 'nows.test' }))).toBe(400);
    expect(await statusOf(connect(gh.port, '/', { host: 'nowhere.test' }))).toBe(404);
    expect(await statusOf(connect(gh.port, '/', { host: 'starting.test' }))).toBe(503);
    expect(await statusOf(connect(gh.port, '/a%2Fb'))).toBe(400);
    expect(upstream.handshakes.length).toBe(before);
  });

  it('answers 502 when the upstream cannot be reached, and relays an upstream refusal as is', async () => {
    expect(await statusOf(connect(gh.port, '/', { host: 'dead.test' }))).toBe(502);
    expect(await statusOf(connect(gh.port, '/', { host: 'refusing.test' }))).toBe(401);
  });

  it('logs and counts an upgrade once, when it ends', async () => {
    const ws = await connect(gh.port, '/counted');
    ws.close();
    await new Promise((resolve) => ws.once('close', resolve));
    await sleep(50);
    const line = gh.logLines().find((l) => l.mod === 'access' && l.path === '/counted');
    expect(line).toMatchObject({ status: 101, websocket: true, route: 'container:app/default' });
  });
});

describe('proxy: websockets at shutdown', () => {
  it('closes open websockets with 1001 at the end of the grace period', async () => {
    const upstream = await startWsEcho();
    const gh = await startProxy({ table: table(spec({ origin: upstream.origin })), env: { GATEHOUSE_SHUTDOWN_GRACE: '400ms' } });
    try {
      const ws = await connect(gh.port, '/');
      const closedWith = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      // Still usable while the proxy drains.
      const started = Date.now();
      const closing = gh.close();
      const reply = nextMessage(ws);
      ws.send('still here');
      expect((await reply).data.toString()).toBe('still here');
      expect(await closedWith).toBe(1001);
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      await closing;
    } finally {
      await upstream.close();
    }
  });
});

/** Sends one raw handshake and reads everything until the proxy closes the connection. */
function rawHandshake(port: number, host: string, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
  });
}

describe('proxy: an upstream that declines the websocket handshake', () => {
  let declining: Server;
  let silent: net.Server;
  let gh: Harness;
  const held = new Set<net.Socket>();

  beforeAll(async () => {
    // A real server that answers the handshake with an ordinary 403, a chunked body and cookies.
    declining = createServer((_req, res) => res.end('plain http'));
    declining.on('upgrade', (_req, socket) => {
      socket.end(
        'HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nX-App-Reason: not-your-room\r\nTransfer-Encoding: chunked\r\n' +
          'Set-Cookie: gatehouse_session=planted; Path=/\r\nSet-Cookie: app_pref=1; Path=/\r\nConnection: close\r\n\r\n' +
          '8\r\nthe app \r\nd\r\nsays no to ws\r\n0\r\n\r\n',
      );
    });
    // Accepts connections and never answers.
    silent = net.createServer((socket) => held.add(socket));
    await Promise.all([
      new Promise<void>((resolve) => declining.listen(0, '127.0.0.1', resolve)),
      new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve)),
    ]);
    const port = (s: { address(): unknown }) => (s.address() as AddressInfo).port;
    gh = await startProxy({
      table: table(
        spec({ name: 'declining', hosts: ['declining.test'], origin: `http://127.0.0.1:${port(declining)}` }),
        spec({ name: 'silent', hosts: ['silent.test'], origin: `http://127.0.0.1:${port(silent)}`, timeoutMs: 300 }),
      ),
    });
  });
  afterAll(async () => {
    await gh.close();
    declining.closeAllConnections();
    await new Promise((resolve) => declining.close(resolve));
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it("passes the upstream's answer back as that response: status, headers and body, without Gatehouse's cookie", async () => {
    const raw = await rawHandshake(gh.port, 'declining.test', '/room');
    const response = parseResponse(raw);
    expect(raw.startsWith('HTTP/1.1 403 ')).toBe(true);
    expect(response.headers['x-app-reason']).toBe('not-your-room');
    expect(response.headers['connection']).toBe('close');
    expect(response.headers['x-request-id']).toMatch(/\S/);
    expect(raw).toContain('app_pref=1');
    expect(raw).not.toContain('gatehouse_session');
    expect(raw.slice(raw.indexOf('\r\n\r\n') + 4)).toBe('the app says no to ws');
    const line = await waitFor(() => gh.logLines().find((l) => l.mod === 'access' && l.path === '/room'));
    expect(line).toMatchObject({ status: 403, websocket: true });
  });

  it('maps an upstream that never answers the handshake to 504 by its cause code, like plain requests', async () => {
    const raw = await rawHandshake(gh.port, 'silent.test', '/quiet');
    expect(raw.startsWith('HTTP/1.1 504 ')).toBe(true);
    const warning = await waitFor(() => gh.logLines().find((l) => l.msg === 'websocket upstream failed (504)'));
    expect(warning).toMatchObject({ codes: ['UND_ERR_HEADERS_TIMEOUT'] });
  });
});

async function waitFor<T>(probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const found = probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('condition not met');
}
