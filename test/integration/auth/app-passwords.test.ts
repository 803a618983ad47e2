import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GenericContainer, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { waitFor } from '../../helpers/http.ts';
import { CookieJar, loopbackFetch, signInViaHttp } from '../../helpers/http-sign-in.ts';
import { usersYaml } from '../../helpers/idp-app.ts';
import { ensureGitImage, GIT_IMAGE } from '../../helpers/images.ts';
import { decodeBase32, hotp, totpStep } from '../../../src/idp/totp.ts';
import { readFile } from 'node:fs/promises';
import { freePort, startUpstream, type Upstream } from './support.ts';

const run = promisify(execFile);

/**
 * App passwords end to end: made on the self-service page of a real Gatehouse with the
 * built-in sign-in, then used by a real git client to clone from a real smart-HTTP git server
 * (git http-backend) in a container published with `iap.basic_auth: true`. The route's policy
 * applies to the app password's owner as to a browser, and the password never reaches the app.
 */

const id = randomBytes(3).toString('hex');
const AUTH = `auth-${id}.gh.localhost`;
const GIT = `git-${id}.gh.localhost`;
const ECHO = `echo-${id}.gh.localhost`;
const PLAIN = `plain-${id}.gh.localhost`;

/** A bare repository with one commit, served by git http-backend through Python's CGI server. */
const GIT_SERVER = [
  'set -e',
  // Python's CGI server runs scripts as nobody, who does not own the repository.
  "git config --system --add safe.directory '*'",
  'git init -q --bare /srv/repos/demo.git',
  'git init -q /tmp/w && cd /tmp/w && echo hello-from-git > README',
  'git add README && git -c user.email=t@example.com -c user.name=t commit -q -m first',
  'git push -q /srv/repos/demo.git HEAD:refs/heads/main && git -C /srv/repos/demo.git symbolic-ref HEAD refs/heads/main',
  'mkdir -p /srv/www/cgi-bin',
  `printf '#!/bin/sh\\nexport GIT_PROJECT_ROOT=/srv/repos GIT_HTTP_EXPORT_ALL=1\\nexec git http-backend\\n' > /srv/www/cgi-bin/git`,
  'chmod +x /srv/www/cgi-bin/git && cd /srv/www && exec python3 -m http.server --cgi 8000',
].join('\n');

let dir: string;
let port: number;
let gh: TestGatehouse;
let upstream: Upstream;
let git: StartedTestContainer;
const authUrl = () => `http://${AUTH}:${port}`;

async function accountPage(jar: CookieJar): Promise<{ html: string; csrf: string }> {
  const response = await loopbackFetch(`${authUrl()}/account`, { headers: { cookie: jar.header(new URL(authUrl())) ?? '' } });
  const html = await response.text();
  expect(response.status, html.slice(0, 300)).toBe(200);
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  expect(csrf).toBeDefined();
  return { html, csrf: csrf! };
}

async function post(jar: CookieJar, path: string, fields: Record<string, string>, origin: string | null = authUrl()): Promise<Response> {
  return loopbackFetch(`${authUrl()}${path}`, {
    method: 'POST',
    headers: { cookie: jar.header(new URL(authUrl())) ?? '', 'content-type': 'application/x-www-form-urlencoded', ...(origin === null ? {} : { origin }) },
    body: new URLSearchParams(fields).toString(),
  });
}

async function signedIn(user: string, password: string): Promise<CookieJar> {
  const result = await signInViaHttp(`${authUrl()}/account`, user, password);
  expect(result.url.pathname).toBe('/account');
  return result.jar;
}

async function createAppPassword(jar: CookieJar, current: string, name: string, hosts = ''): Promise<string> {
  const { csrf } = await accountPage(jar);
  const response = await post(jar, '/account/app-passwords', { csrf, name, hosts, current });
  const html = await response.text();
  expect(response.status, html.slice(0, 400)).toBe(200);
  const secret = /<p class="secret" id="app-password">([^<]+)<\/p>/.exec(html)?.[1];
  expect(secret).toMatch(/^gh_[a-z2-7]{10}_[a-z2-7]{32}$/);
  return secret!;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

async function gitClone(url: string, target: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run('git', ['clone', '-q', url, target], { env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '/bin/false', HOME: dir }, timeout: 60_000 });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    return { ok: false, output: String((error as { stderr?: string }).stderr ?? error) };
  }
}

