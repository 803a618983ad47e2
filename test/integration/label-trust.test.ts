import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GenericContainer, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { waitFor } from '../helpers/http.ts';
import { CookieJar, loopbackFetch, signInViaHttp } from '../helpers/http-sign-in.ts';
import { usersYaml } from '../helpers/idp-app.ts';
import { docker, ECHO_IMAGE, ensureEchoImage, parseEcho } from '../helpers/images.ts';
import { freePort } from './auth/support.ts';

/**
 * Labels speak only for their own container (SECURITY.md, "What a label can do"), against the
 * real Docker engine and a Gatehouse with the built-in sign-in: the attacks of issue 10 tried
 * as an attacker would, each of which got through before.
 */

const run = promisify(execFile);
const id = randomBytes(3).toString('hex');
const host = (name: string) => `${name}-${id}.lt.gh.localhost`;
const AUTH = host('auth');
const ROOT_SECRET = `root-secret-${randomBytes(24).toString('base64url')}`;

let port: number;
let gh: TestGatehouse;
let workDir: string;
const started: StartedTestContainer[] = [];
const images: string[] = [];
const url = (name: string, path = '/') => `http://${host(name)}:${port}${path}`;

async function startApp(name: string, labels: Record<string, string>, image = ECHO_IMAGE): Promise<StartedTestContainer> {
  const container = await new GenericContainer(image)
    .withName(`gh-lt-${id}-${name}`)
    .withLabels(Object.fromEntries(Object.entries(labels).map(([k, v]) => [`${gh.prefix}.${k}`, v])))
    .start();
  started.push(container);
  return container;
}

/** The log line rejecting this container's routes, once the table has been built with it. */
function rejection(name: string, includes: string): Promise<Record<string, unknown>> {
  return waitFor(
    () => gh.logs.find((line) => String(line.msg).startsWith('route rejected') && String(line.msg).includes(`"gh-lt-${id}-${name}"`) && String(line.msg).includes(includes)),
    `the rejection of ${name} (${includes})`,
  );
}

const anonymous = (name: string, path = '/') => loopbackFetch(url(name, path), { headers: { accept: 'application/json' } });
const until = (name: string, status: number, path = '/') =>
  waitFor(async () => ((await anonymous(name, path)).status === status ? true : undefined), `${host(name)}${path} to answer ${status}`);

beforeAll(async () => {
  await ensureEchoImage();
  port = await freePort();
  workDir = await mkdtemp(join(tmpdir(), 'gh-label-trust-'));
  // The layout the README once suggested: Gatehouse's root secret in the folder label secrets
  // are read from. The folder also holds an app's secret and links to Gatehouse's other files.
  const secrets = join(workDir, 'secrets');
  await mkdir(secrets);
  await mkdir(join(workDir, 'config'));
  await writeFile(join(secrets, 'gatehouse_secret'), `${ROOT_SECRET}\n`);
  await writeFile(join(secrets, 'api_key'), 'app-api-key\n');
  const usersFile = join(workDir, 'config', 'users.yml');
  await writeFile(
    usersFile,
    await usersYaml({
      demo: { email: 'demo@example.com', groups: ['demo'], password: 'demo-password' },
      root: { email: 'root@example.com', groups: ['admins'], password: 'root-password' },
    }),
  );
  await symlink(usersFile, join(secrets, 'users'));
  await symlink(join(secrets, 'gatehouse_secret'), join(secrets, 'innocent'));
  gh = await startTestGatehouse({
    GATEHOUSE_LISTEN: `127.0.0.1:${port}`,
    GATEHOUSE_AUTH_URL: `http://${AUTH}:${port}`,
    GATEHOUSE_USERS_FILE: usersFile,
    GATEHOUSE_DATA_DIR: join(workDir, 'data'),
    GATEHOUSE_SECRET_FILE: join(secrets, 'gatehouse_secret'),
    GATEHOUSE_LABEL_SECRETS_DIR: secrets,
    GATEHOUSE_DOCKER_RESYNC: '2s',
  });
}, 120_000);

