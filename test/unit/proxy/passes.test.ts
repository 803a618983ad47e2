import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessGate, Caller, GateRequest } from '../../../src/proxy/index.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { admit, NO_SIGN_IN, type Admission, type PassOptions } from '../../../src/proxy/passes.ts';
import { compiledHeaders, observeHeaderTemplates } from '../../../src/proxy/identity-headers.ts';
import { buildRouteTable, type RouteTable } from '../../../src/routes/index.ts';
import type { RoutePolicy, RouteSpec } from '../../../src/routes/spec.ts';
import { createSecretReader } from '../../../src/util/secrets.ts';
import { ALICE, caller } from '../../helpers/gates.ts';
import { containerSpec } from '../routes/fixtures.ts';

/** The request path from "own endpoints" to "render headers", against real frozen tables. */

function request(overrides: Partial<GateRequest> = {}): GateRequest {
  return {
    method: 'GET',
    host: 'app.example',
    hostHeader: 'app.example',
    publicHost: 'app.example',
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

function tableWith(policy: Partial<RoutePolicy>, overrides: Partial<RouteSpec> = {}): RouteTable {
  const full: RoutePolicy = { public: false, allow: [], deny: [], bypass: [], corsPreflight: false, ...policy };
  return buildRouteTable([containerSpec({ name: 'app', overrides: { policy: full, ...overrides } })], []);
}

const lines: string[] = [];
const logger = createLogger({
  level: 'debug',
  format: 'json',
  destination: new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(chunk.toString());
      cb();
    },
  }),
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-passes-'));
  await writeFile(join(dir, 'token'), '  abc123 \n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function options(gate: AccessGate = NO_SIGN_IN): PassOptions {
  return { gate, defaultAllow: [], readSecret: createSecretReader(dir), logger };
}

/** A gate that counts how often it is asked who is calling. */
function countingGate(who: Caller | null): AccessGate & { identified: number } {
  const gate = {
    identified: 0,
    identify() {
      gate.identified++;
      return who;
    },
    refuse: () => ({ kind: 'respond' as const, status: who === null ? 401 : 403 }),
  };
  return gate;
}

const kind = (admission: Admission) => (admission.kind === 'page' ? admission.page : admission.kind === 'respond' ? admission.response.status : 'forward');

describe('without sign-in configured (nobody is ever identified)', () => {
  it('forwards public routes', async () => {
    expect(kind(await admit(request(), tableWith({ public: true }), options()))).toBe('forward');
  });

  it('refuses everything else with 403 "needs sign-in", HTML or JSON', async () => {
    const html = await admit(request(), tableWith({}), options());
    expect(html).toMatchObject({ kind: 'respond', response: { status: 403 } });
    expect(String((html as { response: { body: string } }).response.body)).toContain('needs sign-in, which is not configured');
    const json = await admit(request({ headers: { accept: 'application/json' } }), tableWith({}), options());
    expect(JSON.parse(String((json as { response: { body: string } }).response.body))).toMatchObject({ error: 'sign_in_not_configured', status: 403, requestId: 'rid' });
  });

  it('honours bypass rules on the path only, with method and prefix semantics', async () => {
    const t = tableWith({ bypass: [{ method: 'GET', path: '/healthz' }, { method: null, path: '/share/' }] });
    expect(kind(await admit(request({ path: '/healthz' }), t, options()))).toBe('forward');
    expect(kind(await admit(request({ path: '/healthz', method: 'POST' }), t, options()))).toBe(403);
    expect(kind(await admit(request({ path: '/healthz/x' }), t, options()))).toBe(403);
    expect(kind(await admit(request({ path: '/share/a/b', method: 'DELETE' }), t, options()))).toBe('forward');
    expect(kind(await admit(request({ path: '/share' }), t, options()))).toBe('forward');
    expect(kind(await admit(request({ path: '/shared' }), t, options()))).toBe(403);
    expect(kind(await admit(request({ path: '/admin', query: '?x=/share/' }), t, options()))).toBe(403);
  });

  it('forwards CORS preflights only when the route allows them and the request is one', async () => {
    const preflight = request({ method: 'OPTIONS', headers: { origin: 'https://x.test', 'access-control-request-method': 'POST' } });
    expect(kind(await admit(preflight, tableWith({ corsPreflight: true }), options()))).toBe('forward');
    expect(kind(await admit(preflight, tableWith({ corsPreflight: false }), options()))).toBe(403);
    expect(kind(await admit(request({ method: 'OPTIONS', headers: { origin: 'https://x.test' } }), tableWith({ corsPreflight: true }), options()))).toBe(403);
  });
});

describe('identify, then decide once', () => {
  it('does not ask who is calling when the route is open to everyone', async () => {
    const gate = countingGate(ALICE);
    const result = await admit(request(), tableWith({ public: true }, { identity: 'headers' }), options(gate));
    expect(gate.identified).toBe(0);
    expect(result).toMatchObject({ kind: 'forward', decision: { allow: true, reason: 'public' } });
    // Nobody was identified, so nobody is described to the app.
    expect((result as { setHeaders: Record<string, string> }).setHeaders).toEqual({});
  });

  it('asks once, and forwards the decision with its reason and entry, and the identity headers', async () => {
    const gate = countingGate(caller('bob', { email: 'bob@example.com', groups: ['ops', 'dev'], name: 'Bob' }));
    const result = await admit(request(), tableWith({ allow: [{ kind: 'group', group: 'ops' }] }, { identity: 'headers' }), options(gate));
    expect(gate.identified).toBe(1);
    expect(result).toMatchObject({
      kind: 'forward',
      decision: { allow: true, reason: 'allowed', entry: 'group:ops' },
      setHeaders: { 'x-iap-user': 'bob', 'x-iap-email': 'bob@example.com', 'x-iap-groups': 'ops,dev', 'x-iap-name': 'Bob', 'x-iap-jwt-assertion': 'jwt.for.bob' },
    });
  });

  it('hands refusals to the gate with the decision: nobody → 401 here, someone not allowed → 403', async () => {
    expect(kind(await admit(request(), tableWith({ allow: [{ kind: 'any' }] }), options(countingGate(null))))).toBe(401);
    const denied = await admit(request(), tableWith({ allow: [{ kind: 'any' }], deny: [{ kind: 'email', email: 'alice@corp.example' }] }), options(countingGate(ALICE)));
    expect(kind(denied)).toBe(403);
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'access denied').at(-1);
    expect(logged).toMatchObject({ reason: 'denied', entry: 'alice@corp.example', sub: 'alice', route: 'container:app/default' });
  });

  it('waits for a JWT only when the route forwards one', async () => {
    let signed = 0;
    const slowSigner = caller('carol', { assertion: () => Promise.resolve(`jwt.${++signed}`) });
    const withJwt = await admit(request(), tableWith({ allow: [{ kind: 'any' }] }, { identity: 'jwt' }), options(countingGate(slowSigner)));
    expect(withJwt).toMatchObject({ kind: 'forward', setHeaders: { 'x-iap-jwt-assertion': 'jwt.1' } });
    const without = await admit(request(), tableWith({ allow: [{ kind: 'any' }] }, { identity: 'none' }), options(countingGate(slowSigner)));
    expect(without).toMatchObject({ kind: 'forward', setHeaders: {} });
    expect(signed).toBe(1);
  });

  it('refuses a websocket from another origin before asking who is calling', async () => {
    const gate = countingGate(ALICE);
    const upgrade = request({ isUpgrade: true, headers: { origin: 'https://evil.example' } });
    expect(kind(await admit(upgrade, tableWith({ allow: [{ kind: 'any' }] }), options(gate)))).toBe('websocket_origin_refused');
    expect(gate.identified).toBe(0);
  });

  it('answers own endpoints before matching, with the same table generation', async () => {
    const t = tableWith({ public: true });
    let seen: RouteTable | null = null;
    const gate: AccessGate = {
      ...NO_SIGN_IN,
      ownEndpoint: (_req, table) => {
        seen = table;
        return { kind: 'respond', status: 204 };
      },
    };
    expect(kind(await admit(request({ path: '/.iap/user' }), t, options(gate)))).toBe(204);
    expect(seen).toBe(t);
  });
});

