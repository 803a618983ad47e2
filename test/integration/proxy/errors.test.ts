import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../../helpers/http.ts';
import type { AccessGate } from '../../../src/proxy/index.ts';
import { sleep, spec, startEcho, startProxy, table, type Echo, type Harness } from './support.ts';

/** A port with nothing listening: bind, note the port, close. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const restricted = { public: false, allow: [{ kind: 'any' as const }], deny: [], bypass: [], corsPreflight: false };

describe('proxy: error pages', () => {
  let slow: Echo;
  let gh: Harness;
  let deadPort: number;
  let degraded = false;

  beforeAll(async () => {
    slow = await startEcho(async (_req, res) => {
      await sleep(3_000);
      res.end('late');
    });
    deadPort = await closedPort();
    gh = await startProxy({
      discoveryDegraded: () => degraded,
      table: table(
        spec({ name: 'dead', hosts: ['dead.test'], origin: `http://127.0.0.1:${deadPort}` }),
        spec({ name: 'slow', hosts: ['slow.test'], origin: slow.origin, timeoutMs: 200 }),
        spec({ name: 'starting', hosts: ['starting.test'], origin: slow.origin, ready: false, display: { name: 'Wiki <beta>', icon: null, description: null, group: null } }),
        spec({ name: 'private', hosts: ['private.test'], origin: slow.origin, policy: restricted }),
      ),
    });
  });
  afterAll(async () => {
    await gh.close();
    await slow.close();
  });

  it('answers 502 "refused the connection" with a branded page when the upstream refuses it, without internal addresses', async () => {
    const res = await http(gh.port, 'dead.test', '/x');
    expect(res.status).toBe(502);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('Gatehouse');
    expect(res.body).toContain('refused the connection');
    expect(res.body).toContain(String(res.headers['x-request-id']));
    expect(res.body).not.toContain('127.0.0.1');
    expect(res.body).not.toContain(String(deadPort));
    expect(res.body).not.toMatch(/ECONNREFUSED|at .*\.js/);
    const json = await http(gh.port, 'dead.test', '/x', { headers: { accept: 'application/json' } });
    expect(JSON.parse(json.body)).toMatchObject({ error: 'upstream_refused', status: 502, requestId: json.headers['x-request-id'] });
    const warning = gh.logLines().find((l) => String(l.msg).startsWith('upstream request failed'));
    expect(warning).toMatchObject({ route: 'container:dead/default', cause: 'refused', codes: expect.arrayContaining(['ECONNREFUSED']) });
  });

  it('answers 504 when the upstream does not answer within the route timeout', async () => {
    // The upstream answers after 3 s; the 200 ms route timeout (undici ticks in ~1 s steps) ends it first.
    const res = await http(gh.port, 'slow.test', '/');
    expect(res.status).toBe(504);
    expect(res.body).toContain('took too long');
    const json = await http(gh.port, 'slow.test', '/', { headers: { accept: 'application/json, text/plain, */*' } });
    expect(JSON.parse(json.body)).toMatchObject({ error: 'gateway_timeout', status: 504 });
  });

  it('answers 503 with Retry-After and a refresh for a route with no ready member, never 404', async () => {
    const res = await http(gh.port, 'starting.test', '/');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body).toContain('<meta http-equiv="refresh" content="5">');
    expect(res.body).toContain('Wiki &lt;beta&gt; is starting or unavailable');
    expect(res.body).not.toContain('<beta>');
    const json = await http(gh.port, 'starting.test', '/', { headers: { accept: 'application/json' } });
    expect(json.status).toBe(503);
    expect(JSON.parse(json.body)).toMatchObject({ error: 'upstream_unavailable', status: 503 });
  });

  it('says the app list may be stale while discovery is degraded', async () => {
    degraded = true;
    try {
      expect((await http(gh.port, 'nowhere.test', '/')).body).toContain('lost contact with Docker');
      expect((await http(gh.port, 'starting.test', '/')).body).toContain('lost contact with Docker');
    } finally {
      degraded = false;
    }
    expect((await http(gh.port, 'nowhere.test', '/')).body).not.toContain('lost contact with Docker');
  });

  it('publicOnlyGate answers 403 "needs sign-in" for a non-public route, before revealing its state', async () => {
    const before = slow.received.length;
    const res = await http(gh.port, 'private.test', '/');
    expect(res.status).toBe(403);
    expect(res.body).toContain('needs sign-in, which is not configured');
    const json = await http(gh.port, 'private.test', '/', { headers: { accept: 'application/json' } });
    expect(JSON.parse(json.body)).toMatchObject({ error: 'sign_in_not_configured', status: 403 });
    expect(slow.received.length).toBe(before);
  });

  it('answers 431 with a page for oversized headers, and 500 when the gate throws', async () => {
    const big = await http(gh.port, 'dead.test', '/', { headers: { cookie: 'a='.padEnd(20_000, 'x') } }).catch(() => null);
    expect(big?.status).toBe(431);
    const throwing: AccessGate = {
      identify: () => {
        throw new Error('boom');
      },
      refuse: () => ({ kind: 'respond', status: 401 }),
    };
    const signedInOnly = { public: false, allow: [{ kind: 'any' as const }], deny: [], bypass: [], corsPreflight: false };
    const other = await startProxy({ table: table(spec({ origin: slow.origin, policy: signedInOnly })), gate: throwing });
    try {
      const res = await http(other.port, 'app.test', '/');
      expect(res.status).toBe(500);
      expect(res.body).not.toContain('boom');
    } finally {
      await other.close();
    }
  });
});
