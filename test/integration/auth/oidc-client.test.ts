import { createServer, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createOidcClient, type OidcClient, type OidcClientOptions, type SignInStart } from '../../../src/auth/oidc.ts';
import { isGatehouseError } from '../../../src/errors.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { CookieJar, loopbackFetch, signInViaHttp, findLoginForm } from '../../helpers/http-sign-in.ts';
import { startTestProvider, type TestProvider, type TestUser } from '../../helpers/oidc-provider.ts';

const REDIRECT_URI = 'http://auth.gh.localhost/.gatehouse/callback';
const SIGNED_OUT_URI = 'http://auth.gh.localhost/.gatehouse/signed-out';
const SECRET = 'client-secret-for-tests-only-0123456789';
const SCOPES = 'openid email profile groups';

const alice: TestUser = { sub: 'u-alice', email: 'alice@example.test', name: 'Alice Example', groups: ['admins', 'staff'], password: 'alice-pw' };
const bob: TestUser = { sub: 'u-bob', email: 'bob@example.test', emailVerified: false, name: 'Bob Example', groups: 'dev ops, qa', password: 'bob-pw' };

const clients: OidcClient[] = [];
let logLines: string[] = [];

function newClient(issuer: string, overrides: Partial<OidcClientOptions> = {}): OidcClient {
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const client = createOidcClient({
    issuer,
    clientId: 'gatehouse',
    clientSecret: SECRET,
    redirectUri: REDIRECT_URI,
    scopes: SCOPES,
    groupsClaim: 'groups',
    logger: createLogger({ level: 'debug', format: 'json', destination: stream }),
    allowHttp: true,
    retry: { initialMs: 20, maxMs: 100 },
    ...overrides,
  });
  clients.push(client);
  return client;
}

async function ready(client: OidcClient): Promise<void> {
  client.start();
  await vi.waitFor(() => expect(client.status().state).toBe('ready'), { timeout: 5_000, interval: 20 });
}

/** Runs the browser part of the flow over HTTP and returns the callback URL the provider redirected to. */
async function authorize(client: OidcClient, user: TestUser = alice, jar = new CookieJar()): Promise<{ start: SignInStart; callback: URL; jar: CookieJar; submittedLogin: boolean }> {
  const start = await client.beginSignIn();
  const result = await signInViaHttp(start.url, user.email, user.password, jar, { stopAt: (url) => url.href.startsWith(REDIRECT_URI) });
  expect(result.url.href.startsWith(REDIRECT_URI), `flow ended at ${result.url.href}: ${result.body.slice(0, 300)}`).toBe(true);
  return { start, callback: result.url, jar, submittedLogin: result.submittedLogin };
}

async function expectSignInError(promise: Promise<unknown>, code: 'SIGN_IN_FAILED' | 'IDP_UNREACHABLE', status: number, message?: RegExp): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isGatehouseError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
  if (!isGatehouseError(error)) return;
  expect(error.status).toBe(status);
  if (message) expect(error.message).toMatch(message);
}

function withParams(url: URL, change: (params: URLSearchParams) => void): URL {
  const copy = new URL(url);
  change(copy.searchParams);
  return copy;
}

afterEach(() => {
  for (const client of clients.splice(0)) client.stop();
  logLines = [];
});

