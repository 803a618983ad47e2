import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsAssertion, renderHeaders as forwardWith, type IdentityValues } from '../../../src/proxy/identity-headers.ts';
import { createSecretReader } from '../../../src/util/secrets.ts';
import { buildRouteTable, type Route } from '../../../src/routes/index.ts';
import type { RouteSpec } from '../../../src/routes/spec.ts';
import { containerSpec } from '../routes/fixtures.ts';

function route(overrides: Partial<RouteSpec>): Route {
  const table = buildRouteTable([containerSpec({ name: `r${Math.random().toString(36).slice(2, 8)}`, overrides })], []);
  return table.routes[0]!;
}

const alice: IdentityValues = { user: 'u-alice', email: 'alice@example.com', name: 'Alice', groups: 'admins,staff', jwt: 'eyJ.test.jwt' };
const noSecrets = () => null;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gh-secrets-'));
  await writeFile(join(dir, 'api_token'), 'token-value\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('identity headers by mode', () => {
  it('headers: all four X-Iap-* values plus the assertion, empty when unknown', () => {
    const result = forwardWith(route({ identity: 'headers' }), { ...alice, name: '', groups: '' }, undefined, noSecrets);
    expect(result).toEqual({
      ok: true,
      setHeaders: { 'x-iap-user': 'u-alice', 'x-iap-email': 'alice@example.com', 'x-iap-groups': '', 'x-iap-name': '', 'x-iap-jwt-assertion': 'eyJ.test.jwt' },
      removeHeaders: [],
    });
  });

  it('jwt: only the assertion; none: nothing', () => {
    expect(forwardWith(route({ identity: 'jwt' }), alice, undefined, noSecrets)).toMatchObject({ ok: true, setHeaders: { 'x-iap-jwt-assertion': 'eyJ.test.jwt' } });
    const jwtOnly = forwardWith(route({ identity: 'jwt' }), alice, undefined, noSecrets);
    expect(jwtOnly.ok && Object.keys(jwtOnly.setHeaders)).toEqual(['x-iap-jwt-assertion']);
    const none = forwardWith(route({ identity: 'none' }), alice, undefined, noSecrets);
    expect(none.ok && none.setHeaders).toEqual({});
  });

  it('no identity (public, bypass, preflight): no X-Iap-* header at all', () => {
    const result = forwardWith(route({ identity: 'headers' }), null, undefined, noSecrets);
    expect(result.ok && result.setHeaders).toEqual({});
  });
});

describe('header templates', () => {
  const templated = route({
    identity: 'none',
    setHeaders: { 'X-Remote-User': '{email}', 'X-Who': '{user} ({name}) in {groups}', Authorization: 'Bearer {jwt}', 'X-Static': 'fixed {} {1}', 'X-Token': 'secret:api_token' },
  });

  it('fills {email} {user} {name} {groups} {jwt}, leaves braces that hold no placeholder name alone and reads secret:NAME', () => {
    const result = forwardWith(templated, alice, undefined, createSecretReader(dir));
    expect(result.ok && result.setHeaders).toEqual({
      'X-Remote-User': 'alice@example.com',
      'X-Who': 'u-alice (Alice) in admins,staff',
      Authorization: 'Bearer eyJ.test.jwt',
      'X-Static': 'fixed {} {1}',
      'X-Token': 'token-value',
    });
  });

  it('leaves out templates that describe the user when there is none', () => {
    const result = forwardWith(templated, null, undefined, createSecretReader(dir));
    expect(result.ok && result.setHeaders).toEqual({ 'X-Static': 'fixed {} {1}', 'X-Token': 'token-value' });
  });

  it('reports a secret that cannot be read, by name', () => {
    const missing = route({ setHeaders: { 'X-Token': 'secret:absent' } });
    expect(forwardWith(missing, alice, undefined, createSecretReader(dir))).toEqual({ ok: false, missingSecret: 'absent' });
  });

  it('never reads outside the secrets directory', () => {
    const read = createSecretReader(dir);
    expect(read('../etc/passwd')).toBeNull();
    expect(read('.hidden')).toBeNull();
    expect(read('api_token')).toBe('token-value');
  });

  it('needs the assertion for any identity mode but none, or for a {jwt} template', () => {
    expect(needsAssertion(route({ identity: 'headers' }))).toBe(true);
    expect(needsAssertion(route({ identity: 'none' }))).toBe(false);
    expect(needsAssertion(templated)).toBe(true);
  });
});

describe('the Cookie header upstream', () => {
  const plain = route({ identity: 'none' });
  it.each([
    ['a=1; gatehouse_session=x; b=2', { set: 'a=1; b=2' }],
    ['gatehouse_session.0=x; gatehouse_session.1=y', { remove: true }],
    ['__Host-gatehouse_session=x; app=__Host-gatehouse_session', { set: 'app=__Host-gatehouse_session' }],
    ['theme=dark', { unchanged: true }],
  ])('%s', (cookie, expected) => {
    const result = forwardWith(plain, alice, cookie, noSecrets);
    if (!result.ok) throw new Error('unexpected');
    if ('set' in expected) expect(result.setHeaders['cookie']).toBe(expected.set);
    if ('remove' in expected) expect(result.removeHeaders).toEqual(['cookie']);
    if ('unchanged' in expected) {
      expect(result.setHeaders['cookie']).toBeUndefined();
      expect(result.removeHeaders).toEqual([]);
    }
  });
});
