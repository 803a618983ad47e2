import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCidr, type TargetRules } from '../../../src/labels/index.ts';
import type { ResolveAll } from '../../../src/control/index.ts';
import { buildRouteTable } from '../../../src/routes/index.ts';
import type { RouteSpec } from '../../../src/routes/spec.ts';
import { http } from '../../helpers/http.ts';
import { rawRequest, spec, startProxy, type Harness } from './support.ts';

/**
 * The connect-time target check with real sockets: a "public" app on 127.0.0.2 (allowed by the
 * operator's list) and, on the same port, a stand-in for Gatehouse's admin listener on
 * 127.0.0.1. The resolver is injected so a name can change its answer after it was checked.
 */
describe('proxy: where label routes may connect', () => {
  let app: Server;
  let admin: Server;
  let port: number;
  const adminHits: string[] = [];
  const answers = new Map<string, string>();
  const resolveAll: ResolveAll = async (hostname) => {
    const address = answers.get(hostname);
    if (address === undefined) throw Object.assign(new Error(`no such name ${hostname}`), { code: 'ENOTFOUND' });
    return [{ address, family: address.includes(':') ? 6 : 4 }];
  };
  const rules: TargetRules = { allow: [parseCidr('127.0.0.2') ?? expect.fail()], deny: [], own: [] };
  let harness: Harness;

  const listen = (server: Server, host: string, at: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at, host, () => resolve());
    });

  beforeAll(async () => {
    // Connection: close, so each request opens a new connection and meets the check again.
    app = createServer((_req, res) => res.writeHead(200, { connection: 'close' }).end('public app'));
    admin = createServer((req, res) => {
      adminHits.push(req.url ?? '');
      res.end('admin listener: /metrics');
    });
    await listen(app, '127.0.0.2', 0);
    port = (app.address() as AddressInfo).port;
    await listen(admin, '127.0.0.1', port);
    const fileRoute: RouteSpec = { ...spec({ name: 'file', origin: `http://127.0.0.1:${port}` }), source: { kind: 'file', file: '/r.yml', index: 0 }, hosts: ['file.test'] };
    harness = await startProxy({
      table: buildRouteTable(
        [
          spec({ name: 'named', origin: `http://app.internal:${port}`, hosts: ['named.test'], websockets: true }),
          spec({ name: 'mapped', origin: `http://[::ffff:127.0.0.1]:${port}`, hosts: ['mapped.test'], websockets: true }),
          spec({ name: 'nat64', origin: `http://[64:ff9b::7f00:1]:${port}`, hosts: ['nat64.test'] }),
          fileRoute,
        ],
        [],
      ),
      targets: { rules: () => rules, resolveAll },
    });
  });

  afterAll(async () => {
    await harness?.close();
    await Promise.all([app, admin].map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('refuses a name that re-resolves to loopback after it was allowed, and never reaches the admin listener', async () => {
    answers.set('app.internal', '127.0.0.2');
    const allowed = await http(harness.port, 'named.test', '/metrics');
    expect(allowed.status).toBe(200);
    expect(allowed.body).toBe('public app');

    answers.set('app.internal', '127.0.0.1');
    const refused = await http(harness.port, 'named.test', '/metrics');
    expect(refused.status).toBe(502);
    expect(adminHits).toEqual([]);
    const warning = harness.logLines().find((line) => String(line.msg).startsWith('upstream request failed') && (line.codes as string[]).includes('EGATEHOUSE_FORBIDDEN_TARGET'));
    expect(warning).toMatchObject({ upstream: `http://app.internal:${port}` });
  });

  it.each([['named.test'], ['mapped.test']])('refuses websocket upgrades the same way (%s)', async (host) => {
    answers.set('app.internal', '127.0.0.1');
    const res = await rawRequest(
      harness.port,
      `GET /ws HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    );
    expect(res.status).toBe(502);
    expect(adminHits).toEqual([]);
    const warnings = harness.logLines().filter((line) => String(line.msg).startsWith('websocket upstream failed'));
    expect(warnings.at(-1)?.codes).toContain('EGATEHOUSE_FORBIDDEN_TARGET');
  });

  it.each([['mapped.test'], ['nat64.test']])('refuses an IPv6 literal that embeds 127.0.0.1 (%s)', async (host) => {
    const res = await http(harness.port, host, '/metrics');
    expect(res.status).toBe(502);
    expect(adminHits).toEqual([]);
  });

  it('lets the operator\'s routes file reach loopback', async () => {
    const res = await http(harness.port, 'file.test', '/metrics');
    expect(res.status).toBe(200);
    expect(adminHits).toEqual(['/metrics']);
  });
});