describe('OIDC relying party against a real OpenID Provider', () => {
  let op: TestProvider;
  beforeAll(async () => {
    op = await startTestProvider({
      users: [alice, bob],
      clients: [
        { clientId: 'gatehouse', clientSecret: SECRET, redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [SIGNED_OUT_URI] },
        { clientId: 'gatehouse-es256', clientSecret: SECRET, redirectUris: [REDIRECT_URI], idTokenSigningAlg: 'ES256' },
        { clientId: 'gatehouse-es384', clientSecret: SECRET, redirectUris: [REDIRECT_URI], idTokenSigningAlg: 'ES384' },
      ],
    });
  });
  afterAll(async () => {
    await op.close();
  });

  it('completes the code flow and takes email, name and groups from UserInfo only', async () => {
    const client = newClient(op.issuer);
    await ready(client);
    const { start, callback, submittedLogin } = await authorize(client);
    expect(submittedLogin).toBe(true);

    const authorization = new URL(start.url);
    expect(authorization.origin).toBe(op.issuer);
    expect(authorization.searchParams.get('response_type')).toBe('code');
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorization.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(authorization.searchParams.get('code_challenge')).not.toBe(start.codeVerifier);
    expect(authorization.searchParams.get('state')).toBe(start.state);
    expect(authorization.searchParams.get('nonce')).toBe(start.nonce);
    expect(authorization.searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(authorization.searchParams.get('scope')).toBe(SCOPES);
    expect(callback.searchParams.get('iss')).toBe(op.issuer);

    const user = await client.finishSignIn(callback, start);
    expect(user).toMatchObject({ sub: 'u-alice', email: 'alice@example.test', emailVerified: true, name: 'Alice Example', groups: ['admins', 'staff'] });
    expect(user.claims).toMatchObject({ sub: 'u-alice', email: 'alice@example.test', groups: ['admins', 'staff'] });
    for (const flowValue of ['nonce', 'at_hash', 'access_token', 'id_token']) expect(user.claims).not.toHaveProperty(flowValue);

    const idToken = decodeJwt(user.idToken);
    expect(idToken.sub).toBe('u-alice');
    expect(idToken.nonce).toBe(start.nonce);
    expect(idToken.aud).toBe('gatehouse');
    for (const claim of ['email', 'email_verified', 'name', 'groups']) expect(idToken).not.toHaveProperty(claim);
    expect(decodeProtectedHeader(user.idToken).alg).toBe('RS256');
  });

  it('gives every sign-in fresh state, nonce and code verifier, and reuses the provider session', async () => {
    const client = newClient(op.issuer);
    await ready(client);
    const first = await authorize(client);
    await client.finishSignIn(first.callback, first.start);
    const second = await authorize(client, alice, first.jar);
    expect(second.submittedLogin).toBe(false);
    expect(second.start.state).not.toBe(first.start.state);
    expect(second.start.nonce).not.toBe(first.start.nonce);
    expect(second.start.codeVerifier).not.toBe(first.start.codeVerifier);
    expect((await client.finishSignIn(second.callback, second.start)).sub).toBe('u-alice');
  });

  it('reads groups sent as a space/comma separated string and keeps email_verified false', async () => {
    const client = newClient(op.issuer);
    await ready(client);
    const { start, callback } = await authorize(client, bob);
    const user = await client.finishSignIn(callback, start);
    expect(user.groups).toEqual(['dev', 'ops', 'qa']);
    expect(user.emailVerified).toBe(false);
    expect(user.email).toBe('bob@example.test');
  });

  it('sees profile changes at the next sign-in (UserInfo is read every time)', async () => {
    const client = newClient(op.issuer);
    await ready(client);
    op.setUsers([{ ...alice, groups: ['auditors'], name: 'Alice Renamed' }, bob]);
    try {
      const { start, callback } = await authorize(client);
      const user = await client.finishSignIn(callback, start);
      expect(user.groups).toEqual(['auditors']);
      expect(user.name).toBe('Alice Renamed');
    } finally {
      op.setUsers([alice, bob]);
    }
  });

  it('rejects a tampered state', async () => {
    const client = newClient(op.issuer);
    await ready(client);
    const { start, callback } = await authorize(client);
    const tampered = withParams(callback, (p) => p.set('state', `${start.state}x`));
    await expectSignInError(client.finishSignIn(tampered, start), 'SIGN_IN_FAILED', 400, /state/);
    await expectSignInError(client.finishSignIn(callback, { ...start, state: 'another-flow' }), 'SIGN_IN_FAILED', 400, /state/);
  });

  it('rejects a callback without state', async () => {
    const client = newClient(op.issuer);
    await ready(client);
    const { start, callback } = await authorize(client);
    await expectSignInError(client.finishSignIn(withParams(callback, (p) => p.delete('state')), start), 'SIGN_IN_FAILED', 400, /state/);
    await expectSignInError(client.finishSignIn(callback, { ...start, state: '' }), 'SIGN_IN_FAILED', 400);
  });

  it('rejects an ID token whose nonce is not the one this browser sent', async () => {
    const client = newClient(op.issuer);
    await ready(client);
    const { start, callback } = await authorize(client);
    await expectSignInError(client.finishSignIn(callback, { ...start, nonce: 'nonce-of-another-flow' }), 'SIGN_IN_FAILED', 400, /nonce/);
  });

  it('rejects the wrong PKCE code verifier (the provider refuses the code)', async () => {
    const client = newClient(op.issuer);
    await ready(client);
    const { start, callback } = await authorize(client);
    const other = (await client.beginSignIn()).codeVerifier;
    await expectSignInError(client.finishSignIn(callback, { ...start, codeVerifier: other }), 'SIGN_IN_FAILED', 400, /invalid_grant/);
  });

  it('rejects a replayed callback: the code is single-use', async () => {
    const client = newClient(op.issuer);
    await ready(client);
    const { start, callback } = await authorize(client);
    expect((await client.finishSignIn(callback, start)).sub).toBe('u-alice');
    await expectSignInError(client.finishSignIn(callback, start), 'SIGN_IN_FAILED', 400, /invalid_grant/);
  });

  it('rejects an authorization response with a wrong or missing iss (RFC 9207)', async () => {
    const client = newClient(op.issuer);
    await ready(client);
    const { start, callback } = await authorize(client);
    await expectSignInError(client.finishSignIn(withParams(callback, (p) => p.set('iss', 'http://evil.test')), start), 'SIGN_IN_FAILED', 400, /iss/);
    await expectSignInError(client.finishSignIn(withParams(callback, (p) => p.delete('iss')), start), 'SIGN_IN_FAILED', 400, /iss/);
    // The untouched response still works: the checks above ran before the code was spent.
    expect((await client.finishSignIn(callback, start)).sub).toBe('u-alice');
  });

  it('reports an error the provider sent back as a failed sign-in', async () => {
    const client = newClient(op.issuer);
    await ready(client);
    const start = await client.beginSignIn();
    const callback = new URL(REDIRECT_URI);
    callback.search = new URLSearchParams({ error: 'access_denied', error_description: 'End-User aborted interaction', state: start.state, iss: op.issuer }).toString();
    await expectSignInError(client.finishSignIn(callback, start), 'SIGN_IN_FAILED', 400, /access_denied/);
  });

  it('accepts ES256 ID tokens and refuses an algorithm outside the allow-list (ES384)', async () => {
    const es256 = newClient(op.issuer, { clientId: 'gatehouse-es256' });
    await ready(es256);
    const ok = await authorize(es256);
    const user = await es256.finishSignIn(ok.callback, ok.start);
    expect(decodeProtectedHeader(user.idToken).alg).toBe('ES256');

    const es384 = newClient(op.issuer, { clientId: 'gatehouse-es384' });
    await ready(es384);
    const refused = await authorize(es384, alice, ok.jar);
    await expectSignInError(es384.finishSignIn(refused.callback, refused.start), 'SIGN_IN_FAILED', 400, /ES384/);
  });

  it('builds the RP-initiated logout URL, and the provider honours it', async () => {
    const client = newClient(op.issuer);
    expect(client.endSessionUrl(null, SIGNED_OUT_URI)).toBeNull();
    await ready(client);
    const { start, callback, jar } = await authorize(client);
    const user = await client.finishSignIn(callback, start);

    const endSession = new URL(client.endSessionUrl(user.idToken, SIGNED_OUT_URI) ?? 'missing:');
    expect(`${endSession.origin}${endSession.pathname}`).toBe(`${op.issuer}/session/end`);
    expect(endSession.searchParams.get('id_token_hint')).toBe(user.idToken);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(SIGNED_OUT_URI);
    expect(endSession.searchParams.get('client_id')).toBe('gatehouse');
    expect(new URL(client.endSessionUrl(null, SIGNED_OUT_URI) ?? 'missing:').searchParams.has('id_token_hint')).toBe(false);

    // Follow it: the provider asks for confirmation, then redirects to the registered URI.
    const page = await loopbackFetch(endSession, { headers: { cookie: jar.header(endSession) ?? '' } });
    jar.store(endSession, page.headers.getSetCookie());
    const html = await page.text();
    const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(html);
    expect(form, html.slice(0, 300)).not.toBeNull();
    const fields = new URLSearchParams();
    for (const input of form![2]!.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) fields.set(input[1]!, input[2]!);
    fields.set('logout', 'yes');
    const confirmUrl = new URL(form![1]!, endSession);
    const confirmed = await loopbackFetch(confirmUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header(confirmUrl) ?? '' },
      body: fields.toString(),
    });
    expect([302, 303]).toContain(confirmed.status);
    expect(confirmed.headers.get('location')).toBe(SIGNED_OUT_URI);
    jar.store(confirmUrl, confirmed.headers.getSetCookie());

    // The provider session is gone: the next sign-in shows the login form again.
    const again = await client.beginSignIn();
    const login = await signInViaHttp(again.url, 'nobody', 'wrong', jar);
    expect(login.submittedLogin).toBe(true);
    expect(login.response.status).toBe(401);
    expect(findLoginForm(login.body, login.url)).not.toBeNull();
  });

  it('maps a provider outage during the code exchange to IDP_UNREACHABLE (502)', async () => {
    const client = newClient(op.issuer);
    await ready(client);
    const { start, callback } = await authorize(client);
    await op.stop();
    try {
      // Depending on connection reuse the failure is a refused connect or a closed keep-alive socket.
      await expectSignInError(client.finishSignIn(callback, start), 'IDP_UNREACHABLE', 502, /Could not reach the identity provider .* while exchanging the sign-in code/);
    } finally {
      await op.restart();
    }
    expect((await client.finishSignIn(callback, start)).sub).toBe('u-alice');
  });
});

