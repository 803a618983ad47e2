import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser, type Page } from '../helpers/browser.ts';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { loopbackFetch } from '../helpers/http-sign-in.ts';
import { waitFor } from '../helpers/http.ts';
import { docker } from '../helpers/images.ts';
import { startTestProvider, type TestProvider } from '../helpers/oidc-provider.ts';
import { freePort } from '../integration/auth/support.ts';

/**
 * A real OpenID client in a container, declared only by labels: Apache with mod_auth_openidc
 * (Debian's package, PKCE S256) signs users in at Gatehouse's provider for apps, while the users
 * themselves sign in to Gatehouse at an outside provider (a real oidc-provider): Gatehouse
 * federates. Headless Chromium goes through the whole authorization-code flow.
 *
 * The app is published through Gatehouse (`iap.from`, `iap.allow`), so its redirect URI is on
 * its own route host. Gatehouse listens on all interfaces for this test only: mod_auth_openidc
 * in the container fetches discovery, keys and tokens from GATEHOUSE_AUTH_URL, which it reaches
 * through Docker's host-gateway. Everything is plain http on *.localhost (no certificate to
 * trust); with https, mod_auth_openidc needs a trusted certificate or OIDCSSLValidateServer Off.
 * The client secret is a label secret (`secret:NAME`).
 *
 * Needs the image gatehouse-test-oidc-app:local:
 *   bash /work/shared/tools/debian-image.sh gatehouse-test-oidc-app:local apache2 libapache2-mod-auth-openidc ca-certificates -- apache2ctl -D FOREGROUND
 */

const IMAGE = 'gatehouse-test-oidc-app:local';
const id = randomBytes(3).toString('hex');
const APP_HOST = `app-${id}.localhost`;
// Not *.localhost: curl (inside mod_auth_openidc) resolves those to its own loopback, whatever /etc/hosts says.
const AUTH_HOST = `auth-${id}.test`;
const CLIENT_ID = `app-${id}`;
const CLIENT_SECRET = randomBytes(24).toString('base64url');
const CONTAINER = `gh-oidc-app-${id}`;
const USERS = [
  { sub: 'u-alice', email: 'alice@example.com', name: 'Alice Example', groups: ['staff'], password: 'alice-pw' },
  { sub: 'u-bob', email: 'bob@example.com', name: 'Bob Example', groups: ['guests'], password: 'bob-pw' },
];

let port: number;
let op: TestProvider;
let gh: TestGatehouse;
let browser: Browser;
let dataDir: string;

const authUrl = () => `http://${AUTH_HOST}:${port}`;
const appUrl = (path: string) => `http://${APP_HOST}:${port}${path}`;
const redirectUri = () => appUrl('/protected/redirect_uri');

/** mod_auth_openidc's configuration: the provider is Gatehouse's `/oidc`, PKCE S256, the page echoes claims by SSI. */
function apacheConfig(): string {
  return `
ErrorLog /dev/stderr
LogLevel warn auth_openidc:info
OIDCProviderMetadataURL ${authUrl()}/oidc/.well-known/openid-configuration
OIDCClientID ${CLIENT_ID}
OIDCClientSecret ${CLIENT_SECRET}
OIDCRedirectURI ${redirectUri()}
OIDCCryptoPassphrase ${randomBytes(16).toString('hex')}
OIDCPKCEMethod S256
OIDCScope "openid email profile groups"
OIDCSSLValidateServer Off
OIDCProviderTokenEndpointAuth client_secret_basic
<Location /protected>
  AuthType openid-connect
  Require valid-user
  Options +Includes
  AddOutputFilter INCLUDES .shtml
  DirectoryIndex index.shtml
</Location>
`;
}

const PAGE = '<!doctype html><title>app</title><p id="email"><!--#echo var="OIDC_CLAIM_email" --></p><p id="groups"><!--#echo var="OIDC_CLAIM_groups" --></p><p id="iss"><!--#echo var="OIDC_CLAIM_iss" --></p>';

