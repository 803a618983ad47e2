import { createHash } from 'node:crypto';
import https from 'node:https';
import type { Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { AccessGate, GateRequest } from '../../../src/proxy/index.ts';
import { ALICE } from '../../helpers/gates.ts';
import { createTestCa } from '../../helpers/test-ca.ts';
import { echoed, rawHeaderValues, spec, startEcho, table, type Echo } from '../proxy/support.ts';
import { h2Connect, h2Request, handshake, httpsRequest, startTlsProxy, writePair, type TlsHarness } from './support.ts';

/**
 * The HTTPS listener end to end: real certificates on disk, real handshakes, HTTP/2 and
 * HTTP/1.1 clients, and a real upstream that reports what it received.
 */
const ca = createTestCa();
const pairs = {
  example: ca.issue({ names: ['example.test', 'www.example.test'] }),
  wild: ca.issue({ names: ['*.example.test'] }),
  app: ca.issue({ names: ['app.example.test'] }),
};

let dir: string;
let echo: Echo;
let gh: TlsHarness;
const seen: GateRequest[] = [];
const recordingGate: AccessGate = {
  identify(req) {
    seen.push(req);
    return ALICE;
  },
  refuse: () => ({ kind: 'respond', status: 403 }),
};
/** Routes that ask who is calling on every request, so the gate sees each one. */
const anyone = { public: false, allow: [{ kind: 'any' as const }], deny: [], bypass: [], corsPreflight: false };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gh-tls-listener-'));
  await writePair(dir, 'example.crt', 'example.key', pairs.example);
  await writePair(dir, 'wild/fullchain.pem', 'wild/privkey.pem', pairs.wild);
  await writePair(dir, 'certs/app.example.test.crt', 'private/app.example.test.key', pairs.app);
  echo = await startEcho();
  gh = await startTlsProxy({
    table: table(spec({ origin: echo.origin, hosts: ['app.example.test', 'wiki.example.test'], policy: anyone })),
    gate: recordingGate,
    env: { GATEHOUSE_TLS_DIR: dir, GATEHOUSE_TLS_DEFAULT_CERT: 'example' },
  });
});

