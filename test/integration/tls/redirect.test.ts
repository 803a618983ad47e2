import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../../helpers/http.ts';
import { createTestCa } from '../../helpers/test-ca.ts';
import { echoed, rawGet, spec, startEcho, table, type Echo } from '../proxy/support.ts';
import { httpsRequest, startTlsProxy, writePair, type TlsHarness } from './support.ts';

/** With TLS on, the plain listener sends users to https, except where it must not. */
const ca = createTestCa();
let dir: string;
let echo: Echo;
const routes = () =>
  table(
    spec({ origin: echo.origin, hosts: ['app.test'] }),
    spec({ name: 'acme', origin: echo.origin, hosts: ['app.test'], path: '/.well-known/acme-challenge' }),
  );

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gh-tls-redirect-'));
  await writePair(dir, 'app.crt', 'app.key', ca.issue({ names: ['app.test', 'other.test'] }));
  echo = await startEcho();
});
afterAll(async () => {
  await echo.close();
  await rm(dir, { recursive: true, force: true });
});

describe('HTTP → HTTPS redirect', () => {
  let gh: TlsHarness;
  beforeAll(async () => {
    gh = await startTlsProxy({ table: routes(), env: { GATEHOUSE_TLS_DIR: dir, GATEHOUSE_TRUSTED_PROXIES: '10.0.0.0/8' } });
  });
  afterAll(async () => {
    await gh.close();
  });

  it('sends page loads to the same host and path over https, without the listener port', async () => {
    const before = echo.received.length;
    const res = await http(gh.httpPort, `App.Test:${gh.httpPort}`, '/some/./page?q=1&r=%20');
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('https://app.test/some/page?q=1&r=%20');
    expect(res.headers['x-request-id']).toBeTruthy();
    expect(echo.received.length).toBe(before);
    // What the user reaches there is the same app.
    const there = await httpsRequest(gh.httpsPort, 'app.test', '/some/page', { ca: ca.certPem });
    expect(there.status).toBe(200);
  });

  it('keeps the method of anything else with a 308', async () => {
    const res = await http(gh.httpPort, 'app.test', '/form', { method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe('https://app.test/form');
  });

  it('also redirects hosts no route serves, and websocket handshakes', async () => {
    expect((await http(gh.httpPort, 'nowhere.test', '/')).headers.location).toBe('https://nowhere.test/');
    const ws = await rawGet(gh.httpPort, '/socket', ['Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='], 'app.test');
    expect(ws.status).toBe(308);
    expect(ws.headers.location).toBe('https://app.test/socket');
  });

  it('passes ACME HTTP-01 challenges to the route that claims them, and nothing else about them changes', async () => {
    const res = await http(gh.httpPort, 'app.test', '/.well-known/acme-challenge/token123');
    expect(res.status).toBe(200);
    expect(echoed(res).url).toBe('/.well-known/acme-challenge/token123');
    // No route claims the path on this host: a 404, not a redirect a validator could not use.
    const unclaimed = await http(gh.httpPort, 'other.test', '/.well-known/acme-challenge/token123');
    expect(unclaimed.status).toBe(404);
    expect(unclaimed.headers.location).toBeUndefined();
  });

  it('serves, not redirects, what an untrusted client sends as https, and ignores its X-Forwarded-Proto', async () => {
    const spoofed = await http(gh.httpPort, 'app.test', '/x', { headers: { 'x-forwarded-proto': 'https' } });
    expect(spoofed.status).toBe(301);
    expect(spoofed.headers.location).toBe('https://app.test/x');
  });
});

describe('HTTP → HTTPS redirect: settings', () => {
  it('adds GATEHOUSE_HTTPS_PUBLIC_PORT when users see a port other than 443', async () => {
    for (const [port, expected] of [
      ['8443', 'https://app.test:8443/p'],
      ['443', 'https://app.test/p'],
    ] as const) {
      const gh = await startTlsProxy({ table: routes(), env: { GATEHOUSE_TLS_DIR: dir, GATEHOUSE_HTTPS_PUBLIC_PORT: port } });
      try {
        expect((await http(gh.httpPort, 'app.test:8080', '/p')).headers.location).toBe(expected);
      } finally {
        await gh.close();
      }
    }
  });

  it('serves plain http as before with GATEHOUSE_HTTP_REDIRECT=false', async () => {
    const gh = await startTlsProxy({ table: routes(), env: { GATEHOUSE_TLS_DIR: dir, GATEHOUSE_HTTP_REDIRECT: 'false' } });
    try {
      const res = await http(gh.httpPort, 'app.test', '/plain');
      expect(res.status).toBe(200);
      expect(echoed(res).url).toBe('/plain');
    } finally {
      await gh.close();
    }
  });

  it('does not redirect what a trusted TLS-terminating proxy forwards as https', async () => {
    const gh = await startTlsProxy({ table: routes(), env: { GATEHOUSE_TLS_DIR: dir, GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1' } });
    try {
      const forwarded = await http(gh.httpPort, 'app.test', '/behind-proxy', { headers: { 'x-forwarded-proto': 'https' } });
      expect(forwarded.status).toBe(200);
      expect(echoed(forwarded).url).toBe('/behind-proxy');
      // The same trusted proxy forwarding a plain-http request: the user is sent to https.
      const plain = await http(gh.httpPort, 'app.test', '/behind-proxy', { headers: { 'x-forwarded-proto': 'http' } });
      expect(plain.status).toBe(301);
    } finally {
      await gh.close();
    }
  });
});