async function startApp(): Promise<void> {
  const label = (key: string, value: string) => ['--label', `${gh.prefix}.${key}=${value}`];
  await docker(
    'run', '-d', '--name', CONTAINER,
    '--add-host', `${AUTH_HOST}:host-gateway`,
    ...label('from', `http://${APP_HOST}`),
    ...label('port', '80'),
    ...label('allow', 'alice@example.com, bob@example.com'),
    ...label('deny', 'bob@example.com'),
    ...label('oidc.redirect_uris', redirectUri()),
    ...label('oidc.client_id', CLIENT_ID),
    ...label('oidc.client_secret', 'secret:app-oidc'),
    '-e', `OIDC_CONF=${apacheConfig()}`,
    '-e', `PAGE=${PAGE}`,
    IMAGE,
    'sh', '-c',
    'printf "%s" "$OIDC_CONF" > /etc/apache2/conf-enabled/oidc.conf && mkdir -p /var/www/html/protected && printf "%s" "$PAGE" > /var/www/html/protected/index.shtml && a2enmod -q auth_openidc include >/dev/null && exec apache2ctl -D FOREGROUND',
  );
}

/** An authorization request as an app makes it, with PKCE. */
function authorizationUrl(change: Record<string, string | null> = {}): string {
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: redirectUri(),
    response_type: 'code',
    scope: 'openid email',
    state: 'state-1234',
    nonce: 'nonce-1234',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  for (const [name, value] of Object.entries(change)) {
    if (value === null) params.delete(name);
    else params.set(name, value);
  }
  return `${authUrl()}/oidc/auth?${params}`;
}