afterAll(async () => {
  await gh?.close();
  await echo?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('HTTPS listener: certificate per handshake (SNI)', () => {
  it('presents the exact-name certificate, verified by a client that trusts the CA', async () => {
    const got = await handshake(gh.httpsPort, 'app.example.test', ca.certPem);
    expect(got.fingerprint256).toBe(pairs.app.fingerprint256);
    expect(got.authorized).toBe(true);
  });

  it('presents the wildcard for a name with no exact certificate, one label deep only', async () => {
    const wiki = await handshake(gh.httpsPort, 'wiki.example.test', ca.certPem);
    expect(wiki.fingerprint256).toBe(pairs.wild.fingerprint256);
    expect(wiki.authorized).toBe(true);
    expect((await handshake(gh.httpsPort, 'a.b.example.test')).fingerprint256).toBe(pairs.example.fingerprint256);
  });

  it('presents the configured default for unknown names and for clients that send no name', async () => {
    expect((await handshake(gh.httpsPort, 'unknown.test')).fingerprint256).toBe(pairs.example.fingerprint256);
    expect((await handshake(gh.httpsPort)).fingerprint256).toBe(pairs.example.fingerprint256);
  });
});

describe('HTTPS listener: HTTP/2 and HTTP/1.1', () => {
  it('negotiates h2 through ALPN and forwards to the real upstream with the Host the user addressed', async () => {
    const session = await h2Connect(gh.httpsPort, 'app.example.test', ca.certPem);
    try {
      expect(session.alpnProtocol).toBe('h2');
      const authority = `app.example.test:${gh.httpsPort}`;
      const res = await h2Request(session, { ':path': '/h2/path?x=1', ':authority': authority, 'x-client': 'yes' });
      expect(res.status).toBe(200);
      expect(res.headers['x-request-id']).toBeTruthy();
      // HTTP/2 responses carry no connection-level headers.
      expect(res.headers.connection).toBeUndefined();
      const got = echoed(res);
      expect(got.url).toBe('/h2/path?x=1');
      expect(rawHeaderValues(got, 'host')).toEqual([authority]);
      expect(rawHeaderValues(got, 'x-forwarded-proto')).toEqual(['https']);
      expect(rawHeaderValues(got, 'x-forwarded-host')).toEqual([authority]);
      expect(rawHeaderValues(got, 'x-client')).toEqual(['yes']);
      expect(got.rawHeaders.filter((_, i) => i % 2 === 0 && got.rawHeaders[i]?.startsWith(':'))).toEqual([]);
      expect(seen.at(-1)).toMatchObject({ scheme: 'https', host: 'app.example.test', hostHeader: authority, path: '/h2/path', query: '?x=1' });
    } finally {
      session.close();
    }
  });

  it('streams an HTTP/2 request body that has no Content-Length to the upstream', async () => {
    const session = await h2Connect(gh.httpsPort, 'app.example.test', ca.certPem);
    try {
      const body = 'x'.repeat(100_000);
      const res = await h2Request(session, { ':method': 'POST', ':path': '/upload', ':authority': 'app.example.test' }, body);
      expect(res.status).toBe(200);
      const got = echoed(res);
      expect(got.bodyBytes).toBe(body.length);
      expect(got.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    } finally {
      session.close();
    }
  });

  it('answers Gatehouse pages over h2 and refuses an :authority that disagrees with Host', async () => {
    const session = await h2Connect(gh.httpsPort, 'app.example.test', ca.certPem);
    try {
      const missing = await h2Request(session, { ':path': '/', ':authority': 'nothing.example.test', accept: 'application/json' });
      expect(missing.status).toBe(404);
      expect(missing.headers.connection).toBeUndefined();
      const ambiguous = await h2Request(session, { ':path': '/', ':authority': 'app.example.test', host: 'wiki.example.test', accept: 'application/json' });
      expect(ambiguous.status).toBe(400);
      expect(ambiguous.body).toContain(':authority and Host');
      // A refused request with a body: the stream ends, the session stays usable.
      const refused = await h2Request(session, { ':method': 'POST', ':path': '/', ':authority': 'nothing.example.test' }, 'data');
      expect(refused.status).toBe(404);
      expect((await h2Request(session, { ':path': '/again', ':authority': 'app.example.test' })).status).toBe(200);
    } finally {
      session.close();
    }
  });

  it('keeps HTTP/1.1 for clients that ask for it or send no ALPN at all', async () => {
    for (const alpn of [['http/1.1'], undefined]) {
      const res = await httpsRequest(gh.httpsPort, 'app.example.test', '/h1', { ca: ca.certPem, ...(alpn ? { alpn } : {}) });
      expect(res.status).toBe(200);
      expect(res.httpVersion).toBe('1.1');
      expect(rawHeaderValues(echoed(res), 'x-forwarded-proto')).toEqual(['https']);
      expect(seen.at(-1)?.scheme).toBe('https');
    }
    expect((await handshake(gh.httpsPort, 'app.example.test', undefined, ['http/1.1'])).alpn).toBe('http/1.1');
  });

  it('relays websockets over TLS through the HTTP/1.1 upgrade', async () => {
    const wsEcho = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => wsEcho.once('listening', resolve));
    wsEcho.on('connection', (socket, req) => socket.on('message', (data) => socket.send(`${req.headers.host} ${req.headers['x-forwarded-proto']} ${String(data)}`)));
    const wsPort = (wsEcho.address() as { port: number }).port;
    const ws2 = await startTlsProxy({
      table: table(spec({ origin: `http://127.0.0.1:${wsPort}`, hosts: ['app.example.test'] })),
      env: { GATEHOUSE_TLS_DIR: dir },
    });
    try {
      // ws passes TLS options through to tls.connect; its types just do not list servername.
      const tlsOptions = { servername: 'app.example.test', ca: ca.certPem } as WebSocket.ClientOptions;
      const ws = new WebSocket(`wss://127.0.0.1:${ws2.httpsPort}/socket`, { ...tlsOptions, headers: { host: 'app.example.test' } });
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const reply = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
      ws.send('hello');
      expect(await reply).toBe('app.example.test https hello');
      ws.close();
    } finally {
      await ws2.close();
      for (const client of wsEcho.clients) client.terminate();
      await new Promise((resolve) => wsEcho.close(resolve));
    }
  });

  it('shuts down promptly with idle HTTP/2 sessions and idle HTTP/1.1 keep-alive connections open', async () => {
    const local = await startTlsProxy({ table: table(spec({ origin: echo.origin, hosts: ['app.example.test'] })), env: { GATEHOUSE_TLS_DIR: dir, GATEHOUSE_SHUTDOWN_GRACE: '10s' } });
    const session = await h2Connect(local.httpsPort, 'app.example.test', ca.certPem);
    expect((await h2Request(session, { ':path': '/', ':authority': 'app.example.test' })).status).toBe(200);
    const sessionClosed = new Promise<void>((resolve) => session.once('close', resolve));
    const agent = new https.Agent({ keepAlive: true, ca: ca.certPem, servername: 'app.example.test' });
    const keptAlive = await new Promise<Socket>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: local.httpsPort, path: '/', agent, headers: { host: 'app.example.test' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(req.socket as Socket));
      });
      req.on('error', reject);
      req.end();
    });
    const socketClosed = new Promise<void>((resolve) => keptAlive.once('close', () => resolve()));
    const started = Date.now();
    await local.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    await Promise.all([sessionClosed, socketClosed]);
    agent.destroy();
  });
});
