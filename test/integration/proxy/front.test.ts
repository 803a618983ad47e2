import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, waitFor } from '../../helpers/http.ts';
import type { AccessGate, GateRequest, GateResponse } from '../../../src/proxy/index.ts';
import { ALICE } from '../../helpers/gates.ts';
import { spec, startEcho, startProxy, table, type Echo, type Harness } from './support.ts';

/**
 * The front (src/proxy/front.ts) serves forwarded requests without Fastify and hands every
 * other outcome to Fastify: each request is still judged once, on one table generation, and
 * logged once with the id its response carries.
 */
describe('proxy: the front door', () => {
  let echo: Echo;
  let slow: Echo;
  let gh: Harness;
  const identified: GateRequest[] = [];
  let upstreamClosed = 0;

  const gate: AccessGate = {
    identify(req) {
      identified.push(req);
      return req.path.startsWith('/app/login-required') ? null : ALICE;
    },
    refuse: (req): GateResponse => ({ kind: 'respond', status: 302, headers: { location: `https://auth.test/start?rid=${req.requestId}` } }),
  };
  const signedInOnly = { public: false, allow: [{ kind: 'any' as const }], deny: [], bypass: [], corsPreflight: false };

  beforeAll(async () => {
    echo = await startEcho();
    // Never answers: the client gives up first.
    slow = await startEcho((req) => {
      req.socket.once('close', () => upstreamClosed++);
    });
    gh = await startProxy({
      table: table(
        spec({ origin: echo.origin, path: '/app', policy: signedInOnly, name: 'app' }),
        spec({ origin: slow.origin, hosts: ['slow.test'], name: 'slow' }),
      ),
      gate,
    });
  });
  afterAll(async () => {
    await gh.close();
    await echo.close();
    await slow.close();
  });

  const accessLine = (requestId: unknown) => gh.logLines().find((line) => line.mod === 'access' && line.requestId === requestId);

  it('forwards an admitted request after one identification and one table read, and logs it once under the id it answers with', async () => {
    const reads = gh.tableReads();
    const before = identified.length;
    const res = await http(gh.port, 'app.test', '/app/page?q=1');
    expect(res.status).toBe(200);
    expect(identified.length - before).toBe(1);
    expect(gh.tableReads() - reads).toBe(1);
    const id = res.headers['x-request-id'];
    expect(typeof id).toBe('string');
    const line = await waitFor(() => accessLine(id), 'the access line');
    expect(line).toMatchObject({ method: 'GET', host: 'app.test', path: '/app/page', status: 200, route: 'container:app/default', clientIp: '127.0.0.1' });
    expect(gh.logLines().filter((l) => l.mod === 'access' && l.requestId === id)).toHaveLength(1);
    const metrics = await gh.metrics.registry.getSingleMetricAsString('gatehouse_requests_total');
    expect(metrics).toMatch(/gatehouse_requests_total\{route="container:app\/default",status="200"\} [1-9]/);
  });

  it('answers a refusal through Fastify with the passes run once, and the page names the same request id as the header and the log', async () => {
    const reads = gh.tableReads();
    const before = identified.length;
    const res = await http(gh.port, 'app.test', '/app/login-required');
    expect(res.status).toBe(302);
    expect(identified.length - before).toBe(1);
    expect(gh.tableReads() - reads).toBe(1);
    const id = res.headers['x-request-id'];
    expect(res.headers.location).toBe(`https://auth.test/start?rid=${String(id)}`);
    expect(await waitFor(() => accessLine(id), 'the access line')).toMatchObject({ status: 302, route: 'container:app/default', path: '/app/login-required' });
  });

  it('answers requests the passes do not forward (no route, a refused method, a bad target) through Fastify, once each', async () => {
    const before = identified.length;
    expect((await http(gh.port, 'nowhere.test', '/')).status).toBe(404);
    expect((await http(gh.port, 'app.test', '/app/x', { method: 'TRACE' })).status).toBe(405);
    expect(identified.length - before).toBe(0);
    const res = await http(gh.port, 'app.test', '/app/x');
    expect(res.status).toBe(200);
    expect(identified.length - before).toBe(1);
  });

  it('logs a forwarded request the client abandons as 499 and stops its upstream request', async () => {
    const closedBefore = upstreamClosed;
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: gh.port, path: '/wait', headers: { host: 'slow.test', 'x-tag': 'abandon' }, agent: false });
      req.on('error', () => undefined);
      req.end();
      void waitFor(() => slow.received.find((r) => r.headers['x-tag'] === 'abandon'), 'the upstream request').then(() => {
        req.destroy();
        resolve();
      }, reject);
    });
    const line = await waitFor(() => gh.logLines().find((l) => l.mod === 'access' && l.host === 'slow.test' && l.status === 499), 'the 499 line');
    expect(line).toMatchObject({ path: '/wait', route: 'container:slow/default' });
    await waitFor(() => (upstreamClosed > closedBefore ? true : undefined), 'the upstream connection closed');
  });
});
