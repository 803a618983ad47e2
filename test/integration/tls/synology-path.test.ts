import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { stringify } from 'yaml';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { CookieJar, loopbackFetch, signInViaHttp } from '../../helpers/http-sign-in.ts';
import { http, waitFor } from '../../helpers/http.ts';
import { startTestProvider, type TestProvider, type TestUser } from '../../helpers/oidc-provider.ts';
import { createTestCa } from '../../helpers/test-ca.ts';
import { startDsmProxy, type DsmProxy } from './dsm-proxy.ts';
import { writePair } from './support.ts';

/**
 * The two deployments from start to finish, with a real OpenID Provider and a real sign-in:
 * (1) Synology DSM terminates TLS and forwards plain HTTP to Gatehouse, which trusts it;
 * (2) Gatehouse terminates TLS itself with certificates from a folder.
 * In both the user only ever sees https, cookies are Secure, and the app learns the scheme.
 */
const CLIENT_ID = 'gatehouse-tls';
const CLIENT_SECRET = 'client-secret-for-the-tls-tests-0123456789';
const alice: TestUser = { sub: 'u-alice', email: 'alice@example.test', name: 'Alice', groups: ['staff'], password: 'alice-pw' };
const ca = createTestCa();
const wildcard = ca.issue({ names: ['*.nas.test'] });

