import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentity, type Identity } from '../../../src/auth/index.ts';
import { derivePurposeKeys, parseSecretList } from '../../../src/auth/keys.ts';
import { createSession, sessionCookies } from '../../../src/auth/session.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { readIdentitySettings } from '../../../src/config/identity.ts';
import type { Caller, GateRequest } from '../../../src/proxy/index.ts';
import { buildRouteTable } from '../../../src/routes/index.ts';
import { containerSpec } from '../../unit/routes/fixtures.ts';

/**
 * The request path for a signed-in user whose identity JWT is cached must stay synchronous:
 * no promise, no signing, no async crypto. Only the first request of a session signs.
 */

const HOST = 'app.hot.example';
const secret = randomBytes(32).toString('base64url');
const table = buildRouteTable([containerSpec({ name: 'hot', hosts: [HOST], overrides: { fromScheme: 'http', policy: { public: false, allow: [{ kind: 'any' }], deny: [], bypass: [], corsPreflight: false } } })], []);

let dataDir: string;
let identity: Identity;
let cookie: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'gh-hot-'));
  const config = loadConfig({
    GATEHOUSE_AUTH_URL: 'http://auth.hot.example',
    // Nothing listens here: the provider is never needed on this path.
    GATEHOUSE_OIDC_ISSUER: 'http://127.0.0.1:9',
    GATEHOUSE_OIDC_CLIENT_ID: 'hot',
    GATEHOUSE_SECRET: secret,
    GATEHOUSE_DATA_DIR: dataDir,
  });
  identity = await createIdentity(readIdentitySettings(config)!, { value: secret, name: 'GATEHOUSE_SECRET' }, { logger: pino({ level: 'silent' }), retry: { initialMs: 60_000, maxMs: 60_000 } });
  const now = Date.now();
  const keys = derivePurposeKeys(parseSecretList(secret, 'test'), 'session');
  const session = createSession({ sub: 'u-hot', email: 'hot@example.com', emailVerified: true, name: 'Hot', groups: ['a'], claims: {}, host: HOST }, { now, ttlMs: 3_600_000 });
  const cookies = sessionCookies(session, { secure: false, keys, now });
  if ('error' in cookies) throw new Error('too large');
  cookie = cookies[0]!.split(';')[0]!;
});

afterAll(async () => {
  await identity?.close();
  await rm(dataDir, { recursive: true, force: true });
});

function request(path: string): GateRequest {
  return {
    method: 'GET',
    host: HOST,
    hostHeader: HOST,
    publicHost: HOST,
    scheme: 'http',
    path,
    query: '',
    headers: { host: HOST, cookie: `${cookie}; app=1`, accept: 'application/json' },
    remoteAddress: '127.0.0.1',
    isUpgrade: false,
    requestId: 'r',
  };
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

describe('the signed-in hot path', () => {
  it('identifies synchronously; signs the JWT once, then answers it synchronously from the cache', async () => {
    const first = identity.gate.identify(request('/first'), table) as Caller;
    expect(isPromise(first)).toBe(false);
    expect(first.sub).toBe('u-hot');
    const signing = first.assertion(HOST);
    expect(isPromise(signing)).toBe(true);
    const jwt = await signing;

    const started = process.hrtime.bigint();
    let last: string | Promise<string> = '';
    let promises = 0;
    for (let i = 0; i < 2_000; i += 1) {
      const found = identity.gate.identify(request(`/again/${i}`), table);
      if (isPromise(found)) promises++;
      last = (found as Caller).assertion(HOST);
      if (isPromise(last)) promises++;
    }
    const perCheckUs = Number(process.hrtime.bigint() - started) / 2_000 / 1_000;
    expect(promises).toBe(0);
    expect(last).toBe(jwt);
    // Generous bound for a slow, shared 2-core machine; a per-request ES256 signature alone costs ~65 µs.
    expect(perCheckUs).toBeLessThan(200);
  });

  it('does not look for own endpoints beyond a prefix test on ordinary requests', () => {
    expect(identity.gate.ownEndpoint!(request('/ordinary'), table)).toBeNull();
  });
});
