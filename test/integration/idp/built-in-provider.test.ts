import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBase32, generateTotpSecret } from '../../../src/idp/index.ts';
import { hotp, totpStep } from '../../../src/idp/totp.ts';
import { CookieJar, loopbackFetch, signInViaHttp } from '../../helpers/http-sign-in.ts';
import { browse, formAction, startIdpTestApp, type IdpTestApp } from '../../helpers/idp-app.ts';

/**
 * The built-in provider over real HTTP, driven by Gatehouse's real OpenID client
 * (src/auth/oidc.ts): discovery, the authorization code flow with PKCE, the sign-in form,
 * the TOTP step, the token and UserInfo requests over the loopback back channel.
 */

const TOTP_SECRET = generateTotpSecret();

function currentCode(offsetSteps = 0): string {
  return hotp(decodeBase32(TOTP_SECRET)!, totpStep(Date.now()) + offsetSteps);
}

function signedInUser(body: string): Record<string, unknown> {
  const json = /<pre id="user">([^<]*)<\/pre>/.exec(body)?.[1];
  if (json === undefined) throw new Error(`not signed in: ${body.slice(0, 400)}`);
  return JSON.parse(json.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))) as Record<string, unknown>;
}

describe('built-in identity provider', () => {
  let app: IdpTestApp;

  beforeAll(async () => {
    app = await startIdpTestApp({
      users: {
        alice: { email: 'alice@example.com', name: 'Alice Example', groups: ['demo', 'admins'], password: 'alice-password' },
        tom: { email: 'tom@example.com', groups: ['ops'], password: 'tom-password', totp: TOTP_SECRET },
        locky: { email: 'locky@example.com', password: 'locky-password' },
        dora: { email: 'dora@example.com', password: 'dora-password', disabled: true },
      },
    });
  });
  afterAll(() => app?.close());

  it('publishes discovery under /idp on the sign-in host, code flow with S256 only', async () => {
    const response = await loopbackFetch(`${app.provider.issuer}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata['issuer']).toBe(`${app.origin}/idp`);
    for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'end_session_endpoint']) {
      expect(String(metadata[endpoint])).toMatch(new RegExp(`^${app.origin}/idp/`));
    }
    expect(metadata['response_types_supported']).toEqual(['code']);
    expect(metadata['code_challenge_methods_supported']).toEqual(['S256']);
    expect(metadata['scopes_supported']).toEqual(expect.arrayContaining(['openid', 'email', 'profile', 'groups']));
    expect(metadata['claims_supported']).toEqual(expect.arrayContaining(['sub', 'email', 'email_verified', 'name', 'preferred_username', 'groups']));
    expect(metadata['authorization_response_iss_parameter_supported']).toBe(true);
  });

  it('signs in with a password; the client gets email and groups through UserInfo', async () => {
    const result = await signInViaHttp(app.loginUrl, 'alice', 'alice-password');
    expect(result.submittedLogin).toBe(true);
    expect(result.response.status).toBe(200);
    expect(signedInUser(result.body)).toEqual({ sub: 'alice', email: 'alice@example.com', emailVerified: true, name: 'Alice Example', groups: ['demo', 'admins'], amr: ['pwd'] });
    expect(result.visited.some((url) => url.pathname.startsWith('/idp/interaction/'))).toBe(true);
    expect(result.url.pathname).toBe('/oauth2/callback');
    // The provider's cookies are Gatehouse cookies, scoped to /idp, HttpOnly and SameSite=Lax.
    const idpCookies = result.jar.all().filter((cookie) => cookie.name.startsWith('gatehouse_idp_'));
    expect(idpCookies.map((cookie) => cookie.name)).toContain('gatehouse_idp_session');
    for (const cookie of idpCookies) {
      expect(cookie.path.startsWith('/idp')).toBe(true);
      expect(cookie.httpOnly).toBe(true);
      expect(cookie.sameSite?.toLowerCase()).toBe('lax');
    }
    const logged = app.logs.filter((line) => line.includes('"event":"sign_in"') && line.includes('"user":"alice"'));
    expect(logged.some((line) => line.includes('"outcome":"success"') && line.includes('"ip":"127.0.0.1"'))).toBe(true);
    expect(app.logs.join('\n')).not.toContain('alice-password');
  });

  it('signs in by email too, and a second sign-in in the same browser needs no password', async () => {
    const jar = new CookieJar();
    const first = await signInViaHttp(app.loginUrl, 'Alice@Example.com', 'alice-password', jar);
    expect(signedInUser(first.body)['sub']).toBe('alice');
    const second = await browse(jar, app.loginUrl);
    expect(second.visited.some((url) => url.pathname.startsWith('/idp/interaction/'))).toBe(false);
    expect(signedInUser(second.body)['email']).toBe('alice@example.com');
  });

  it('asks for a TOTP code after the password, and refuses a wrong or replayed code', async () => {
    const jar = new CookieJar();
    const afterPassword = await signInViaHttp(app.loginUrl, 'tom', 'tom-password', jar);
    expect(afterPassword.response.status).toBe(200);
    expect(afterPassword.body).toContain('autocomplete="one-time-code"');
    const action = formAction(afterPassword.body, afterPassword.url);
    expect(action.pathname).toMatch(/^\/idp\/interaction\/[\w-]+\/totp$/);

    const wrong = await browse(jar, action, { form: { code: currentCode(5) } });
    expect(wrong.response.status).toBe(401);
    expect(wrong.body).toContain('That code is not right, or it was already used.');

    const code = currentCode();
    const done = await browse(jar, action, { form: { code } });
    expect(signedInUser(done.body)).toMatchObject({ sub: 'tom', email: 'tom@example.com', groups: ['ops'] });

    // The same code again, in a fresh browser, after the right password: refused.
    const jar2 = new CookieJar();
    const again = await signInViaHttp(app.loginUrl, 'tom', 'tom-password', jar2);
    const replay = await browse(jar2, formAction(again.body, again.url), { form: { code } });
    expect(replay.response.status).toBe(401);
    expect(app.logs.some((line) => line.includes('"reason":"code already used"'))).toBe(true);
  });

  it('answers a wrong password and an unknown user with the same message', async () => {
    const wrong = await signInViaHttp(app.loginUrl, 'alice', 'not-her-password');
    const unknown = await signInViaHttp(app.loginUrl, 'nobody-here', 'not-her-password');
    const disabled = await signInViaHttp(app.loginUrl, 'dora', 'dora-password');
    for (const result of [wrong, unknown, disabled]) {
      expect(result.response.status).toBe(401);
      expect(result.body).toContain('Wrong username or password.');
      expect(result.body).toContain('role="alert"');
      expect(result.url.pathname).toMatch(/^\/idp\/interaction\//);
    }
    const reasons = app.logs.filter((line) => line.includes('"outcome":"failure"')).map((line) => (JSON.parse(line) as { reason: string }).reason);
    expect(reasons).toEqual(expect.arrayContaining(['wrong password', 'unknown user', 'account disabled']));
  });

  it('locks a user name after five failures, even for the right password, and says for how long', async () => {
    for (let i = 0; i < 4; i += 1) {
      const result = await signInViaHttp(app.loginUrl, 'locky', `guess-${i}`);
      expect(result.response.status).toBe(401);
    }
    const fifth = await signInViaHttp(app.loginUrl, 'locky', 'guess-4');
    expect(fifth.response.status).toBe(429);
    expect(fifth.body).toContain('Too many attempts — try again in 1 minute.');
    const right = await signInViaHttp(app.loginUrl, 'locky', 'locky-password');
    expect(right.response.status).toBe(429);
    expect(right.body).toContain('Too many attempts — try again in 1 minute.');
    expect(app.logs.some((line) => line.includes('"event":"sign_in_locked"') && line.includes('"user":"locky"'))).toBe(true);
  });

  it('refuses a form posted from another site, a missing interaction cookie and a foreign interaction', async () => {
    const jar = new CookieJar();
    const page = await browse(jar, app.loginUrl);
    const action = formAction(page.body, page.url);
    const form = { username: 'alice', password: 'alice-password' };

    const crossSite = await browse(jar, action, { form, headers: { origin: 'http://evil.localhost' } });
    expect(crossSite.response.status).toBe(403);
    const crossSiteFetch = await browse(jar, action, { form, headers: { 'sec-fetch-site': 'cross-site' } });
    expect(crossSiteFetch.response.status).toBe(403);

    const noCookie = await browse(new CookieJar(), action, { form });
    expect(noCookie.response.status).toBe(400);
    expect(noCookie.body).toContain('Sign-in expired');

    // Another browser's interaction cookie does not open this interaction, though it opens its own.
    const otherJar = new CookieJar();
    const otherPage = await browse(otherJar, app.loginUrl);
    const otherAction = formAction(otherPage.body, otherPage.url);
    expect(otherAction.href).not.toBe(action.href);
    const otherCookies = otherJar.header(otherAction)!;
    expect(otherCookies).toMatch(/gatehouse_idp_interaction=[^;]+; gatehouse_idp_interaction\.sig=/);
    const post = (target: URL) =>
      loopbackFetch(target, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: otherCookies }, body: new URLSearchParams(form).toString() });
    const mixed = await post(action);
    expect(mixed.status).toBe(400);
    expect(await mixed.text()).toContain('Sign-in expired');
    const own = await post(otherAction);
    expect(own.status).toBe(303);

    // The same-origin post still works.
    const ok = await browse(jar, action, { form, headers: { origin: app.origin } });
    expect(signedInUser(ok.body)['sub']).toBe('alice');
  });

  it('asks before signing out when the request does not come from Gatehouse, then asks for the password again', async () => {
    const jar = new CookieJar();
    await signInViaHttp(app.loginUrl, 'alice', 'alice-password', jar);
    // No ID token hint: any page could have sent the browser here.
    const confirm = await browse(jar, `${app.provider.issuer}/session/end`);
    expect(confirm.response.status).toBe(200);
    expect(confirm.body).toContain('<h1>Sign out?</h1>');
    expect(confirm.body).not.toMatch(/<script/i);
    const action = formAction(confirm.body, confirm.url);
    expect(action.pathname).toBe('/idp/session/end/confirm');
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)?.[1] ?? '';
    const done = await browse(jar, action, { form: { xsrf, logout: 'yes' }, headers: { origin: app.origin } });
    expect(done.body).toContain('You are signed out.');
    const again = await browse(jar, app.loginUrl);
    expect(again.url.pathname).toMatch(/^\/idp\/interaction\//);
    expect(again.body).toContain('<h1>Sign in</h1>');
  });

  it('does not ask again when Gatehouse sends the sign-out with an ID token from this session', async () => {
    const jar = new CookieJar();
    await signInViaHttp(app.loginUrl, 'alice', 'alice-password', jar);
    // What Gatehouse's sign-out sends the browser to: the end-session endpoint with the ID token as hint.
    const endSession = (await loopbackFetch(`${app.origin}/logout`)).headers.get('location')!;
    expect(new URL(endSession).searchParams.get('id_token_hint')).toBeTruthy();
    const continuing = await browse(jar, endSession);
    expect(continuing.response.status).toBe(200);
    expect(continuing.body).toContain('<h1>Signing out…</h1>');
    expect(continuing.body).not.toContain('Sign out?');
    // The page's one script clicks the button; the CSP allows that script by its hash and nothing else.
    const script = /<script>([^<]*)<\/script>/.exec(continuing.body)?.[1] ?? '';
    expect(script).toContain("getElementById('finish').click()");
    expect(continuing.response.headers.get('content-security-policy')).toContain(`script-src 'sha256-${createHash('sha256').update(script).digest('base64')}'`);
    expect(continuing.body).toMatch(/<button type="submit" id="finish" form="op.logoutForm" name="logout" value="yes"/);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(continuing.body)?.[1] ?? '';
    const done = await browse(jar, formAction(continuing.body, continuing.url), { form: { xsrf, logout: 'yes' }, headers: { origin: app.origin } });
    expect(done.url.pathname).toBe('/oauth2/signed_out');
    expect((await browse(jar, app.loginUrl)).body).toContain('<h1>Sign in</h1>');

    // The same ID token in a later session of the same user: asked again.
    const firstSignIn = (decodeJwt(new URL(endSession).searchParams.get('id_token_hint')!).auth_time as number) * 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, firstSignIn + 1_100 - Date.now())));
    await signInViaHttp(app.loginUrl, 'alice', 'alice-password', jar);
    const stale = await browse(jar, endSession);
    expect(stale.body).toContain('<h1>Sign out?</h1>');
  });

  it('refuses an authorization request without PKCE', async () => {
    const url = new URL(`${app.provider.issuer}/auth`);
    url.search = new URLSearchParams({ client_id: app.provider.clientId, response_type: 'code', scope: 'openid', redirect_uri: app.provider.redirectUri, state: 'x', nonce: 'y' }).toString();
    const response = await browse(new CookieJar(), url);
    expect(response.url.pathname).toBe('/oauth2/callback');
    expect(response.url.searchParams.get('error')).toBe('invalid_request');
    expect(response.url.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('serves the sign-in page accessibly and without scripts', async () => {
    const page = await browse(new CookieJar(), app.loginUrl);
    expect(page.response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.response.headers.get('x-frame-options')).toBe('DENY');
    expect(page.response.headers.get('cache-control')).toBe('no-store');
    expect(page.body).toMatch(/<html lang="en">/);
    expect(page.body).not.toMatch(/<script/i);
    for (const id of ['username', 'password']) {
      expect(page.body).toContain(`<label for="${id}">`);
      expect(page.body).toContain(`id="${id}"`);
    }
    expect(page.body).toContain('autocomplete="username"');
    expect(page.body).toContain('autocomplete="current-password"');
    expect(page.body).toMatch(/<form method="post" action="\/idp\/interaction\/[\w-]+"/);
    expect(page.body).toContain(':focus-visible');
  });

  it('answers only the sign-in host under /idp, and keeps the interaction pages off the back channel', async () => {
    const host = new URL(app.origin).hostname;
    expect(app.provider.handles(host, '/idp/auth')).toBe(true);
    expect(app.provider.handles(host.toUpperCase(), '/idp')).toBe(true);
    expect(app.provider.handles(host, '/idpx')).toBe(false);
    expect(app.provider.handles(host, '/oauth2/callback')).toBe(false);
    expect(app.provider.handles('app.gh.localhost', '/idp/auth')).toBe(false);
    const back = await app.provider.fetch(`${app.provider.issuer}/interaction/whatever`, { method: 'GET', headers: {} });
    expect(back.status).toBe(404);
    const jwks = await app.provider.fetch(`${app.provider.issuer}/jwks`, { method: 'GET', headers: {} });
    expect(((await jwks.json()) as { keys: Array<{ d?: string; kty: string }> }).keys.map((key) => [key.kty, key.d])).toEqual([['RSA', undefined]]);
  });
});

describe('built-in identity provider behind an https sign-in URL', () => {
  it('speaks https in its URLs and cookies, and the client still reaches it over loopback', async () => {
    const app = await startIdpTestApp({ scheme: 'https', users: { alice: { email: 'alice@example.com', password: 'alice-password' } } });
    try {
      expect(app.provider.issuer).toMatch(/^https:\/\/auth\.gh\.localhost:\d+\/idp$/);
      // Discovery, through the back channel, with no TLS anywhere: the client accepts the https issuer.
      const start = await app.oidc.beginSignIn();
      expect(start.url.startsWith(`${app.origin}/idp/auth?`)).toBe(true);
      const plain = new URL(start.url);
      plain.protocol = 'http:';
      const response = await loopbackFetch(plain, { headers: { accept: 'text/html' } });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toMatch(/^\/idp\/interaction\/[\w-]+$/);
      const cookies = response.headers.getSetCookie().filter((cookie) => cookie.startsWith('gatehouse_idp_'));
      expect(cookies.length).toBeGreaterThan(0);
      for (const cookie of cookies) expect(cookie.toLowerCase()).toContain('; secure');
    } finally {
      await app.close();
    }
  });
});

describe('built-in identity provider: users file and data directory', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-idp-data-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('creates an admin with a random password on first start, logged once, and keeps its keys across restarts', async () => {
    const first = await startIdpTestApp({ dataDir });
    let firstKeys: string;
    let secret: string;
    try {
      const created = first.logs.filter((line) => line.includes('with the user \\"admin\\"'));
      expect(created).toHaveLength(1);
      const password = /the password ([a-z2-7]{5}(?:-[a-z2-7]{5}){3}) ;/.exec(JSON.parse(created[0]!).msg as string)?.[1];
      expect(password).toBeDefined();
      expect(created[0]).toContain('gatehouse users passwd admin');
      expect((await stat(join(dataDir, 'users.yml'))).mode & 0o777).toBe(0o600);
      for (const file of ['jwks.json', 'cookie-keys', 'client-secret']) expect((await stat(join(dataDir, 'idp', file))).mode & 0o777).toBe(0o600);
      expect((await stat(join(dataDir, 'idp'))).mode & 0o777).toBe(0o700);
      const result = await signInViaHttp(first.loginUrl, 'admin', password!);
      expect(signedInUser(result.body)).toMatchObject({ sub: 'admin', groups: ['admins'] });
      firstKeys = await readFile(join(dataDir, 'idp', 'jwks.json'), 'utf8');
      secret = first.provider.clientSecret;
    } finally {
      await first.close();
    }
    const second = await startIdpTestApp({ dataDir });
    try {
      expect(second.logs.some((line) => line.includes('with the user \\"admin\\"'))).toBe(false);
      expect(second.provider.clientSecret).toBe(secret);
      expect(await readFile(join(dataDir, 'idp', 'jwks.json'), 'utf8')).toBe(firstKeys);
    } finally {
      await second.close();
    }
  });

  it('applies users file edits without a restart; a broken file keeps the last good users', async () => {
    const app = await startIdpTestApp({ users: { alice: { email: 'alice@example.com', password: 'alice-password' } } });
    try {
      const jar = new CookieJar();
      expect(signedInUser((await signInViaHttp(app.loginUrl, 'alice', 'alice-password', jar)).body)['sub']).toBe('alice');

      await app.writeUsers({ alice: { email: 'alice@example.com', password: 'alice-password' }, bob: { email: 'bob@example.com', groups: ['new'], password: 'bob-password' } });
      expect(signedInUser((await signInViaHttp(app.loginUrl, 'bob', 'bob-password')).body)).toMatchObject({ sub: 'bob', groups: ['new'] });

      const { writeFile } = await import('node:fs/promises');
      await writeFile(app.usersFile, 'users:\n  bob: [\n');
      await expect.poll(() => app.logs.some((line) => line.includes('users file not loaded')), { timeout: 10_000 }).toBe(true);
      const broken = app.logs.find((line) => line.includes('users file not loaded'))!;
      expect((JSON.parse(broken) as { error: string }).error).toMatch(/users\.yml:\d+:\d+: /);
      expect(signedInUser((await signInViaHttp(app.loginUrl, 'bob', 'bob-password')).body)['sub']).toBe('bob');

      // Removing alice ends her single sign-on at the provider: the next sign-in asks again and fails.
      await app.writeUsers({ bob: { email: 'bob@example.com', password: 'bob-password' } });
      const next = await browse(jar, app.loginUrl);
      expect(next.url.pathname).toMatch(/^\/idp\/interaction\//);
      expect(next.body).toContain('<h1>Sign in</h1>');
      const retry = await signInViaHttp(app.loginUrl, 'alice', 'alice-password', jar);
      expect(retry.response.status).toBe(401);
      expect(retry.body).toContain('Wrong username or password.');
    } finally {
      await app.close();
    }
  });
});
