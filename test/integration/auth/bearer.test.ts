import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/http.ts';
import { loopbackFetch, signInViaHttp } from '../../helpers/http-sign-in.ts';
import { startAuthStack, type AuthStack } from './support.ts';

const run = promisify(execFile);

/**
 * Bearer tokens on a route with `iap.bearer: true`, issued by a real OpenID Provider
 * (oidc-provider in this process) through the client credentials grant as JWT access tokens
 * (RFC 8707 resource indicators set the audience), and sent by curl. Gatehouse checks them
 * against the provider's published keys: the issuer, the audience (GATEHOUSE_BEARER_AUDIENCES),
 * the expiry and the signature.
 */

const API = 'https://api.gh.test';
const OTHER_API = 'https://other.gh.test';
const SHORT_API = 'https://short.gh.test';
const ROBOT = { clientId: 'robot', clientSecret: 'robot-secret-0123456789abcdef', redirectUris: [], grantTypes: ['client_credentials'] };
const INTRUDER = { clientId: 'intruder', clientSecret: 'intruder-secret-0123456789abcdef', redirectUris: [], grantTypes: ['client_credentials'] };

let stack: AuthStack;

async function clientCredentials(client: { clientId: string; clientSecret: string }, resource: string): Promise<string> {
  const response = await fetch(`${stack.op.issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'api' }).toString(),
  });
  const body = (await response.json()) as { access_token?: string };
  expect(response.status, JSON.stringify(body)).toBe(200);
  return body.access_token!;
}

/** curl resolves `*.localhost` to this machine by itself. */
async function curl(token: string, path = '/'): Promise<{ status: number; challenge: string }> {
  const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-D', '-', '-H', `Authorization: Bearer ${token}`, stack.url('api.gh.localhost', path)]);
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/m.exec(stdout)?.[1]);
  return { status, challenge: /^www-authenticate: (.*)$/im.exec(stdout)?.[1]?.trim() ?? '' };
}

beforeAll(async () => {
  stack = await startAuthStack({
    users: [{ sub: 'erin-0001', email: 'erin@example.com', name: 'Erin', groups: ['demo'], password: 'erin-password' }],
    routes: [
      { from: 'http://api.gh.localhost', allow: 'user:robot', bearer: true },
      { from: 'http://dav.gh.localhost', allow: 'group:demo', basic_auth: true, bearer: true },
      { from: 'http://cookies-only.gh.localhost', allow: 'user:robot' },
    ],
    extraClients: [ROBOT, INTRUDER],
    apiResources: { [API]: 600, [OTHER_API]: 600, [SHORT_API]: 1 },
    env: { GATEHOUSE_BEARER_AUDIENCES: API },
  });
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

describe('bearer tokens from the sign-in provider', () => {
  it('admits a valid access token for the configured audience, and keeps it from the app', async () => {
    const token = await clientCredentials(ROBOT, API);
    expect(decodeJwt(token)).toMatchObject({ aud: API, sub: 'robot', iss: stack.op.issuer });
    const answer = await curl(token, '/data');
    expect(answer.status).toBe(200);
    const received = stack.upstream.received.findLast((request) => request.url === '/data');
    expect(received?.headers['x-iap-user']).toBe('robot');
    expect(received?.headers['authorization']).toBeUndefined();
  });

  it('refuses a token for another audience, with error="invalid_token"', async () => {
    const answer = await curl(await clientCredentials(ROBOT, OTHER_API));
    expect(answer.status).toBe(401);
    expect(answer.challenge).toBe('Bearer realm="Gatehouse api.gh.localhost", error="invalid_token"');
  });

  it('refuses an expired token', async () => {
    const token = await clientCredentials(ROBOT, SHORT_API);
    const { exp } = decodeJwt(token);
    // Past its expiry and the 5-second leeway; the token itself is otherwise valid.
    await waitFor(() => (Date.now() / 1000 > (exp ?? 0) + 6 ? true : undefined), 'the token to expire', 20_000, 200);
    const answer = await curl(token);
    expect(answer.status).toBe(401);
    expect(answer.challenge).toContain('error="invalid_token"');
  }, 30_000);

  it("applies the route's policy to the token's subject", async () => {
    const answer = await curl(await clientCredentials(INTRUDER, API));
    expect(answer.status).toBe(403);
  });

  it('refuses a tampered token and ignores bearer tokens on routes without iap.bearer', async () => {
    const token = await clientCredentials(ROBOT, API);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...decodeJwt(token), sub: 'admin' })).toString('base64url')}.${signature}`;
    expect((await curl(forged)).status).toBe(401);
    expect(payload).not.toBe('');

    const elsewhere = await loopbackFetch(stack.url('cookies-only.gh.localhost'), { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse"');
  });
});

describe('the self-service page for a user of an outside provider', () => {
  it('shows profile, app passwords and sessions only, and makes app passwords that work as Basic and as bearer', async () => {
    const signedIn = await signInViaHttp(`${stack.authUrl}/account`, 'erin-0001', 'erin-password');
    expect(signedIn.url.pathname).toBe('/account');
    const html = signedIn.body;
    expect(html).toContain('erin@example.com');
    expect(html).toContain('id="app-passwords"');
    expect(html).toContain('id="sessions"');
    expect(html).not.toContain('id="password"');
    expect(html).not.toContain('id="passkeys"');
    expect(html).not.toContain('<script');
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    // A sign-in of the last 15 minutes stands in for the password Gatehouse does not have.
    const created = await loopbackFetch(`${stack.authUrl}/account/app-passwords`, {
      method: 'POST',
      headers: { cookie: signedIn.jar.header(new URL(stack.authUrl))!, origin: stack.authUrl, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, name: 'calendar' }).toString(),
    });
    const page = await created.text();
    expect(created.status).toBe(200);
    const secret = /id="app-password">([^<]+)</.exec(page)![1]!;

    const basic = await loopbackFetch(stack.url('dav.gh.localhost', '/calendar'), { headers: { authorization: `Basic ${Buffer.from(`erin@example.com:${secret}`).toString('base64')}` } });
    expect(basic.status).toBe(200);
    expect(stack.upstream.received.findLast((request) => request.url === '/calendar')?.headers['x-iap-email']).toBe('erin@example.com');
    const bearer = await loopbackFetch(stack.url('dav.gh.localhost', '/token'), { headers: { authorization: `Bearer ${secret}` } });
    expect(bearer.status).toBe(200);
    // Not on a route that takes only provider tokens for someone else.
    expect((await curl(secret)).status).toBe(403);
  });
});