describe('render headers: route templates', () => {
  it('sets literals and trimmed secret: values, and skips identity templates when nobody is signed in', async () => {
    const t = tableWith({ public: true }, { setHeaders: { 'X-Literal': 'v', 'X-Token': 'secret:token', 'X-Email': '{email}' } });
    expect(await admit(request(), t, options())).toMatchObject({ kind: 'forward', setHeaders: { 'X-Literal': 'v', 'X-Token': 'abc123' } });
    const result = (await admit(request(), t, options())) as { setHeaders: Record<string, string> };
    expect(Object.keys(result.setHeaders).sort()).toEqual(['X-Literal', 'X-Token']);
  });

  it('refuses (500) when a secret cannot be read, logs its name, never a value, and never reads outside the folder', async () => {
    for (const name of ['missing', '../token', '.hidden/../token']) {
      const result = await admit(request(), tableWith({ public: true }, { setHeaders: { 'X-Token': `secret:${name}` } }), options());
      expect(result, name).toMatchObject({ kind: 'page', page: 'internal_error' });
    }
    expect(lines.join('')).toContain('secret:missing');
    expect(lines.join('')).not.toContain('abc123');
  });
});

describe('header templates of a table generation', () => {
  it('a route whose template cannot compile is refused before anyone is identified, and its header never goes upstream', async () => {
    // Labels refuse such a value; a table built around them (another source) must still fail closed.
    const table = tableWith({ public: true }, { setHeaders: { 'X-User': 'user={emial}' } });
    observeHeaderTemplates(table);
    const route = table.routes[0]!;
    expect(compiledHeaders(route)).toEqual({ ok: false, header: 'X-User', error: expect.stringContaining('unknown placeholder {emial}') });
    let identified = 0;
    const gate: AccessGate = { ...NO_SIGN_IN, identify: () => ((identified += 1), null) };
    const result = await admit(request(), table, options(gate));
    expect(result).toMatchObject({ kind: 'page', page: 'internal_error', route: { id: route.id } });
    expect(identified).toBe(0);
  });

  it('compiles every route of a generation when the generation is observed, keeping a kept route compiled once', () => {
    const table = tableWith({ public: true }, { setHeaders: { 'X-Team': 'blue-{groups}' } });
    observeHeaderTemplates(table);
    const compiled = compiledHeaders(table.routes[0]!);
    expect(compiled).toMatchObject({ ok: true, headers: [{ name: 'X-Team', parts: ['blue-', { placeholder: 'groups' }] }] });
    observeHeaderTemplates(table);
    expect(compiledHeaders(table.routes[0]!)).toBe(compiled);
  });
});
