import { request, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessGate, GateRequest } from '../../../src/proxy/index.ts';
import { ALICE } from '../../helpers/gates.ts';
import { echoed, rawHeaderValues, spec, startEcho, startProxy, table, type Echo, type Harness } from '../proxy/support.ts';

/**
 * Behind a TLS-terminating proxy (DSM's nginx, a router, a tunnel) the scheme the user sees is
 * whatever that proxy says, but only when it is listed in GATEHOUSE_TRUSTED_PROXIES. The gate
 * (sign-in) builds cookies and redirects from GateRequest.scheme, so that is what is checked.
 * 127.0.0.1 plays the proxy; 127.0.0.2 plays anyone else on the network.
 */
let echo: Echo;
let gh: Harness;
let untrustedByDefault: Harness;
const seen: GateRequest[] = [];
const gate: AccessGate = {
  identify(req) {
    seen.push(req);
    return ALICE;
  },
  refuse: () => ({ kind: 'respond', status: 403 }),
};
/** Routes that ask who is calling on every request, so the gate sees each one. */
const anyone = { public: false, allow: [{ kind: 'any' as const }], deny: [], bypass: [], corsPreflight: false };

function send(port: number, from: string, headers: Record<string, string>, path = '/'): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress: from, headers: { host: 'app.test', ...headers }, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  echo = await startEcho();
  gh = await startProxy({ table: table(spec({ origin: echo.origin, policy: anyone })), gate, env: { GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1/32' } });
  untrustedByDefault = await startProxy({ table: table(spec({ origin: echo.origin, policy: anyone })), gate });
});
afterAll(async () => {
  await gh.close();
  await untrustedByDefault.close();
  await echo.close();
});

describe('X-Forwarded-Proto and the scheme the user sees', () => {
  it('takes https from a trusted proxy: the gate and the app both see it', async () => {
    const res = await send(gh.port, '127.0.0.1', { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' });
    expect(seen.at(-1)).toMatchObject({ scheme: 'https', remoteAddress: '203.0.113.7' });
    expect(rawHeaderValues(echoed(res), 'x-forwarded-proto')).toEqual(['https']);
    expect(rawHeaderValues(echoed(res), 'x-forwarded-port')).toEqual(['443']);
  });

  it('reads the hop nearest the user when proxies are chained', async () => {
    await send(gh.port, '127.0.0.1', { 'x-forwarded-proto': 'https, http' });
    expect(seen.at(-1)?.scheme).toBe('https');
    await send(gh.port, '127.0.0.1', { 'x-forwarded-proto': 'wss' });
    expect(seen.at(-1)?.scheme).toBe('http');
  });

  it('stays http when the trusted proxy says nothing', async () => {
    await send(gh.port, '127.0.0.1', {});
    expect(seen.at(-1)?.scheme).toBe('http');
  });

  it('ignores the same header from a peer that is not trusted', async () => {
    const res = await send(gh.port, '127.0.0.2', { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' });
    expect(seen.at(-1)).toMatchObject({ scheme: 'http', remoteAddress: '127.0.0.2' });
    expect(rawHeaderValues(echoed(res), 'x-forwarded-proto')).toEqual(['http']);
    expect(rawHeaderValues(echoed(res), 'x-forwarded-for')).toEqual(['127.0.0.2']);
  });

  it('takes the port the user sees from a trusted X-Forwarded-Host naming the same host, never another host', async () => {
    await send(gh.port, '127.0.0.1', { 'x-forwarded-host': 'app.test:8443' });
    expect(seen.at(-1)).toMatchObject({ host: 'app.test', hostHeader: 'app.test', publicHost: 'app.test:8443' });
    await send(gh.port, '127.0.0.1', { 'x-forwarded-host': 'evil.test' });
    expect(seen.at(-1)).toMatchObject({ host: 'app.test', publicHost: 'app.test' });
    await send(gh.port, '127.0.0.2', { 'x-forwarded-host': 'app.test:8443' });
    expect(seen.at(-1)).toMatchObject({ publicHost: 'app.test' });
  });

  it('ignores it from everyone when GATEHOUSE_TRUSTED_PROXIES is empty (the default)', async () => {
    await send(untrustedByDefault.port, '127.0.0.1', { 'x-forwarded-proto': 'https' });
    expect(seen.at(-1)).toMatchObject({ scheme: 'http', remoteAddress: '127.0.0.1' });
  });

  it('applies the same rule to websocket handshakes', async () => {
    const upgrade = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'x-forwarded-proto': 'https' };
    // The echo upstream does not speak websocket; only what the gate saw matters here.
    await send(gh.port, '127.0.0.1', upgrade).catch(() => undefined);
    expect(seen.at(-1)).toMatchObject({ isUpgrade: true, scheme: 'https' });
    await send(gh.port, '127.0.0.2', upgrade).catch(() => undefined);
    expect(seen.at(-1)).toMatchObject({ isUpgrade: true, scheme: 'http' });
  });
});
