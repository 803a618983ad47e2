import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { decodeBase32, generateTotpSecret } from '../../src/idp/index.ts';
import { hotp, totpStep } from '../../src/idp/totp.ts';
import { launchBrowser, type Browser, type BrowserContext, type Page } from '../helpers/browser.ts';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { usersYaml, type TestUserSpec } from '../helpers/idp-app.ts';
import { startTestProvider, type TestProvider, type TestUser } from '../helpers/oidc-provider.ts';
import { http, waitFor } from '../helpers/http.ts';
import { CookieJar, loopbackFetch, signInViaHttp } from '../helpers/http-sign-in.ts';
import { freePort, startUpstream, type Upstream } from '../integration/auth/support.ts';

/**
 * One Gatehouse with three sign-in methods at once, in headless Chromium: two real OpenID
 * providers (`corp`, whose sign-ins report `amr: mfa`, and `home`, which reports nothing unless
 * asked for its MFA level in `acr_values`) and the built-in users (`local`). A chooser on the
 * sign-in host, `provider:` rules, and per-app two-factor with step-up instead of refusal.
 */

const AUTH = 'auth.mp.gh.localhost';
const OPEN = 'open.mp.gh.localhost';
const CORP_ONLY = 'corp-only.mp.gh.localhost';
const MFA = 'mfa.mp.gh.localhost';
const HOME_ONLY = 'home-only.mp.gh.localhost';
const HOME_MFA = 'urn:home:mfa';

const carol: TestUser = { sub: 'u-carol', email: 'carol@corp.test', name: 'Carol', groups: ['staff'], password: 'carol-pw', amr: ['pwd', 'mfa'] };
const dave: TestUser = { sub: 'u-dave', email: 'dave@home.test', name: 'Dave', groups: ['family'], password: 'dave-pw' };
const TOTP_SECRET = generateTotpSecret();
const lena: TestUserSpec = { email: 'lena@example.com', name: 'Lena', groups: ['kids'], password: 'lena-password' };
const noah: TestUserSpec = { email: 'noah@example.com', name: 'Noah', groups: ['kids'], password: 'noah-password' };

let dir: string;
let port: number;
let corp: TestProvider;
let home: TestProvider;
let upstream: Upstream;
let gh: TestGatehouse;
let browser: Browser;
const contexts: BrowserContext[] = [];
const url = (host: string, path = '/') => `http://${host}:${port}${path}`;
const authUrl = () => `http://${AUTH}:${port}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gh-providers-'));
  port = await freePort();
  const client = (name: string) => ({
    clientId: `gatehouse-${name}`,
    clientSecret: `secret-for-${name}-0123456789abcdef`,
    redirectUris: [`${authUrl()}/oauth2/callback/${name}`],
    postLogoutRedirectUris: [`${authUrl()}/oauth2/signed_out`],
  });
  corp = await startTestProvider({ users: [carol], clients: [client('corp')] });
  home = await startTestProvider({ users: [dave], clients: [client('home')], mfaAcr: HOME_MFA });
  upstream = await startUpstream('upstream');
  await writeFile(join(dir, 'users.yml'), await usersYaml({ lena, noah }));
  await writeFile(
    join(dir, 'routes.yml'),
    stringify({
      routes: [
        { from: `http://${OPEN}`, to: upstream.origin, allow: '*' },
        { from: `http://${CORP_ONLY}`, to: upstream.origin, allow: 'provider:corp', name: 'Corp tools' },
        { from: `http://${MFA}`, to: upstream.origin, allow: '*', mfa: 'required' },
        { from: `http://${HOME_ONLY}`, to: upstream.origin, allow: '*', providers: 'home' },
      ],
    }),
  );
  const provider = (name: string, op: TestProvider) => ({
    [`GATEHOUSE_OIDC_${name.toUpperCase()}_ISSUER`]: op.issuer,
    [`GATEHOUSE_OIDC_${name.toUpperCase()}_CLIENT_ID`]: `gatehouse-${name}`,
    [`GATEHOUSE_OIDC_${name.toUpperCase()}_CLIENT_SECRET`]: `secret-for-${name}-0123456789abcdef`,
    [`GATEHOUSE_OIDC_${name.toUpperCase()}_SCOPES`]: 'openid email profile groups',
  });
  gh = await startTestGatehouse({
    GATEHOUSE_LISTEN: `127.0.0.1:${port}`,
    GATEHOUSE_CONFIG: join(dir, 'routes.yml'),
    GATEHOUSE_AUTH_URL: authUrl(),
    GATEHOUSE_USERS_FILE: join(dir, 'users.yml'),
    GATEHOUSE_DATA_DIR: join(dir, 'data'),
    ...provider('corp', corp),
    ...provider('home', home),
    GATEHOUSE_OIDC_HOME_MFA_ACR: HOME_MFA,
  });
  await waitFor(async () => ((await http(port, `${OPEN}:${port}`, '/', { headers: { accept: 'application/json' } })).status === 401 ? true : undefined), 'the routes to be served');
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await gh?.stop();
  await Promise.all([corp?.close(), home?.close(), upstream?.close()]);
  await rm(dir, { recursive: true, force: true });
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  return context.newPage();
}

