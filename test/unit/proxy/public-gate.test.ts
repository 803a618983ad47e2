import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.ts';
import type { GateRequest } from '../../../src/proxy/gate.ts';
import { createPublicOnlyGate, publicOnlyGate } from '../../../src/proxy/public-gate.ts';
import type { Route } from '../../../src/routes/table.ts';
import type { RoutePolicy } from '../../../src/routes/spec.ts';

function request(overrides: Partial<GateRequest> = {}): GateRequest {
  return {
    method: 'GET',
    host: 'app.test',
    hostHeader: 'app.test',
    publicHost: 'app.test',
    scheme: 'https',
    path: '/',
    query: '',
    headers: {},
    remoteAddress: '203.0.113.1',
    isUpgrade: false,
    requestId: 'rid',
    ...overrides,
  };
}

function route(policy: Partial<RoutePolicy>, setHeaders: Record<string, string> = {}): Route {
  return {
    id: 'container:app/default',
    policy: { public: false, allow: [], deny: [], bypass: [], corsPreflight: false, ...policy },
    setHeaders,
  } as unknown as Route;
}

describe('publicOnlyGate', () => {
  it('forwards public routes', async () => {
    expect(await publicOnlyGate.check(request(), route({ public: true }))).toEqual({ kind: 'forward', setHeaders: {} });
  });

  it('refuses everything else with 403 "needs sign-in", HTML or JSON', async () => {
    const html = await publicOnlyGate.check(request(), route({}));
    expect(html).toMatchObject({ kind: 'respond', status: 403 });
    expect(String((html as { body: string }).body)).toContain('needs sign-in, which is not configured');
    const json = await publicOnlyGate.check(request({ headers: { accept: 'application/json' } }), route({}));
    expect(JSON.parse(String((json as { body: string }).body))).toMatchObject({ error: 'sign_in_not_configured', status: 403, requestId: 'rid' });
  });

  it('honours bypass rules on the path only, with method and prefix semantics', async () => {
    const r = route({ bypass: [{ method: 'GET', path: '/healthz' }, { method: null, path: '/share/' }] });
    expect((await publicOnlyGate.check(request({ path: '/healthz' }), r)).kind).toBe('forward');
    expect((await publicOnlyGate.check(request({ path: '/healthz', method: 'POST' }), r)).kind).toBe('respond');
    expect((await publicOnlyGate.check(request({ path: '/healthz/x' }), r)).kind).toBe('respond');
    expect((await publicOnlyGate.check(request({ path: '/share/a/b', method: 'DELETE' }), r)).kind).toBe('forward');
    expect((await publicOnlyGate.check(request({ path: '/admin', query: '?x=/share/' }), r)).kind).toBe('respond');
  });

  it('forwards CORS preflights only when the route allows them and the request is one', async () => {
    const preflight = request({ method: 'OPTIONS', headers: { origin: 'https://x.test', 'access-control-request-method': 'POST' } });
    expect((await publicOnlyGate.check(preflight, route({ corsPreflight: true }))).kind).toBe('forward');
    expect((await publicOnlyGate.check(preflight, route({ corsPreflight: false }))).kind).toBe('respond');
    expect((await publicOnlyGate.check(request({ method: 'OPTIONS', headers: { origin: 'https://x.test' } }), route({ corsPreflight: true }))).kind).toBe('respond');
  });

  it('matches bypass rules the same way the signed-in gate does: /share/ also covers /share, never /shared', async () => {
    const share = route({ bypass: [{ method: null, path: '/share/' }] });
    expect((await publicOnlyGate.check(request({ path: '/share' }), share)).kind).toBe('forward');
    expect((await publicOnlyGate.check(request({ path: '/share/x' }), share)).kind).toBe('forward');
    expect((await publicOnlyGate.check(request({ path: '/shared' }), share)).kind).toBe('respond');
  });
});

describe('createPublicOnlyGate: route headers', () => {
  let dir: string;
  const lines: string[] = [];
  const logger = createLogger({
    level: 'info',
    format: 'json',
    destination: new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(chunk.toString());
        cb();
      },
    }),
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-gate-'));
    await writeFile(join(dir, 'token'), '  abc123 \n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('sets literals and trimmed secret: values, and skips identity templates', async () => {
    const gate = createPublicOnlyGate({ secretsDir: dir });
    const result = await gate.check(request(), route({ public: true }, { 'X-Literal': 'v', 'X-Token': 'secret:token', 'X-Email': '{user.email}' }));
    expect(result).toEqual({ kind: 'forward', setHeaders: { 'X-Literal': 'v', 'X-Token': 'abc123' } });
  });

  it('refuses (500) when a secret cannot be read, logs its name, never a value, and never reads outside the folder', async () => {
    const gate = createPublicOnlyGate({ secretsDir: dir, logger });
    for (const name of ['missing', '../token', '.hidden/../token']) {
      const result = await gate.check(request(), route({ public: true }, { 'X-Token': `secret:${name}` }));
      expect(result, name).toMatchObject({ kind: 'respond', status: 500 });
    }
    expect(lines.join('')).toContain('secret:missing');
    expect(lines.join('')).not.toContain('abc123');
  });
});
