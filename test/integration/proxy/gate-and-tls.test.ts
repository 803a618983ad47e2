import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { http } from '../../helpers/http.ts';
import type { AccessGate, GateRequest, GateResponse } from '../../../src/proxy/index.ts';
import { ALICE } from '../../helpers/gates.ts';
import { echoed, rawHeaderValues, spec, startEcho, startProxy, table, type Echo, type Harness } from './support.ts';

describe('proxy: the access gate seam', () => {
  let echo: Echo;
  let gh: Harness;
  const seen: GateRequest[] = [];

  const gate: AccessGate = {
    ownEndpoint(req) {
      if (req.path.startsWith('/.iap/') || req.host === 'auth.test') {
        return { kind: 'respond', status: 200, headers: { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] }, body: `special ${req.host}${req.path}` };
      }
      return null;
    },
    async identify(req) {
      seen.push(req);
      return req.path === '/app/login-required' ? null : ALICE;
    },
    refuse: (): GateResponse => ({ kind: 'respond', status: 302, headers: { location: 'https://auth.test/start' } }),
  };
  const signedInOnly = { public: false, allow: [{ kind: 'any' as const }], deny: [], bypass: [], corsPreflight: false };

  beforeAll(async () => {
    echo = await startEcho();
    gh = await startProxy({ table: table(spec({ origin: echo.origin, path: '/app', stripPath: true, identity: 'headers', policy: signedInOnly })), gate });
  });
  afterAll(async () => {
    await gh.close();
    await echo.close();
  });

  it('lets the gate answer its own paths on route hosts and on hosts that are not routes', async () => {
    const own = await http(gh.port, 'app.test', '/.iap/userinfo');
    expect(own.body).toBe('special app.test/.iap/userinfo');
    expect(own.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(own.headers['x-request-id']).toBeTruthy();
    expect((await http(gh.port, 'Auth.Test:8443', '/callback?code=1')).body).toBe('special auth.test/callback');
    // Traversal out of the reserved prefix is resolved before anyone looks at it.
    expect((await http(gh.port, 'app.test', '/.iap/../app/x')).body).not.toContain('special');
  });

  it('hands the gate one normalised description of the request, the same one that is forwarded', async () => {
    const res = await http(gh.port, 'App.Test:8080', '/app/%7euser/./x?b=2&a=1', { method: 'POST', body: 'x' });
    const req = seen.at(-1) as GateRequest;
    expect(req).toMatchObject({
      method: 'POST',
      host: 'app.test',
      hostHeader: 'App.Test:8080',
      scheme: 'http',
      path: '/app/~user/x',
      query: '?b=2&a=1',
      remoteAddress: '127.0.0.1',
      isUpgrade: false,
      requestId: res.headers['x-request-id'],
    });
    expect(echoed(res).url).toBe('/~user/x?b=2&a=1');
  });

  it("forwards the caller the gate named, with Gatehouse's cookies taken out; sends its refusals as they are", async () => {
    const got = echoed(await http(gh.port, 'app.test', '/app/', { headers: { cookie: '__Host-gatehouse_session=secret; app=1' } }));
    expect(rawHeaderValues(got, 'cookie')).toEqual(['app=1']);
    expect(rawHeaderValues(got, 'x-iap-user')).toEqual(['alice']);
    expect(rawHeaderValues(got, 'x-iap-jwt-assertion')).toEqual(['jwt.for.alice']);
    const before = echo.received.length;
    const redirect = await http(gh.port, 'app.test', '/app/login-required');
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe('https://auth.test/start');
    expect(redirect.headers['x-request-id']).toBeTruthy();
    expect(echo.received.length).toBe(before);
  });
});

describe('proxy: connections', () => {
  let echo: Echo;
  let gh: Harness;

  beforeAll(async () => {
    echo = await startEcho();
    gh = await startProxy({ table: table(spec({ origin: echo.origin })) });
  });
  afterAll(async () => {
    await gh.close();
    await echo.close();
  });

  it('keeps client connections alive across requests, including after an error page', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ports = new Set<number>();
    try {
      for (const host of ['app.test', 'nowhere.test', 'app.test']) {
        await new Promise<void>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port: gh.port, path: '/', headers: { host }, agent }, (res) => {
            ports.add(req.socket?.localPort ?? -1);
            res.resume();
            res.on('end', resolve);
          });
          req.on('error', reject);
          req.end();
        });
      }
    } finally {
      agent.destroy();
    }
    expect(ports.size).toBe(1);
  });

  it('answers Expect: 100-continue itself and streams the body after it', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: gh.port, method: 'POST', path: '/', headers: { host: 'app.test', expect: '100-continue', 'content-length': '4' }, agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('continue', () => req.end('data'));
      req.on('error', reject);
    });
    const got = JSON.parse(body) as { bodyBytes: number; headers: Record<string, string> };
    expect(got.bodyBytes).toBe(4);
    expect(got.headers.expect).toBeUndefined();
  });
});

describe('proxy: TLS upstreams', () => {
  let dir: string;
  let upstream: HttpsServer;
  let wss: WebSocketServer;
  let gh: Harness;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    upstream = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => res.end('secure hello'));
    wss = new WebSocketServer({ server: upstream });
    wss.on('connection', (socket) => socket.on('message', (data) => socket.send(data)));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const origin = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gh = await startProxy({
      table: table(
        spec({ name: 'verify', hosts: ['verify.test'], origin }),
        spec({ name: 'skip', hosts: ['skip.test'], origin, tlsSkipVerify: true }),
      ),
    });
  });
  afterAll(async () => {
    await gh.close();
    for (const client of wss.clients) client.terminate();
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies upstream certificates by default (502 for a self-signed one)', async () => {
    expect((await http(gh.port, 'verify.test', '/')).status).toBe(502);
    const warning = gh.logLines().find((l) => l.route === 'container:verify/default' && String(l.msg).startsWith('upstream request failed'));
    expect(String(warning?.codes)).toMatch(/SELF_SIGNED|DEPTH_ZERO/);
  });

  it('accepts a self-signed upstream with tls_skip_verify, for HTTP and websockets', async () => {
    const res = await http(gh.port, 'skip.test', '/');
    expect(res.status).toBe(200);
    expect(res.body).toBe('secure hello');
    const ws = new WebSocket(`ws://127.0.0.1:${gh.port}/`, { headers: { host: 'skip.test' } });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const reply = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    ws.send('over tls');
    expect(await reply).toBe('over tls');
    ws.close();
  });
});
