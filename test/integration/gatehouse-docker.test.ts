import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { GenericContainer, Network, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ECHO_IMAGE, ensureEchoImage, parseEcho } from '../helpers/images.ts';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { http, waitFor } from '../helpers/http.ts';

const run = promisify(execFile);

/**
 * The routing core against the real Docker engine: containers started with labels become
 * routes without a restart, and every failure mode stays confined to its own container.
 */
describe('Gatehouse with real containers', () => {
  let gh: TestGatehouse;
  const started: StartedTestContainer[] = [];
  const networks: StartedNetwork[] = [];
  const id = randomBytes(3).toString('hex');
  const host = (name: string) => `${name}-${id}.gh.test`;

  async function startApp(name: string, labels: Record<string, string>, options: { image?: string; network?: StartedNetwork; health?: 'starting' | 'healthy'; command?: string[] } = {}) {
    let container = new GenericContainer(options.image ?? ECHO_IMAGE)
      .withName(`gh-it-${id}-${name}`)
      .withLabels(Object.fromEntries(Object.entries(labels).map(([k, v]) => [`${gh.prefix}.${k}`, v])));
    if (options.network) container = container.withNetwork(options.network);
    if (options.command) container = container.withCommand(options.command);
    if (options.health === 'starting') {
      // Never succeeds within the test: the container stays in "health: starting".
      container = container
        .withHealthCheck({ test: ['CMD-SHELL', 'exit 1'], interval: 60_000, startPeriod: 60_000 })
        .withWaitStrategy(Wait.forSuccessfulCommand('true'));
    } else if (options.health === 'healthy') {
      container = container.withHealthCheck({ test: ['CMD-SHELL', 'wget -qO- http://127.0.0.1/ || exit 1'], interval: 500, startPeriod: 10_000 });
    }
    const startedContainer = await container.start();
    started.push(startedContainer);
    return startedContainer;
  }

  const get = (name: string, path = '/', headers: Record<string, string> = {}) => http(gh.proxyPort, host(name), path, { headers });

  beforeAll(async () => {
    await ensureEchoImage();
    gh = await startTestGatehouse();
  });

  afterAll(async () => {
    await gh?.stop();
    await Promise.allSettled(started.map((c) => c.stop({ remove: true, timeout: 1 })));
    await Promise.allSettled(networks.map((n) => n.stop()));
  });

  it('serves a labelled container without a restart and drops it when the container goes away', async () => {
    expect((await get('hello')).status).toBe(404);
    const app = await startApp('hello', { from: `http://${host('hello')}`, public: 'true' });
    const res = await waitFor(async () => {
      const r = await get('hello');
      return r.status === 200 ? r : undefined;
    }, 'the new route to answer 200');
    expect(res.body).toBe('ok\n');
    await app.stop({ remove: true, timeout: 1 });
    await waitFor(async () => ((await get('hello')).status === 404 ? true : undefined), 'the route to disappear');
  });

  it('answers 403 on a route that is not public until sign-in is configured', async () => {
    await startApp('private', { from: `http://${host('private')}`, allow: 'alice@example.com' });
    const res = await waitFor(async () => {
      const r = await get('private', '/', { accept: 'application/json' });
      // A container that is created but not yet running answers 503 "not running" for a moment.
      return r.status !== 404 && r.status !== 503 ? r : undefined;
    }, 'the private route');
    expect(res.status).toBe(403);
    expect(res.body).not.toContain('ok\n');
  });

  it('infers the only exposed port, and rejects a container exposing none or several with the list', async () => {
    await startApp('oneport', { from: `http://${host('oneport')}`, public: 'true' });
    await waitFor(async () => ((await get('oneport')).status === 200 ? true : undefined), 'the route on the inferred port 80');

    const httpd = ['/bin/busybox', 'httpd', '-f', '-p', '80', '-h', '/www'];
    await startApp('noport', { from: `http://${host('noport')}`, public: 'true' }, { image: 'busybox:local', command: httpd });
    const name = `gh-it-${id}-twoports`;
    await run('docker', ['run', '-d', '--name', name, '--expose', '8080', '--label', `${gh.prefix}.from=http://${host('twoports')}`, '--label', `${gh.prefix}.public=true`, ECHO_IMAGE]);
    try {
      const rejection = (container: string) => () =>
        gh.logs.find((l) => String(l.msg).startsWith('route rejected') && l.container === container && l.label === `${gh.prefix}.port`);
      const none = await waitFor(rejection(`gh-it-${id}-noport`), 'a rejection of the container exposing no port');
      expect(String(none.reason)).toMatch(/set .*\.port/);
      const several = await waitFor(rejection(name), 'a rejection of the container exposing two ports');
      expect(String(several.reason)).toContain('80, 8080');
      // Rejected containers keep their hosts closed: 503 misconfigured rather than 404.
      expect((await get('noport')).status).toBe(503);
      expect((await get('twoports')).status).toBe(503);

      await startApp('portset', { from: `http://${host('portset')}`, public: 'true', port: '80' }, { image: 'busybox:local', command: httpd });
      await waitFor(async () => ((await get('portset')).status === 200 ? true : undefined), 'the route with an explicit port');
    } finally {
      await run('docker', ['rm', '-f', name]);
    }
  });

  it('refuses a container on several networks until iap.network names one', async () => {
    const a = await new Network().start();
    const b = await new Network().start();
    networks.push(a, b);
    const ambiguous = await startApp('twonets', { from: `http://${host('twonets')}`, public: 'true' }, { network: a });
    await run('docker', ['network', 'connect', b.getName(), ambiguous.getId()]);
    await waitFor(() => (gh.logs.some((l) => JSON.stringify(l).includes(`gh-it-${id}-twonets`) && JSON.stringify(l).includes(b.getName())) ? true : undefined), 'a rejection listing both networks');
    expect((await get('twonets')).status).toBe(503);

    const chosen = await startApp('netset', { from: `http://${host('netset')}`, public: 'true', network: b.getName() }, { network: a });
    await run('docker', ['network', 'connect', b.getName(), chosen.getId()]);
    await waitFor(async () => ((await get('netset')).status === 200 ? true : undefined), 'the route on the named network');
  });

  it('a malformed label rejects only its own container; gatehouse routes names it and exits 1', async () => {
    await startApp('good', { from: `http://${host('good')}`, public: 'true' });
    await startApp('bad', { from: `http://${host('bad')}`, public: 'true', timeout: 'soon', alow: 'x@example.com' });
    await waitFor(async () => ((await get('good')).status === 200 ? true : undefined), 'the good route');
    // The rejected container keeps its host closed: 503 for users, the details only for the operator.
    const badPage = await waitFor(async () => {
      const r = await get('bad');
      // Between Docker's create and start events the host shows the stopped page; wait for the start.
      return r.status === 503 && /misconfigured/i.test(r.body) ? r : undefined;
    }, 'the misconfigured page');
    expect(badPage.body).toMatch(/misconfigured/i);
    expect(badPage.body).not.toContain('alow');

    const result = await run(process.execPath, ['dist/cli/main.js', 'routes', '--json'], {
      env: { ...process.env, GATEHOUSE_LABEL_PREFIX: gh.prefix },
    }).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as {
      routes: Array<{ urls: string[]; state: string; owner: { kind: string; description: string } | null }>;
      closed: Array<{ urls: string[]; state: string; owner: { description: string } }>;
      rejected: Array<{ source: { containerName: string }; label: string | null; message: string }>;
    };
    const good = report.routes.find((r) => r.urls.includes(`http://${host('good')}/`));
    expect(good).toMatchObject({ state: 'live', owner: { kind: 'container', description: `container "gh-it-${id}-good"` } });
    expect(report.closed.find((c) => c.urls.includes(`${host('bad')}/`))).toMatchObject({ state: 'misconfigured', owner: { description: `container "gh-it-${id}-bad"` } });
    const bad = report.rejected.filter((r) => r.source.containerName === `gh-it-${id}-bad`);
    expect(bad.map((r) => r.label).sort()).toEqual([`${gh.prefix}.alow`, `${gh.prefix}.timeout`]);
    expect(bad.find((r) => r.label === `${gh.prefix}.alow`)?.message).toContain(`${gh.prefix}.allow`);
  });

  it('balances replicas of one compose service and leaves out a member that is not healthy', async () => {
    const compose = { 'com.docker.compose.project': `ghp${id}`, 'com.docker.compose.service': 'api' };
    const labels = { from: `http://${host('api')}`, public: 'true' };
    const start = (name: string, health: 'healthy' | 'starting') =>
      new GenericContainer(ECHO_IMAGE)
        .withName(`gh-it-${id}-${name}`)
        .withLabels({ ...compose, ...Object.fromEntries(Object.entries(labels).map(([k, v]) => [`${gh.prefix}.${k}`, v])) })
        .withHealthCheck(
          health === 'healthy'
            ? { test: ['CMD-SHELL', 'wget -qO- http://127.0.0.1/ || exit 1'], interval: 500, startPeriod: 10_000 }
            : { test: ['CMD-SHELL', 'exit 1'], interval: 60_000, startPeriod: 60_000 },
        )
        .withWaitStrategy(health === 'healthy' ? Wait.forHealthCheck() : Wait.forSuccessfulCommand('true'))
        .start()
        .then((c) => (started.push(c), c));
    const [r1, r2, r3] = await Promise.all([start('api-1', 'healthy'), start('api-2', 'healthy'), start('api-3', 'starting')]);
    const seen = new Set<string>();
    await waitFor(async () => {
      const r = await get('api', '/cgi-bin/echo');
      if (r.status === 200) seen.add(parseEcho(r.body).HOSTNAME ?? '');
      return seen.size >= 2 ? true : undefined;
    }, 'both healthy replicas to answer');
    for (let i = 0; i < 10; i++) seen.add(parseEcho((await get('api', '/cgi-bin/echo')).body).HOSTNAME ?? '');
    const hostnames = [r1, r2].map((c) => c.getId().slice(0, 12));
    expect([...seen].sort()).toEqual(hostnames.sort());
    expect(seen.has(r3.getId().slice(0, 12))).toBe(false);
  });

  it('a container that is still starting gets a 503 page with Retry-After, not a 404', async () => {
    await startApp('slow', { from: `http://${host('slow')}`, public: 'true' }, { health: 'starting' });
    const res = await waitFor(async () => {
      const r = await get('slow', '/', { accept: 'text/html' });
      return r.status === 503 ? r : undefined;
    }, 'a 503 for the starting container');
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.body).toMatch(/starting/i);
  });

  it('keeps the first claim when a second container claims the same host and path', async () => {
    const first = await startApp('claim-1', { from: `http://${host('claim')}`, public: 'true' });
    await waitFor(async () => ((await get('claim', '/cgi-bin/echo')).status === 200 ? true : undefined), 'the first claim');
    await new Promise((r) => setTimeout(r, 1100)); // Docker's Created has one-second resolution.
    await startApp('claim-2', { from: `http://${host('claim')}`, public: 'true' });
    await waitFor(() => (gh.logs.some((l) => JSON.stringify(l).includes(`gh-it-${id}-claim-2`) && JSON.stringify(l).includes('conflict')) ? true : undefined), 'the conflict to be reported');
    for (let i = 0; i < 5; i++) {
      const r = await get('claim', '/cgi-bin/echo');
      expect(r.status).toBe(200);
      expect(parseEcho(r.body).HOSTNAME).toBe(first.getId().slice(0, 12));
    }
  });

  it('never lets client-sent identity headers reach the app, in any spelling', async () => {
    await startApp('spoof', { from: `http://${host('spoof')}`, public: 'true' });
    await waitFor(async () => ((await get('spoof')).status === 200 ? true : undefined), 'the route');
    // CGI folds "-", "_" and case together: exactly how upstreams get fooled.
    const r = await get('spoof', '/cgi-bin/echo', { 'X-Iap-User': 'mallory', x_iap_email: 'm@evil', 'X-IAP-Groups': 'admins', 'x-iap_jwt-assertion': 'forged' });
    expect(r.status).toBe(200);
    const env = parseEcho(r.body);
    expect(Object.keys(env).filter((k) => k.startsWith('HTTP_X_IAP'))).toEqual([]);
    expect(env.HTTP_X_FORWARDED_FOR).toBe('127.0.0.1');
    expect(env.HTTP_HOST).toBe(host('spoof'));
  });
});