beforeAll(async () => {
  await ensureGitImage();
  dir = await mkdtemp(join(tmpdir(), 'gh-app-passwords-'));
  await writeFile(
    join(dir, 'users.yml'),
    await usersYaml({
      alice: { email: 'alice@example.com', groups: ['devs'], password: 'alice-password' },
      bob: { email: 'bob@example.com', groups: ['guests'], password: 'bob-password' },
      dora: { email: 'dora@example.com', groups: ['devs'], password: 'dora-password' },
    }),
  );
  upstream = await startUpstream('echo');
  await writeFile(
    join(dir, 'routes.yml'),
    stringify({
      routes: [
        { from: `http://${ECHO}`, to: upstream.origin, allow: 'group:devs', basic_auth: true },
        { from: `http://${PLAIN}`, to: upstream.origin, allow: 'group:devs' },
      ],
    }),
  );
  port = await freePort();
  gh = await startTestGatehouse({
    GATEHOUSE_LISTEN: `127.0.0.1:${port}`,
    GATEHOUSE_CONFIG: join(dir, 'routes.yml'),
    GATEHOUSE_AUTH_URL: `http://${AUTH}:${port}`,
    GATEHOUSE_USERS_FILE: join(dir, 'users.yml'),
    GATEHOUSE_DATA_DIR: join(dir, 'data'),
  });
  git = await new GenericContainer(GIT_IMAGE)
    .withName(`gh-it-${id}-git`)
    .withCommand(['sh', '-c', GIT_SERVER])
    .withExposedPorts(8000)
    .withLabels({ [`${gh.prefix}.from`]: `http://${GIT}`, [`${gh.prefix}.port`]: '8000', [`${gh.prefix}.allow`]: 'group:devs', [`${gh.prefix}.basic_auth`]: 'true' })
    .start();
  await waitFor(async () => {
    const response = await loopbackFetch(`http://${GIT}:${port}/cgi-bin/git/demo.git/info/refs?service=git-upload-pack`);
    return response.status === 401 ? true : undefined;
  }, 'the git route to ask for credentials', 30_000);
}, 600_000);