afterAll(async () => {
  await gh?.stop();
  await Promise.allSettled(started.map((c) => c.stop({ remove: true, timeout: 1 })));
  for (const image of images) await docker('rmi', '-f', image).catch(() => undefined);
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

describe('secrets: a label reads only app secrets', () => {
  it('forwards an app secret from the label secrets folder', async () => {
    await startApp('app-secret', { from: `http://${host('app-secret')}`, public: 'true', 'header.X-Api-Key': 'secret:api_key' });
    await until('app-secret', 200, '/cgi-bin/echo');
    const seen = parseEcho(await (await anonymous('app-secret', '/cgi-bin/echo')).text());
    expect(seen.HTTP_X_API_KEY).toBe('app-api-key');
  });

  it.each([
    ['steal-direct', 'gatehouse_secret'],
    ['steal-link', 'innocent'],
    ['steal-users', 'users'],
  ])('%s: secret:%s, one of Gatehouse own files, rejects the route and never reaches the app', async (name, secret) => {
    await startApp(name, { from: `http://${host(name)}`, public: 'true', 'header.X-Stolen': `secret:${secret}` });
    const line = await rejection(name, "one of Gatehouse's own settings files");
    expect(line.label).toBe(`${gh.prefix}.header.X-Stolen`);
    const res = await anonymous(name, '/cgi-bin/echo');
    const body = await res.text();
    expect(res.status).not.toBe(200);
    expect(body).not.toContain(ROOT_SECRET);
    expect(body).not.toContain('HTTP_X_STOLEN');
    expect(JSON.stringify(gh.logs)).not.toContain(ROOT_SECRET);
  });
});

describe('inheritance: a named route under a public container is not open', () => {
  it.each([
    ['inherit-allow', { 'admin.allow': 'group:admins' }],
    ['inherit-deny', { 'admin.deny': 'group:kids' }],
  ])('%s', async (name, adminLabels) => {
    await startApp(name, { from: `http://${host(name)}`, public: 'true', 'admin.path': '/cgi-bin', ...adminLabels });
    await until(name, 200, '/');
    // Anonymous: the top level is public, /cgi-bin needs a sign-in.
    const admin = await anonymous(name, '/cgi-bin/echo');
    expect(admin.status).toBe(401);
    expect(await admin.text()).not.toContain('REQUEST_URI');
    // Signed in, but not let in by the named route's own policy.
    const jar = new CookieJar();
    const demo = await signInViaHttp(url(name, '/cgi-bin/echo'), 'demo', 'demo-password', jar);
    expect(demo.response.status).toBe(403);
    expect(demo.body).not.toContain('REQUEST_URI');
  });

  it('lets in the group the named route allows', async () => {
    await startApp('inherit-ok', { from: `http://${host('inherit-ok')}`, public: 'true', 'admin.path': '/cgi-bin', 'admin.allow': 'group:admins' });
    await until('inherit-ok', 200, '/');
    const root = await signInViaHttp(url('inherit-ok', '/cgi-bin/echo'), 'root', 'root-password');
    expect(root.response.status).toBe(200);
    expect(parseEcho(root.body).HTTP_X_IAP_EMAIL).toBe('root@example.com');
  });

  it('refuses public next to allow on one route, naming both labels', async () => {
    await startApp('contradiction', { from: `http://${host('contradiction')}`, public: 'true', allow: 'group:admins' });
    const line = await rejection('contradiction', 'contradict');
    expect(line.msg).toContain(`${gh.prefix}.public=true and ${gh.prefix}.allow contradict each other`);
    expect((await anonymous('contradiction')).status).not.toBe(200);
  });
});

describe('image labels speak for nobody', () => {
  let image: string;

  beforeAll(async () => {
    image = `gatehouse-test-labelled-${id}:local`;
    images.push(image);
    const dir = await mkdtemp(join(tmpdir(), 'gh-labelled-'));
    try {
      // An app image whose Dockerfile publishes itself, openly, on a host of its choosing.
      await writeFile(
        join(dir, 'Dockerfile'),
        `FROM ${ECHO_IMAGE}\nLABEL ${gh.prefix}.from="http://${host('image-host')}" ${gh.prefix}.public="true" ${gh.prefix}.bypass="/"\n`,
      );
      await docker('build', '-q', '-t', image, dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('an image that labels itself is not published, and the log names each ignored label', async () => {
    await startApp('image-only', {}, image);
    const ignored = await waitFor(
      () => {
        const lines = gh.logs.filter((l) => l.container === `gh-lt-${id}-image-only` && String(l.msg).startsWith('image label ignored'));
        return lines.length >= 3 ? lines : undefined;
      },
      'the ignored image labels in the log',
    );
    expect(ignored.map((l) => l.label).sort()).toEqual([`${gh.prefix}.bypass`, `${gh.prefix}.from`, `${gh.prefix}.public`]);
    expect(String(ignored[0]?.msg)).toContain('set by the image');
    expect((await anonymous('image-host')).status).toBe(404);

    // `gatehouse routes --json` (the built CLI, as operators run it) lists them too.
    const result = await run(process.execPath, ['dist/cli/main.js', 'routes', '--json'], { env: { ...process.env, GATEHOUSE_LABEL_PREFIX: gh.prefix } }).then(
      (done) => done.stdout,
      (error: { stdout: string }) => error.stdout,
    );
    const report = JSON.parse(result) as { ignoredLabels: Array<{ containerName: string; label: string; reason: string }> };
    const listed = report.ignoredLabels.filter((entry) => entry.containerName === `gh-lt-${id}-image-only`);
    expect(listed.map((entry) => entry.label).sort()).toEqual([`${gh.prefix}.bypass`, `${gh.prefix}.from`, `${gh.prefix}.public`]);
    expect(listed[0]?.reason).toContain('GATEHOUSE_TRUST_IMAGE_LABELS=true');
  });

  it("the deployer's own labels count, the image's public and bypass do not", async () => {
    await startApp('image-deployed', { from: `http://${host('image-deployed')}`, allow: 'group:admins' }, image);
    await until('image-deployed', 401, '/');
    const demo = await signInViaHttp(url('image-deployed', '/cgi-bin/echo'), 'demo', 'demo-password');
    expect(demo.response.status).toBe(403);
    expect((await anonymous('image-host')).status).toBe(404);
  });
});

describe('hosts a label can never claim', () => {
  it('the sign-in host stays Gatehouse’s', async () => {
    await startApp('signin-claim', { from: `http://${AUTH}`, public: 'true' });
    const line = await rejection('signin-claim', 'is the sign-in host');
    expect(line.code).toBe('forbidden_host');
    const page = await loopbackFetch(`http://${AUTH}:${port}/`);
    expect(await page.text()).not.toBe('ok\n');
    const discovery = await loopbackFetch(`http://${AUTH}:${port}/idp/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
  });

  it('an IP address and bare localhost are refused', async () => {
    await startApp('ip-claim', { from: 'http://127.0.0.1', public: 'true', 'b.from': 'http://localhost', 'c.from': 'http://0x7f.1' });
    await rejection('ip-claim', '"127.0.0.1" is an IP address');
    await rejection('ip-claim', '"localhost" is localhost');
    const res = await loopbackFetch(`http://127.0.0.1:${port}/`);
    expect(await res.text()).not.toBe('ok\n');
  });
});