async function echoed(page: Page): Promise<Record<string, string>> {
  return (JSON.parse((await page.locator('#echo').textContent()) ?? '{}') as { headers: Record<string, string> }).headers;
}

/** The test providers' login form. */
async function providerLogIn(page: Page, user: TestUser): Promise<void> {
  await page.getByLabel('Username').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The built-in provider's login form. */
async function builtinLogIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username or email').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('several sign-in methods in one Gatehouse', () => {
  let carolPage: Page;
  let davePage: Page;
  let lenaPage: Page;

  it('offers every method on a chooser and signs carol in at corp', async () => {
    carolPage = await newPage();
    await carolPage.goto(url(OPEN, '/reports?q=1'));
    expect(new URL(carolPage.url()).host).toBe(`${AUTH}:${port}`);
    const methods = await carolPage.locator('#methods a').allTextContents();
    expect(methods).toEqual(['Local account', 'Corp', 'Home']);
    await carolPage.getByRole('link', { name: 'Corp' }).click();
    expect(carolPage.url().startsWith(`${corp.issuer}/interaction/`)).toBe(true);
    await providerLogIn(carolPage, carol);
    await carolPage.waitForURL(url(OPEN, '/reports?q=1'));
    expect((await echoed(carolPage))['x-iap-email']).toBe('carol@corp.test');
  });

  it('signs dave in at home and lena with a local account, in other browsers', async () => {
    davePage = await newPage();
    await davePage.goto(url(OPEN, '/'));
    await davePage.getByRole('link', { name: 'Home' }).click();
    expect(davePage.url().startsWith(`${home.issuer}/interaction/`)).toBe(true);
    await providerLogIn(davePage, dave);
    await davePage.waitForURL(url(OPEN, '/'));
    expect((await echoed(davePage))['x-iap-email']).toBe('dave@home.test');

    lenaPage = await newPage();
    await lenaPage.goto(url(OPEN, '/'));
    await lenaPage.getByRole('link', { name: 'Local account' }).click();
    expect(new URL(lenaPage.url()).pathname).toMatch(/^\/idp\/interaction\//);
    await builtinLogIn(lenaPage, 'lena', 'lena-password');
    await lenaPage.waitForURL(url(OPEN, '/'));
    expect((await echoed(lenaPage))['x-iap-email']).toBe('lena@example.com');
  });

  it('lets the corp sign-in through a provider:corp rule and refuses the others', async () => {
    await carolPage.goto(url(CORP_ONLY, '/'));
    expect(await carolPage.locator('#app').textContent()).toBe('upstream');
    for (const page of [davePage, lenaPage]) {
      const refused = await page.goto(url(CORP_ONLY, '/'));
      expect(refused?.status()).toBe(403);
      expect(await page.content()).toContain('does not let this account in');
    }
  });

  it("honours corp's amr: carol opens the two-factor app without signing in again", async () => {
    const before = corp.authorizationRequests.length;
    await carolPage.goto(url(MFA, '/'));
    await carolPage.waitForURL(url(MFA, '/'));
    expect(await carolPage.locator('#app').textContent()).toBe('upstream');
    expect(corp.authorizationRequests.length).toBe(before);
  });

  it('steps dave up at home with prompt=login and acr_values, then lets him in', async () => {
    const before = home.authorizationRequests.length;
    await davePage.goto(url(MFA, '/secret?x=1'));
    expect(davePage.url().startsWith(`${home.issuer}/interaction/`)).toBe(true);
    const request = home.authorizationRequests[before];
    expect(request?.get('prompt')).toBe('login');
    expect(request?.get('acr_values')).toBe(HOME_MFA);
    await providerLogIn(davePage, dave);
    await davePage.waitForURL(url(MFA, '/secret?x=1'));
    expect((await echoed(davePage))['x-iap-email']).toBe('dave@home.test');
  });

  it("steps lena's password-only session up with a TOTP prompt instead of refusing it", async () => {
    await writeFile(join(dir, 'users.yml'), await usersYaml({ lena: { ...lena, totp: TOTP_SECRET }, noah }));
    await lenaPage.goto(url(MFA, '/'));
    // The built-in provider asks for the password again (prompt=login), then for the code.
    await expect.poll(() => lenaPage.title()).toBe('Sign in · Gatehouse');
    await builtinLogIn(lenaPage, 'lena', 'lena-password');
    await expect.poll(() => lenaPage.title()).toBe('Enter your code · Gatehouse');
    await lenaPage.getByLabel('6-digit code').fill(hotp(decodeBase32(TOTP_SECRET)!, totpStep(Date.now())));
    await lenaPage.getByRole('button', { name: 'Continue' }).click();
    await lenaPage.waitForURL(url(MFA, '/'));
    expect((await echoed(lenaPage))['x-iap-email']).toBe('lena@example.com');
  });

  it('ends with a page, not a loop, when the sign-in still has no second factor', async () => {
    const page = await newPage();
    const responses: number[] = [];
    page.on('response', (response) => {
      if (response.url().startsWith(`${authUrl()}/oauth2/callback`)) responses.push(response.status());
    });
    await page.goto(url(MFA, '/'));
    await page.getByRole('link', { name: 'Local account' }).click();
    await builtinLogIn(page, 'noah', 'noah-password');
    await expect.poll(() => page.title()).toMatch(/A stronger sign-in is needed/);
    expect(new URL(page.url()).pathname).toBe('/oauth2/callback');
    expect(responses).toEqual([403]);
    expect(await page.content()).toContain('did not use one');
  });

  it('goes straight to the one method a route offers, and a provider= parameter cannot pick another', async () => {
    const page = await newPage();
    const starts: string[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(`${authUrl()}/oauth2/start`)) starts.push(request.url());
    });
    await page.goto(url(HOME_ONLY, '/'));
    expect(page.url().startsWith(`${home.issuer}/interaction/`)).toBe(true);
    const bound = starts.find((start) => new URL(start).searchParams.has('bind'));
    expect(bound).toBeDefined();
    await page.goto(`${bound}&provider=corp`);
    expect(page.url().startsWith(`${home.issuer}/interaction/`)).toBe(true);
    expect(page.url().startsWith(corp.issuer)).toBe(false);
  });

  it("refuses a provider's answer delivered at another provider's callback", async () => {
    // Over HTTP by hand, since a browser follows the provider's redirect before it can be changed.
    const start = `${authUrl()}/oauth2/start?rd=${encodeURIComponent(`${authUrl()}/`)}&provider=corp`;
    const result = await signInViaHttp(start, carol.email, carol.password, new CookieJar(), { stopAt: (next) => next.pathname === '/oauth2/callback/corp' });
    expect(result.url.pathname).toBe('/oauth2/callback/corp');
    const elsewhere = new URL(result.url);
    elsewhere.pathname = '/oauth2/callback/home';
    const answer = await loopbackFetch(elsewhere, { headers: { accept: 'application/json', cookie: result.jar.header(elsewhere) ?? '' } });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ error: 'sign_in_failed' });
    expect(gh.logs.some((line) => line.msg === "sign-in answer arrived at another provider's callback; refused")).toBe(true);
    // The same answer where it belongs signs carol in: the refusal was the path's doing.
    const proper = await loopbackFetch(result.url, { headers: { accept: 'application/json', cookie: result.jar.header(result.url) ?? '' } });
    expect(proper.status).toBe(302);
    expect(proper.headers.getSetCookie().some((cookie) => cookie.startsWith('gatehouse_session='))).toBe(true);
  });
});