afterAll(async () => {
  await git?.stop({ remove: true, timeout: 1 });
  await gh?.stop();
  await upstream?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('app passwords over HTTP Basic', () => {
  it('lets a real git client clone with an app password, and refuses it with a wrong one', async () => {
    const jar = await signedIn('alice', 'alice-password');
    const secret = await createAppPassword(jar, 'alice-password', 'git on the laptop');

    const before = gh.logs.length;
    const good = await gitClone(`http://alice:${secret}@${GIT}:${port}/cgi-bin/git/demo.git`, join(dir, 'clone-ok'));
    expect(good.ok, good.output).toBe(true);
    // git asks once without credentials, gets the Basic challenge, then sends the app password.
    const requests = gh.logs.slice(before).filter((line) => line.msg === 'request' && line.host === GIT);
    expect(requests.map((line) => line.status)).toEqual([401, 200, 200]);
    const { stdout } = await run('git', ['-C', join(dir, 'clone-ok'), 'show', 'HEAD:README']);
    expect(stdout).toBe('hello-from-git\n');

    const wrong = await gitClone(`http://alice:${secret.slice(0, -4)}aaaa@${GIT}:${port}/cgi-bin/git/demo.git`, join(dir, 'clone-wrong'));
    expect(wrong.ok).toBe(false);
    expect(wrong.output).toMatch(/Authentication failed|401/);
  });

  it('challenges clients that are not browsers with 401 Basic, and still sends browsers to sign in', async () => {
    const client = await loopbackFetch(`http://${GIT}:${port}/cgi-bin/git/demo.git/info/refs?service=git-upload-pack`, { headers: { 'user-agent': 'git/2.39.5', accept: '*/*' } });
    expect(client.status).toBe(401);
    expect(client.headers.get('www-authenticate')).toBe(`Basic realm="Gatehouse ${GIT}", charset="UTF-8"`);
    expect(client.headers.get('location')).toBeNull();

    const browser = await loopbackFetch(`http://${ECHO}:${port}/`, { headers: { accept: 'text/html,application/xhtml+xml', 'sec-fetch-mode': 'navigate' } });
    expect(browser.status).toBe(302);
    // A route without basic_auth keeps today's answer for API clients: no Basic challenge.
    const plain = await loopbackFetch(`http://${PLAIN}:${port}/`, { headers: { accept: 'application/json' } });
    expect(plain.status).toBe(401);
    expect(plain.headers.get('www-authenticate')).not.toContain('Basic');
  });

  it("applies the route's policy to the owner, strips the password before the app, and honours host limits and revocation", async () => {
    const alice = await signedIn('alice', 'alice-password');
    const limited = await createAppPassword(alice, 'alice-password', 'only git', GIT);
    const everywhere = await createAppPassword(alice, 'alice-password', 'everywhere');

    const seen = await loopbackFetch(`http://${ECHO}:${port}/whoami`, { headers: { authorization: basic('alice', everywhere) } });
    expect(seen.status).toBe(200);
    const received = upstream.received.findLast((request) => request.url === '/whoami');
    expect(received?.headers['authorization']).toBeUndefined();
    expect(received?.headers['x-iap-user']).toBe('alice');
    expect(received?.headers['x-iap-email']).toBe('alice@example.com');

    // Limited to the git host: refused elsewhere.
    expect((await loopbackFetch(`http://${ECHO}:${port}/`, { headers: { authorization: basic('alice', limited) } })).status).toBe(401);
    // Another user's name with alice's password: refused.
    expect((await loopbackFetch(`http://${ECHO}:${port}/`, { headers: { authorization: basic('bob', everywhere) } })).status).toBe(401);
    // A route without basic_auth ignores the header: nobody is signed in.
    expect((await loopbackFetch(`http://${PLAIN}:${port}/`, { headers: { authorization: basic('alice', everywhere), accept: 'application/json' } })).status).toBe(401);

    // bob's own app password works, but the route's policy does not let him in.
    const bob = await signedIn('bob', 'bob-password');
    const bobs = await createAppPassword(bob, 'bob-password', 'bob');
    const refused = await loopbackFetch(`http://${ECHO}:${port}/`, { headers: { authorization: basic('bob', bobs), accept: 'application/json' } });
    expect(refused.status).toBe(403);

    // Revoked on the page: refused at once, cache or not.
    const { html, csrf } = await accountPage(alice);
    const everywhereId = /name="id" value="([a-z2-7]{10})"/g;
    const ids = [...html.matchAll(everywhereId)].map((m) => m[1]!);
    const target = ids.find((candidate) => everywhere.startsWith(`gh_${candidate}_`));
    expect(target).toBeDefined();
    expect((await post(alice, '/account/app-passwords/revoke', { csrf, id: target! })).status).toBe(303);
    expect((await loopbackFetch(`http://${ECHO}:${port}/`, { headers: { authorization: basic('alice', everywhere) } })).status).toBe(401);
  });

  it('needs the current password, the CSRF token and the sign-in origin to create one', async () => {
    const jar = await signedIn('alice', 'alice-password');
    const { csrf } = await accountPage(jar);
    const wrongPassword = await post(jar, '/account/app-passwords', { csrf, name: 'x', current: 'nope' });
    expect(wrongPassword.status).toBe(401);
    expect(await wrongPassword.text()).not.toMatch(/gh_[a-z2-7]{10}_/);
    const noToken = await post(jar, '/account/app-passwords', { name: 'x', current: 'alice-password' });
    expect(noToken.status).toBe(403);
    const otherSite = await post(jar, '/account/app-passwords', { csrf, name: 'x', current: 'alice-password' }, 'http://evil.example');
    expect(otherSite.status).toBe(403);
  });

  it('changes the password with the current one, and enrols TOTP with a confirming code', async () => {
    const dora = await signedIn('dora', 'dora-password');
    let { csrf } = await accountPage(dora);
    const mismatch = await post(dora, '/account/password', { csrf, current: 'dora-password', password: 'a-new-password-1', confirm: 'another' });
    expect(mismatch.status).toBe(400);
    const changed = await post(dora, '/account/password', { csrf, current: 'dora-password', password: 'a-new-password-1', confirm: 'a-new-password-1' });
    expect(changed.status).toBe(303);
    expect(changed.headers.get('location')).toBe('/account?done=password');
    const file = await readFile(join(dir, 'users.yml'), 'utf8');
    expect(file).not.toContain('a-new-password-1');
    await signedIn('dora', 'a-new-password-1');

    ({ csrf } = await accountPage(dora));
    const begun = await post(dora, '/account/totp', { csrf, current: 'a-new-password-1' });
    const page = await begun.text();
    expect(begun.status).toBe(200);
    expect(page).toContain('<svg');
    const secret = /<p class="secret">([A-Z2-7]+)<\/p>/.exec(page)?.[1];
    expect(secret).toBeDefined();
    expect((await post(dora, '/account/totp/confirm', { csrf, code: '000000' === hotp(decodeBase32(secret!)!, totpStep(Date.now())) ? '111111' : '000000' })).status).toBe(400);
    const again = await post(dora, '/account/totp', { csrf, current: 'a-new-password-1' });
    const secret2 = /<p class="secret">([A-Z2-7]+)<\/p>/.exec(await again.text())![1]!;
    const confirmed = await post(dora, '/account/totp/confirm', { csrf, code: hotp(decodeBase32(secret2)!, totpStep(Date.now())) });
    expect(confirmed.headers.get('location')).toBe('/account?done=totp');
    expect(await readFile(join(dir, 'users.yml'), 'utf8')).toContain(`totp: ${secret2}`);
    // The next sign-in asks for the code after the password.
    const next = await signInViaHttp(`${authUrl()}/account`, 'dora', 'a-new-password-1');
    expect(next.body).toContain('Enter your code');
  });

  it('locks out an address after repeated wrong app passwords, before checking any', async () => {
    let last: Response | undefined;
    for (let i = 0; i < 25; i += 1) {
      last = await loopbackFetch(`http://${ECHO}:${port}/`, { headers: { authorization: basic(`nobody${i}`, `gh_aaaaaaaaaa_${'a'.repeat(32)}`) } });
      if (last.status === 429) break;
    }
    expect(last?.status).toBe(429);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
