import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../../helpers/http.ts';
import { gateFor } from '../../helpers/gates.ts';
import { echoed, rawGet, rawHeaderValues, rawRequest, spec, startEcho, startProxy, table, type Echo, type Harness } from './support.ts';

/** Everyone is alice, the way the identity layer would say it. */
const aliceGate = gateFor();
const ALICE_HEADERS = [
  'x-iap-email: alice@corp.example',
  'x-iap-groups: ',
  'x-iap-jwt-assertion: jwt.for.alice',
  'x-iap-name: ',
  'x-iap-user: alice',
];

function iapHeaders(rawHeaders: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const folded = (rawHeaders[i] as string).toLowerCase().replace(/[_.]/g, '-');
    if (folded.startsWith('x-iap-')) out.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
  }
  return out;
}

describe('proxy: client identity headers never reach the upstream', () => {
  let echo: Echo;
  let publicProxy: Harness;
  let signedIn: Harness;

  beforeAll(async () => {
    echo = await startEcho();
    publicProxy = await startProxy({ table: table(spec({ origin: echo.origin })) });
    signedIn = await startProxy({
      table: table(spec({ origin: echo.origin, identity: 'headers', policy: { public: false, allow: [{ kind: 'any' }], deny: [], bypass: [], corsPreflight: false } })),
      gate: aliceGate,
    });
  });
  afterAll(async () => {
    await publicProxy.close();
    await signedIn.close();
    await echo.close();
  });

  const spoofs = [
    ['X-Iap-User: mallory'],
    ['x-iap-user: mallory'],
    ['X_IAP_USER: mallory'],
    ['X.Iap.User: mallory'],
    ['x-iap_email: mallory@evil.example'],
    ['X-IAP-Groups: admins', 'x-iap-groups: admins'],
    ['X-Iap-User: one', 'X-Iap-User: two', 'X_Iap_User: three'],
    ['X-Iap-Jwt-Assertion: forged.jwt.value'],
  ];

  for (const lines of spoofs) {
    it(`strips ${lines.join(' + ')} on a public route`, async () => {
      const res = await rawGet(publicProxy.port, '/', lines);
      expect(res.status).toBe(200);
      expect(iapHeaders(echoed(res).rawHeaders)).toEqual([]);
    });

    it(`replaces ${lines.join(' + ')} with exactly the gate's values`, async () => {
      const got = echoed(await rawGet(signedIn.port, '/', lines));
      expect(rawHeaderValues(got, 'x-iap-user')).toEqual(['alice']);
      expect(rawHeaderValues(got, 'x-iap-email')).toEqual(['alice@corp.example']);
      expect(iapHeaders(got.rawHeaders).sort()).toEqual(ALICE_HEADERS);
    });
  }

  it('keeps the gate headers when the client names them (and X-Forwarded-For, Host) in Connection', async () => {
    const got = echoed(
      await rawGet(signedIn.port, '/', [
        'Connection: close, X-Forwarded-For, X-Iap-User, x-iap-email, Host, X-Real-IP',
        'X-Iap-User: mallory',
      ]),
    );
    expect(rawHeaderValues(got, 'x-iap-user')).toEqual(['alice']);
    expect(rawHeaderValues(got, 'x-iap-email')).toEqual(['alice@corp.example']);
    expect(rawHeaderValues(got, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(rawHeaderValues(got, 'x-real-ip')).toEqual(['127.0.0.1']);
    expect(rawHeaderValues(got, 'host')).toEqual(['app.test']);
    expect(rawHeaderValues(got, 'connection')).not.toContain('close, X-Forwarded-For, X-Iap-User, x-iap-email, Host, X-Real-IP');
  });

  it('handles odd-case Connection tokens with extra whitespace the same way', async () => {
    const got = echoed(await rawGet(signedIn.port, '/', ['connection:  close ,X-IAP-USER ,  x-forwarded-proto ', 'X-App: kept']));
    expect(rawHeaderValues(got, 'x-iap-user')).toEqual(['alice']);
    expect(rawHeaderValues(got, 'x-forwarded-proto')).toEqual(['http']);
    expect(rawHeaderValues(got, 'x-app')).toEqual(['kept']);
  });

  it('drops hop-by-hop headers and whatever the client lists in Connection', async () => {
    const got = echoed(
      await rawGet(publicProxy.port, '/', [
        'Connection: close, X-Secret-Hop',
        'X-Secret-Hop: hidden',
        'Keep-Alive: timeout=5',
        'Proxy-Connection: keep-alive',
        'TE: gzip',
        'Trailer: X-Foo',
        'Upgrade: h2c',
        'Proxy-Authorization: Basic Zm9vOmJhcg==',
        'Proxy: http://evil.example',
        'X-Original-URL: /admin',
        'X-Rewrite-URL: /admin',
        'X-Kept: yes',
      ]),
    );
    for (const name of ['x-secret-hop', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy', 'x-original-url', 'x-rewrite-url']) {
      expect(rawHeaderValues(got, name), name).toEqual([]);
    }
    expect(rawHeaderValues(got, 'x-kept')).toEqual(['yes']);
  });
});

describe('proxy: X-Forwarded-* from untrusted and trusted peers', () => {
  let echo: Echo;
  let untrusted: Harness;
  let trusted: Harness;

  beforeAll(async () => {
    echo = await startEcho();
    const routes = table(spec({ origin: echo.origin }), spec({ name: 'admin', origin: echo.origin, hosts: ['admin.test'] }));
    untrusted = await startProxy({ table: routes });
    trusted = await startProxy({ table: routes, env: { GATEHOUSE_TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1' } });
  });
  afterAll(async () => {
    await untrusted.close();
    await trusted.close();
    await echo.close();
  });

  const spoofed = [
    'X-Forwarded-For: 6.6.6.6',
    'X-Forwarded-Proto: https',
    'X-Forwarded-Host: admin.test',
    'X-Forwarded-Port: 443',
    'X-Forwarded-Prefix: /public',
    'X-Forwarded-Uri: /public',
    'X_Forwarded_Host: evil.test',
    'X.Forwarded.For: 7.7.7.7',
    'X-Real-IP: 6.6.6.6',
    'Forwarded: for=6.6.6.6;proto=https',
    'X-Request-Id: chosen-by-client',
  ];

  it('overwrites everything a direct client claims, and routes by the real Host', async () => {
    const res = await rawGet(untrusted.port, '/', spoofed);
    const got = echoed(res);
    expect(rawHeaderValues(got, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(rawHeaderValues(got, 'x-forwarded-proto')).toEqual(['http']);
    expect(rawHeaderValues(got, 'x-forwarded-host')).toEqual(['app.test']);
    expect(rawHeaderValues(got, 'x-forwarded-port')).toEqual(['80']);
    expect(rawHeaderValues(got, 'x-real-ip')).toEqual(['127.0.0.1']);
    for (const name of ['x-forwarded-prefix', 'x-forwarded-uri', 'x_forwarded_host', 'x.forwarded.for', 'forwarded']) {
      expect(rawHeaderValues(got, name), name).toEqual([]);
    }
    expect(res.headers['x-request-id']).not.toBe('chosen-by-client');
    // Host decided the route: the spoofed X-Forwarded-Host did not pick admin.test.
    expect(rawHeaderValues(got, 'host')).toEqual(['app.test']);
  });

  it('extends the chain and keeps the proxy-set values from a trusted peer', async () => {
    const res = await rawGet(trusted.port, '/', spoofed);
    const got = echoed(res);
    expect(rawHeaderValues(got, 'x-forwarded-for')).toEqual(['6.6.6.6, 127.0.0.1']);
    expect(rawHeaderValues(got, 'x-forwarded-proto')).toEqual(['https']);
    expect(rawHeaderValues(got, 'x-forwarded-host')).toEqual(['admin.test']);
    expect(rawHeaderValues(got, 'x-forwarded-port')).toEqual(['443']);
    expect(rawHeaderValues(got, 'x-forwarded-prefix')).toEqual(['/public']);
    expect(rawHeaderValues(got, 'forwarded')).toEqual(['for=6.6.6.6;proto=https']);
    // Only canonical names are trusted; aliases and arbitrary x-forwarded-* never are.
    for (const name of ['x-forwarded-uri', 'x_forwarded_host', 'x.forwarded.for']) expect(rawHeaderValues(got, name), name).toEqual([]);
    expect(rawHeaderValues(got, 'x-real-ip')).toEqual(['6.6.6.6']);
    expect(res.headers['x-request-id']).toBe('chosen-by-client');
    expect(rawHeaderValues(got, 'host')).toEqual(['app.test']);
  });

  it('takes the rightmost untrusted hop as the client', async () => {
    const got = echoed(await rawGet(trusted.port, '/', ['X-Forwarded-For: 6.6.6.6, 203.0.113.9, 10.1.2.3']));
    expect(rawHeaderValues(got, 'x-real-ip')).toEqual(['203.0.113.9']);
    expect(rawHeaderValues(got, 'x-forwarded-for')).toEqual(['6.6.6.6, 203.0.113.9, 10.1.2.3, 127.0.0.1']);
  });
});

describe('proxy: route header settings', () => {
  let echo: Echo;
  let gh: Harness;
  let secretsDir: string;

  beforeAll(async () => {
    echo = await startEcho();
    secretsDir = await mkdtemp(join(tmpdir(), 'gatehouse-secrets-'));
    await writeFile(join(secretsDir, 'api_key'), 's3cr3t-value\n');
    gh = await startProxy({
      secretsDir,
      table: table(
        spec({
          origin: echo.origin,
          removeHeaders: ['x-debug', 'cookie'],
          setHeaders: { 'X-Static': 'hello', 'X-Api-Key': 'secret:api_key', 'X-User-Email': '{email}' },
        }),
        spec({ name: 'missing', hosts: ['missing.test'], origin: echo.origin, setHeaders: { 'X-Api-Key': 'secret:nope' } }),
      ),
    });
  });
  afterAll(async () => {
    await gh.close();
    await echo.close();
    await rm(secretsDir, { recursive: true, force: true });
  });

  it('removes route remove_headers (aliases too) and sets literal and secret: values, skipping identity templates', async () => {
    const got = echoed(await rawGet(gh.port, '/', ['X-Debug: 1', 'X_Debug: 2', 'Cookie: a=b', 'X-Static: client', 'X-User-Email: mallory']));
    expect(rawHeaderValues(got, 'x-debug')).toEqual([]);
    expect(rawHeaderValues(got, 'x_debug')).toEqual([]);
    expect(rawHeaderValues(got, 'cookie')).toEqual([]);
    expect(rawHeaderValues(got, 'x-static')).toEqual(['hello']);
    expect(rawHeaderValues(got, 'x-api-key')).toEqual(['s3cr3t-value']);
    // Nobody is signed in on a public route: the identity template is left out, and the client's copy is not passed on.
    expect(rawHeaderValues(got, 'x-user-email')).toEqual([]);
  });

  it('refuses a request whose route needs a secret that cannot be read, without forwarding it', async () => {
    const before = echo.received.length;
    const res = await http(gh.port, 'missing.test', '/');
    expect(res.status).toBe(500);
    expect(res.body).not.toContain('nope');
    expect(echo.received.length).toBe(before);
  });

  it('sends no client Proxy-Authorization and no duplicate Host on a raw request', async () => {
    const got = echoed(await rawRequest(gh.port, 'GET / HTTP/1.1\r\nHost: app.test\r\nProxy-Authorization: Basic eA==\r\nConnection: close\r\n\r\n'));
    expect(rawHeaderValues(got, 'host')).toEqual(['app.test']);
    expect(rawHeaderValues(got, 'proxy-authorization')).toEqual([]);
  });
});