async function signInAtOutsideProvider(page: Page, user: (typeof USERS)[number]): Promise<void> {
  await page.waitForURL((url) => url.origin === new URL(op.issuer).origin);
  await page.getByLabel('Username').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

beforeAll(async () => {
  port = await freePort();
  dataDir = await mkdtemp(join(tmpdir(), 'gh-oidc-app-'));
  const secretsDir = join(dataDir, 'label-secrets');
  await docker('image', 'inspect', IMAGE).catch(() => {
    throw new Error(`${IMAGE} is missing; build it as the comment at the top of this file says`);
  });
  op = await startTestProvider({
    users: USERS,
    clients: [{ clientId: 'gatehouse-tests', clientSecret: 'gatehouse-tests-secret-0123456789', redirectUris: [`${authUrl()}/oauth2/callback`] }],
  });
  await import('node:fs/promises').then((fs) => fs.mkdir(secretsDir, { recursive: true }));
  await writeFile(join(secretsDir, 'app-oidc'), `${CLIENT_SECRET}\n`);
  gh = await startTestGatehouse({
    GATEHOUSE_LISTEN: `0.0.0.0:${port}`,
    GATEHOUSE_AUTH_URL: authUrl(),
    GATEHOUSE_OIDC_ISSUER: op.issuer,
    GATEHOUSE_OIDC_CLIENT_ID: 'gatehouse-tests',
    GATEHOUSE_OIDC_CLIENT_SECRET: 'gatehouse-tests-secret-0123456789',
    GATEHOUSE_OIDC_SCOPES: 'openid email profile groups',
    GATEHOUSE_SECRET: randomBytes(32).toString('base64url'),
    GATEHOUSE_DATA_DIR: join(dataDir, 'data'),
    GATEHOUSE_LABEL_SECRETS_DIR: secretsDir,
  });
  await startApp();
  // Published once discovered: sign-in required rather than 404 or "starting".
  await waitFor(async () => {
    const response = await loopbackFetch(appUrl('/protected/'), { headers: { accept: 'application/json' } });
    return response.status === 401 ? true : undefined;
  }, 'the app to be published', 60_000, 200);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await docker('rm', '-f', CONTAINER).catch(() => undefined);
  await gh?.stop();
  await op?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 60_000);

describe('an app in a container signs users in through Gatehouse (labels only)', () => {
  it('publishes discovery for apps at <auth URL>/oidc, with PKCE S256 and the code flow only', async () => {
    const response = await loopbackFetch(`${authUrl()}/oidc/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    const discovery = (await response.json()) as Record<string, unknown>;
    expect(discovery['issuer']).toBe(`${authUrl()}/oidc`);
    expect(discovery['response_types_supported']).toEqual(['code']);
    expect(discovery['code_challenge_methods_supported']).toEqual(['S256']);
  });

  it('signs alice in to the app in Chromium: Gatehouse session from the outside provider, code flow with PKCE, the app shows her claims', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(appUrl('/protected/'));
      await signInAtOutsideProvider(page, USERS[0]!);
      // Back at the app: through Gatehouse's route, then the app's own sign-in at Gatehouse's provider, without a second password.
      await page.waitForURL(appUrl('/protected/'), { timeout: 30_000 });
      expect(await page.locator('#email').textContent()).toBe('alice@example.com');
      expect(await page.locator('#groups').textContent()).toBe('staff');
      expect(await page.locator('#iss').textContent()).toBe(`${authUrl()}/oidc`);
      const signedIn = gh.logs.find((line) => line['event'] === 'app_sign_in' && line['client'] === CLIENT_ID);
      expect(signedIn).toMatchObject({ outcome: 'allowed', user: 'alice@example.com', sub: 'u-alice' });
    } finally {
      await context.close();
    }
  }, 90_000);

  it("gives bob, refused by the container's iap.deny, no code: the app gets error=access_denied", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const toApp = page.waitForRequest((request) => request.url().startsWith(redirectUri()), { timeout: 30_000 });
      await page.goto(authorizationUrl());
      await signInAtOutsideProvider(page, USERS[1]!);
      const answer = new URL((await toApp).url());
      expect(answer.searchParams.get('error')).toBe('access_denied');
      expect(answer.searchParams.get('state')).toBe('state-1234');
      expect(answer.searchParams.has('code')).toBe(false);
      expect(gh.logs.find((line) => line['event'] === 'app_sign_in' && line['outcome'] === 'refused')).toMatchObject({ user: 'bob@example.com', reason: 'denied', entry: 'bob@example.com' });
    } finally {
      await context.close();
    }
  }, 90_000);

  it('sends codes nowhere but the registered redirect URI, and requires PKCE', async () => {
    // Another URI on the app's own host, and one elsewhere: a page at Gatehouse, never a redirect.
    for (const elsewhere of [appUrl('/other'), `http://evil-${id}.localhost:${port}/cb`]) {
      const response = await loopbackFetch(authorizationUrl({ redirect_uri: elsewhere }));
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
    }
    const withoutPkce = await loopbackFetch(authorizationUrl({ code_challenge: null, code_challenge_method: null }));
    expect(withoutPkce.status).toBe(303);
    const refusal = new URL(withoutPkce.headers.get('location') ?? '');
    expect(`${refusal.origin}${refusal.pathname}`).toBe(redirectUri());
    expect(refusal.searchParams.get('error')).toBe('invalid_request');
    expect(refusal.searchParams.has('code')).toBe(false);
  });

  it('removes the client with the container: the authorization request then fails with invalid_client', async () => {
    const before = await loopbackFetch(authorizationUrl());
    expect(before.status).toBe(303);
    expect(before.headers.get('location')).toMatch(/\/oidc\/interaction\//);

    await docker('rm', '-f', CONTAINER);
    await waitFor(async () => ((await loopbackFetch(appUrl('/'))).status === 404 ? true : undefined), 'the route to disappear', 30_000, 100);
    const after = await loopbackFetch(authorizationUrl());
    expect(after.status).toBe(400);
    expect(after.headers.get('location')).toBeNull();
    expect(await after.text()).toContain('client is invalid');
  }, 60_000);
});