describe('discovery while the provider is down', () => {
  let op: TestProvider;
  beforeAll(async () => {
    op = await startTestProvider({ users: [alice], clients: [{ clientId: 'gatehouse', clientSecret: SECRET, redirectUris: [REDIRECT_URI] }] });
  });
  afterAll(async () => {
    await op.close();
  });

  it('answers 503 while unreachable and recovers on the next sign-in (a failure is never cached)', async () => {
    await op.stop();
    // Background retries are far apart here: only the sign-in itself can trigger the recovery.
    const client = newClient(op.issuer, { retry: { initialMs: 60_000, maxMs: 60_000 } });
    expect(client.status().state).toBe('discovering');
    client.start();
    await vi.waitFor(() => expect(client.status().state).toBe('unreachable'), { timeout: 5_000, interval: 10 });
    const status = client.status();
    expect(status.lastError).toMatch(/ECONNREFUSED/);
    expect(status.since).toBeLessThanOrEqual(Date.now());
    await expectSignInError(client.beginSignIn(), 'IDP_UNREACHABLE', 503, /ECONNREFUSED/);
    expect(client.endSessionUrl(null, SIGNED_OUT_URI)).toBeNull();
    expect(logLines.some((line) => line.includes('discovery failed'))).toBe(true);

    await op.restart();
    const start = await vi.waitFor(() => client.beginSignIn(), { timeout: 5_000, interval: 100 });
    expect(new URL(start.url).origin).toBe(op.issuer);
    expect(client.status()).toMatchObject({ state: 'ready', lastError: null });
    const result = await signInViaHttp(start.url, alice.email, alice.password, new CookieJar(), { stopAt: (url) => url.href.startsWith(REDIRECT_URI) });
    expect((await client.finishSignIn(result.url, start)).email).toBe(alice.email);
    expect(logLines.join('\n')).not.toContain(SECRET);
  });

  it('keeps retrying in the background with backoff until the provider is back', async () => {
    await op.stop();
    const client = newClient(op.issuer, { retry: { initialMs: 20, maxMs: 80 } });
    client.start();
    await vi.waitFor(() => expect(logLines.filter((line) => line.includes('discovery failed')).length).toBeGreaterThanOrEqual(4), { timeout: 5_000, interval: 10 });
    expect(client.status().state).toBe('unreachable');
    const delays = logLines.filter((line) => line.includes('discovery failed')).map((line) => (JSON.parse(line) as { retryInMs: number }).retryInMs);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(80);
    expect(Math.max(...delays)).toBeGreaterThanOrEqual(40);

    await op.restart();
    await vi.waitFor(() => expect(client.status().state).toBe('ready'), { timeout: 5_000, interval: 20 });
  });

  it('bounds every request by the timeout when the provider accepts connections but never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as { port: number };
      const client = newClient(`http://127.0.0.1:${port}`, { timeoutMs: 200, retry: { initialMs: 60_000, maxMs: 60_000 } });
      const started = Date.now();
      client.start();
      await vi.waitFor(() => expect(client.status().state).toBe('unreachable'), { timeout: 5_000, interval: 20 });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(client.status().lastError).toMatch(/timed out|timeout/i);
      expect(sockets.length).toBeGreaterThanOrEqual(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('refuses an http:// issuer unless allowed, and scopes without openid', () => {
    expect(() => newClient(op.issuer, { allowHttp: false })).toThrow(/https/);
    expect(() => newClient(op.issuer, { scopes: 'email profile' })).toThrow(/openid/);
    expect(() => newClient(op.issuer, { redirectUri: `${REDIRECT_URI}?next=/` })).toThrow(/query/);
  });
});