interface Upstream {
  origin: string;
  received: Array<{ url: string; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

async function startUpstream(): Promise<Upstream> {
  const received: Upstream['received'] = [];
  const server: Server = createServer((req, res) => {
    received.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<h1>app</h1><p>${req.headers['x-forwarded-proto']}</p>`);
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket, req) => socket.on('message', (data) => socket.send(`${req.headers['x-forwarded-proto']}:${String(data)}`)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function websocketRoundTrip(url: string, host: string, cookie: string): Promise<string> {
  // ws passes TLS options through to tls.connect; its types just do not list servername.
  const tlsOptions = { servername: host.replace(/:\d+$/, ''), ca: ca.certPem } as WebSocket.ClientOptions;
  const ws = new WebSocket(url, { ...tlsOptions, headers: { host, cookie } });
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`websocket refused: ${res.statusCode}`)));
    });
    const reply = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    ws.send('ping');
    return await reply;
  } finally {
    ws.close();
  }
}

/** A plain HTTP request from a chosen loopback address (127.0.0.2 is "another machine" here). */
function requestFrom(localAddress: string, port: number, host: string, path: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, localAddress, headers: { host, ...headers }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

function sessionCookies(jar: CookieJar, domain: string): Array<{ name: string; secure: boolean }> {
  return jar
    .all()
    .filter((c) => c.domain === domain && c.name.endsWith('gatehouse_session'))
    .map((c) => ({ name: c.name, secure: c.secure }));
}

/** Gatehouse cookies that are not Secure, except the sign-in loop counter, which never is (by design). */
function plainCookies(jar: CookieJar): string[] {
  return jar
    .all()
    .filter((c) => c.domain.endsWith('nas.test') && !c.secure && c.name !== 'gatehouse_loop')
    .map((c) => `${c.domain} ${c.name}`);
}

function cookieHeader(jar: CookieJar, url: string): string {
  return jar.header(new URL(url)) ?? '';
}

async function provider(authUrl: string): Promise<TestProvider> {
  return startTestProvider({
    users: [alice],
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [`${authUrl}/oauth2/callback`], postLogoutRedirectUris: [`${authUrl}/oauth2/signed_out`] }],
  });
}

async function writeRoutes(dir: string, origin: string): Promise<string> {
  const file = join(dir, 'routes.yml');
  await writeFile(
    file,
    stringify({
      routes: [
        { from: 'https://app.nas.test', to: origin, allow: '*' },
        { from: 'http://plain.nas.test', to: origin, allow: '*' },
      ],
    }),
  );
  return file;
}

describe('Synology: DSM terminates TLS, Gatehouse trusts it', () => {
  let dir: string;
  let upstream: Upstream;
  let op: TestProvider;
  let dsm: DsmProxy;
  let gh: TestGatehouse;
  let ghPort = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-dsm-'));
    upstream = await startUpstream();
    // Router 443 → DSM: the port users see is DSM's. Gatehouse's own port stays internal.
    dsm = await startDsmProxy({ cert: wildcard.certPem, key: wildcard.keyPem, target: () => ghPort, websocketHeaders: true });
    const authUrl = `https://auth.nas.test:${dsm.port}`;
    op = await provider(authUrl);
    gh = await startTestGatehouse({
      GATEHOUSE_CONFIG: await writeRoutes(dir, upstream.origin),
      GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1/32',
      GATEHOUSE_AUTH_URL: authUrl,
      GATEHOUSE_OIDC_ISSUER: op.issuer,
      GATEHOUSE_OIDC_CLIENT_ID: CLIENT_ID,
      GATEHOUSE_OIDC_CLIENT_SECRET: CLIENT_SECRET,
      GATEHOUSE_SECRET: randomBytes(32).toString('base64url'),
      GATEHOUSE_DATA_DIR: join(dir, 'data'),
    });
    ghPort = gh.proxyPort;
    await waitFor(async () => ((await http(ghPort, 'app.nas.test', '/')).status === 404 ? undefined : true), 'the routes file to be served');
  });
  afterAll(async () => {
    await gh?.stop();
    await dsm?.close();
    await op?.close();
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('signs in over https only, with Secure cookies, and the app sees https', async () => {
    const start = `https://app.nas.test:${dsm.port}/wiki?page=1`;
    const jar = new CookieJar();
    const result = await signInViaHttp(start, alice.email, alice.password, jar, { ca: ca.certPem });
    expect(result.response.status).toBe(200);
    expect(result.url.href).toBe(start);
    expect(result.body).toContain('<h1>app</h1>');
    // Every address Gatehouse sent the browser to was https on the port DSM listens on.
    const gatehouseHops = result.visited.filter((url) => url.hostname.endsWith('.nas.test'));
    expect(gatehouseHops.length).toBeGreaterThan(2);
    for (const url of gatehouseHops) expect(`${url.protocol}//${url.port}`).toBe(`https://${dsm.port}`);
    expect(sessionCookies(jar, 'app.nas.test')).toEqual([{ name: '__Host-gatehouse_session', secure: true }]);
    expect(sessionCookies(jar, 'auth.nas.test')).toEqual([{ name: '__Host-gatehouse_session', secure: true }]);
    expect(plainCookies(jar)).toEqual([]);
    const seen = upstream.received.at(-1);
    expect(seen?.url).toBe('/wiki?page=1');
    expect(seen?.headers['x-forwarded-proto']).toBe('https');
    expect(seen?.headers.host).toBe(`app.nas.test:${dsm.port}`);
  });

  it('gives Secure cookies on a route published as http when the user sees https through DSM', async () => {
    const start = `https://plain.nas.test:${dsm.port}/notes`;
    const jar = new CookieJar();
    const result = await signInViaHttp(start, alice.email, alice.password, jar, { ca: ca.certPem });
    expect(result.response.status).toBe(200);
    expect(result.url.href).toBe(start);
    expect(sessionCookies(jar, 'plain.nas.test')).toEqual([{ name: '__Host-gatehouse_session', secure: true }]);
    expect(plainCookies(jar)).toEqual([]);
  });

  it('carries websockets through DSM (with its WebSocket custom headers) and Gatehouse', async () => {
    const jar = new CookieJar();
    await signInViaHttp(`https://app.nas.test:${dsm.port}/`, alice.email, alice.password, jar, { ca: ca.certPem });
    const cookie = cookieHeader(jar, `https://app.nas.test:${dsm.port}/`);
    expect(await websocketRoundTrip(`wss://127.0.0.1:${dsm.port}/socket`, `app.nas.test:${dsm.port}`, cookie)).toBe('https:ping');
  });

  it('believes X-Forwarded-Proto only from DSM: the same header from another address is ignored', async () => {
    const start = async (localAddress: string) => {
      const res = await requestFrom(localAddress, ghPort, 'plain.nas.test', '/page', { accept: 'text/html', 'x-forwarded-proto': 'https' });
      expect(res.status).toBe(302);
      return new URL(String(res.headers.location)).searchParams.get('rd');
    };
    // The route is published as http; what the user sees decides where sign-in returns to.
    expect(await start('127.0.0.1')).toBe('https://plain.nas.test/page');
    expect(await start('127.0.0.2')).toBe('http://plain.nas.test/page');
  });
});

describe('Gatehouse terminates TLS itself (certificate folder)', () => {
  let dir: string;
  let upstream: Upstream;
  let op: TestProvider;
  let gh: TestGatehouse;
  let httpsPort: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-direct-tls-'));
    await writePair(join(dir, 'certs'), 'nas.crt', 'nas.key', wildcard);
    // A second certificate that renewal has been failing for: 10 days left.
    await writePair(join(dir, 'certs'), 'soon.crt', 'soon.key', ca.issue({ names: ['soon.nas.test'], notAfter: new Date(Date.now() + 10.5 * 86_400_000) }));
    upstream = await startUpstream();
    httpsPort = await freePort();
    const authUrl = `https://auth.nas.test:${httpsPort}`;
    op = await provider(authUrl);
    gh = await startTestGatehouse({
      GATEHOUSE_HTTPS_LISTEN: `127.0.0.1:${httpsPort}`,
      GATEHOUSE_HTTPS_PUBLIC_PORT: String(httpsPort),
      GATEHOUSE_TLS_DIR: join(dir, 'certs'),
      GATEHOUSE_TLS_DEFAULT_CERT: 'nas',
      GATEHOUSE_CONFIG: await writeRoutes(dir, upstream.origin),
      GATEHOUSE_AUTH_URL: authUrl,
      GATEHOUSE_OIDC_ISSUER: op.issuer,
      GATEHOUSE_OIDC_CLIENT_ID: CLIENT_ID,
      GATEHOUSE_OIDC_CLIENT_SECRET: CLIENT_SECRET,
      GATEHOUSE_SECRET: randomBytes(32).toString('base64url'),
      GATEHOUSE_DATA_DIR: join(dir, 'data'),
    });
    expect(gh.httpsPort).toBe(httpsPort);
    await waitFor(async () => ((await loopbackFetch(`https://app.nas.test:${httpsPort}/`, { ca: ca.certPem })).status === 404 ? undefined : true), 'the routes file');
  });
  afterAll(async () => {
    await gh?.stop();
    await op?.close();
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends a plain-http visit to https and signs in there, with Secure cookies', async () => {
    const jar = new CookieJar();
    const result = await signInViaHttp(`http://app.nas.test:${gh.proxyPort}/start`, alice.email, alice.password, jar, { ca: ca.certPem });
    expect(result.response.status).toBe(200);
    expect(result.url.href).toBe(`https://app.nas.test:${httpsPort}/start`);
    expect(result.visited[1]?.href).toBe(`https://app.nas.test:${httpsPort}/start`);
    expect(sessionCookies(jar, 'app.nas.test')).toEqual([{ name: '__Host-gatehouse_session', secure: true }]);
    expect(plainCookies(jar)).toEqual([]);
    expect(upstream.received.at(-1)?.headers['x-forwarded-proto']).toBe('https');
    const cookie = cookieHeader(jar, `https://app.nas.test:${httpsPort}/`);
    expect(await websocketRoundTrip(`wss://127.0.0.1:${httpsPort}/socket`, `app.nas.test:${httpsPort}`, cookie)).toBe('https:ping');
  });

  it('lists the certificates on /readyz and in /metrics, and warns about the one close to expiry', async () => {
    const ready = await loopbackFetch(`http://127.0.0.1:${gh.adminPort}/readyz`);
    const body = (await ready.json()) as { ready: boolean; tls: { certificates: Array<{ names: string[]; daysLeft: number; default: boolean; notAfter: string }> } };
    expect(body.ready).toBe(true);
    const byName = Object.fromEntries(body.tls.certificates.map((c) => [c.names.join(','), c]));
    expect(byName['*.nas.test']).toMatchObject({ default: true, daysLeft: 89 });
    expect(byName['soon.nas.test']).toMatchObject({ default: false, daysLeft: 10 });
    const metrics = await (await loopbackFetch(`http://127.0.0.1:${gh.adminPort}/metrics`)).text();
    expect(metrics).toMatch(/gatehouse_tls_certificate_days_left\{source="dir:soon\.crt",names="soon\.nas\.test"\} 10/);
    expect(metrics).toMatch(/gatehouse_tls_certificate_expiry_timestamp_seconds\{source="dir:nas\.crt",names="\*\.nas\.test"\} \d{10}/);
    const warning = gh.logs.find((line) => String(line.msg).startsWith('certificate for soon.nas.test expires in 10 days'));
    expect(warning).toMatchObject({ level: 40, daysLeft: 10, names: ['soon.nas.test'] });
    expect(gh.logs.some((line) => String(line.msg).startsWith('certificate for *.nas.test expires'))).toBe(false);
  });
});
