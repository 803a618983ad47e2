import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GenericContainer, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ECHO_IMAGE, ensureEchoImage, parseEcho } from '../helpers/images.ts';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { http, waitFor } from '../helpers/http.ts';

const run = promisify(execFile);

/**
 * The route table's trust boundary against the real Docker engine: findings 2, 3, 5 and 6 of
 * issue 10, each as an attacker (or an unlucky operator) would meet it.
 */
describe('the route table fails closed, hosts have owners, targets are checked (real containers)', () => {
  let gh: TestGatehouse;
  const started: StartedTestContainer[] = [];
  const id = randomBytes(3).toString('hex');
  const host = (name: string) => `${name}-${id}.gh.test`;
  const get = (name: string, path = '/') => http(gh.proxyPort, host(name), path);

  async function startApp(name: string, labels: Record<string, string>, compose?: string): Promise<StartedTestContainer> {
    const all: Record<string, string> = Object.fromEntries(Object.entries(labels).map(([k, v]) => [`${gh.prefix}.${k}`, v]));
    if (compose !== undefined) Object.assign(all, { 'com.docker.compose.project': `${compose}${id}`, 'com.docker.compose.service': name });
    const container = await new GenericContainer(ECHO_IMAGE).withName(`gh-tb-${id}-${name}`).withLabels(all).start();
    started.push(container);
    return container;
  }

  /** Docker's `Created` has one-second resolution: the next container must be visibly younger. */
  async function nextSecond(): Promise<void> {
    const now = Date.now();
    await new Promise((r) => setTimeout(r, 1000 - (now % 1000) + 50));
  }

  const statusOf = async (name: string, path: string) => (await get(name, path)).status;

  beforeAll(async () => {
    await ensureEchoImage();
    gh = await startTestGatehouse();
  });

  afterAll(async () => {
    await gh?.stop();
    await Promise.allSettled(started.map((c) => c.stop({ remove: true, timeout: 1 })));
  });

  it('finding 5: a narrow /admin whose labels are rejected answers 503 misconfigured, never the broad / route', async () => {
    await startApp('web', { from: `http://${host('fall')}`, public: 'true' }, 'fall');
    await startApp('admin', { from: `http://${host('fall')}`, path: '/admin', allow: 'group admins!' }, 'fall');
    await waitFor(async () => ((await statusOf('fall', '/')) === 200 ? true : undefined), 'the broad route');
    const res = await waitFor(async () => {
      const r = await get('fall', '/admin/x');
      // Between Docker's create and start events the host shows the stopped page; wait for the start.
      return r.status === 503 && /misconfigured/i.test(r.body) ? r : undefined;
    }, 'the closed /admin');
    expect(res.body).toMatch(/misconfigured/i);
    expect(res.body).not.toContain('admins');
    expect(res.headers['retry-after']).toBeUndefined();
    expect(await statusOf('fall', '/admin')).toBe(503);
    // The broad route still serves its own paths (the app itself answers 404 here).
    const broad = await get('fall', '/administrator');
    expect(broad.status).toBe(404);
    expect(broad.body).not.toMatch(/misconfigured/i);
    const warning = gh.logs.find((l) => l.container === `gh-tb-${id}-admin` && l.code === 'invalid_value');
    expect(String(warning?.reason)).toContain('allow');
  });

  it('finding 6: a stopped container answers 503 "not running" until it is removed, then 404', async () => {
    const app = await startApp('stop', { from: `http://${host('stop')}`, public: 'true' });
    await waitFor(async () => ((await statusOf('stop', '/')) === 200 ? true : undefined), 'the live route');
    await run('docker', ['stop', '-t', '1', app.getId()]);
    const res = await waitFor(async () => {
      const r = await get('stop', '/');
      return r.status === 503 ? r : undefined;
    }, 'the stopped page');
    expect(res.body).toMatch(/not running/i);
    await run('docker', ['rm', '-f', app.getId()]);
    await waitFor(async () => ((await statusOf('stop', '/')) === 404 ? true : undefined), 'the claim to end');
  });

  it('finding 3: another compose project cannot add /static or a public /admin/panel under an owned host', async () => {
    await startApp('owner', { from: `http://${host('own')}`, allow: 'group:staff' }, 'shop');
    await startApp('owner-admin', { from: `http://${host('own')}`, path: '/admin', allow: 'group:admins' }, 'shop');
    await waitFor(async () => ((await statusOf('own', '/')) === 403 ? true : undefined), 'the owner\'s protected route');
    await nextSecond();
    await startApp('statics', { from: `http://${host('own')}`, path: '/static', public: 'true' }, 'evil');
    await startApp('panel', { from: `http://${host('own')}`, path: '/admin/panel', public: 'true' }, 'evil');
    const conflicts = await waitFor(() => {
      const found = gh.logs.filter((l) => l.code === 'conflict' && String(l.container).startsWith(`gh-tb-${id}-`) && ['statics', 'panel'].some((n) => l.container === `gh-tb-${id}-${n}`));
      return found.length >= 2 ? found : undefined;
    }, 'both conflicts to be reported');
    for (const conflict of conflicts) expect(String(conflict.reason)).toContain(`belongs to compose project "shop${id}"`);
    // Sign-in is not configured: the owner's protected routes answer 403 to everyone.
    expect(await statusOf('own', '/static/app.js')).toBe(403);
    expect(await statusOf('own', '/admin/panel')).toBe(403);
  });

  it('finding 3: containers of one compose project share a host', async () => {
    await startApp('one', { from: `http://${host('team')}`, public: 'true' }, 'team');
    await startApp('two', { from: `http://${host('team')}`, path: '/two', strip_path: 'true', public: 'true' }, 'team');
    const res = await waitFor(async () => {
      const r = await get('team', '/two/cgi-bin/echo');
      return r.status === 200 ? r : undefined;
    }, 'the second service');
    expect(parseEcho(res.body).HOSTNAME).toBe(started.at(-1)?.getId().slice(0, 12));
  });

  it('finding 2: a name that resolves to loopback never reaches Gatehouse\'s admin listener', async () => {
    // A real resolver path: a name /etc/hosts maps to loopback (Debian maps the host's own name).
    const hosts = await readFile('/etc/hosts', 'utf8');
    const loopbackName = hosts
      .split('\n')
      .map((line) => line.replace(/#.*/, '').trim().split(/\s+/))
      .find(([address, ...names]) => address?.startsWith('127.') && names.some((n) => n !== 'localhost' && !n.endsWith('.localhost')))
      ?.slice(1)
      .find((n) => n !== 'localhost' && !n.endsWith('.localhost'));
    expect(loopbackName, 'a name /etc/hosts maps to 127.x').toBeDefined();
    await startApp('sneaky', { from: `http://${host('sneaky')}`, public: 'true', to: `http://${loopbackName}:${gh.adminPort}` });
    const res = await waitFor(async () => {
      const r = await get('sneaky', '/metrics');
      expect(r.body).not.toContain('gatehouse_');
      // Until the container runs, its address answers "not running"; then it is misconfigured.
      return r.status === 503 && /misconfigured/i.test(r.body) ? r : undefined;
    }, 'the route to be refused');
    expect(res.body).toMatch(/misconfigured/i);
    const refusal = gh.logs.find((l) => l.container === `gh-tb-${id}-sneaky` && l.code === 'forbidden_target');
    expect(String(refusal?.reason)).toContain(`${loopbackName} resolves to 127.`);
    expect(String(refusal?.reason)).toMatch(/the loopback interface|Gatehouse's admin listener/);
  });

  it.each([
    ['mapped', '[::ffff:127.0.0.1]'],
    ['compat', '[::127.0.0.1]'],
    ['nat64', '[64:ff9b::7f00:1]'],
    ['siit', '[::ffff:0:7f00:1]'],
  ])('finding 2: an IPv6 form embedding 127.0.0.1 (%s) is refused', async (name, literal) => {
    await startApp(`v6-${name}`, { from: `http://${host(`v6-${name}`)}`, public: 'true', to: `http://${literal}:${gh.adminPort}` });
    const res = await waitFor(async () => {
      const r = await get(`v6-${name}`, '/metrics');
      expect(r.body).not.toContain('gatehouse_');
      return r.status === 503 && /misconfigured/i.test(r.body) ? r : undefined;
    }, 'the refusal');
    expect(res.body).not.toContain('gatehouse_');
  });
});

describe('the routes file fails closed too (finding 5)', () => {
  let gh: TestGatehouse;
  let upstream: Server;
  let dir: string;

  beforeAll(async () => {
    upstream = createServer((req, res) => res.end(`broad route: ${req.url}`));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as AddressInfo).port;
    dir = await mkdtemp(join(tmpdir(), 'gh-tb-'));
    const file = join(dir, 'routes.yml');
    // Pomerium's own acceptance shape: a stricter route on a sub-path that Gatehouse must reject.
    await writeFile(
      file,
      [
        'routes:',
        '  - from: http://file.gh.test',
        `    to: http://127.0.0.1:${port}`,
        '    allow_public_unauthenticated_access: true',
        '  - from: http://file.gh.test',
        `    to: http://127.0.0.1:${port}`,
        '    prefix: /admin',
        '    allowed_groups: [admins]',
        '    rewrite_response_headers: [{ header: Location, prefix: "http://a/", value: "http://b/" }]',
        '',
      ].join('\n'),
    );
    gh = await startTestGatehouse({ GATEHOUSE_CONFIG: file });
  });

  afterAll(async () => {
    await gh?.stop();
    await new Promise((resolve) => upstream?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('answers 503 misconfigured on the rejected entry\'s path, and the broad route elsewhere', async () => {
    await waitFor(async () => ((await http(gh.proxyPort, 'file.gh.test', '/')).status === 200 ? true : undefined), 'the broad file route');
    // Pomerium's prefix is a string prefix: /administrator is the rejected entry's too.
    for (const path of ['/admin/users', '/administrator']) {
      const res = await http(gh.proxyPort, 'file.gh.test', path);
      expect(res.status, path).toBe(503);
      expect(res.body).toMatch(/misconfigured/i);
      expect(res.body).not.toContain('broad route');
    }
    expect((await http(gh.proxyPort, 'file.gh.test', '/other')).status).toBe(200);
  });
});
