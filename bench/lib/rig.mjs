import { join } from 'node:path';
import { AUTH_POLICY, BENCH_USER, mintSessionCookie, newSecret, startProvider } from './identity.mjs';
import { freePort, waitFor } from './processes.mjs';
import { fetchOnce, publicHost, startCaddy, startGatehouse, startNginxProxy, startUpstream, writeRoutesFile } from './servers.mjs';

/**
 * Everything the closed-loop matrix measures, started once: the upstream, nginx and Caddy,
 * and the Gatehouse instances (1 route, 1,000 routes, 1 route with the access log on, 1 route
 * with Node's default heap, and sign-in with a protected route). Every Gatehouse instance but
 * the default-heap one runs with the image's NODE_OPTIONS. A part that cannot run is recorded
 * as unavailable, with the reason, instead of failing the whole run.
 */

export const LOAD_CPU = 0;
export const PROXY_CPU = 1;
export const AUTH_HOST = 'app.bench.test';
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** `defer(fn)` registers cleanup for what is not a process (the in-process OpenID Provider). */
export async function startRig({ root, dir, registry, runId, tools, log, defer }) {
  const unavailable = {};
  const upstream = await startUpstream(registry, dir, LOAD_CPU);
  const nginx = await startNginxProxy(registry, dir, PROXY_CPU, upstream.port);
  let caddy = null;
  if (tools.caddy === null) unavailable.caddy = 'Caddy is not installed (not available from the configured Debian archive)';
  else {
    caddy = await startCaddy(registry, dir, PROXY_CPU, upstream.port).catch((error) => {
      unavailable.caddy = `Caddy did not start: ${error.message}`;
      return null;
    });
  }

  // A prefix no container uses: these instances see Docker but route only the file's routes.
  const prefix = `ghbf${runId}`;
  const oneRoute = join(dir, 'routes-1.yaml');
  const thousandRoutes = join(dir, 'routes-1000.yaml');
  writeRoutesFile(oneRoute, { upstreamPort: upstream.port, count: 1 });
  writeRoutesFile(thousandRoutes, { upstreamPort: upstream.port, count: 1000 });
  const common = { root, dir, cpu: PROXY_CPU };
  log('starting Gatehouse instances…');
  const public1 = await startGatehouse(registry, { ...common, name: 'public-1', settings: { GATEHOUSE_CONFIG: oneRoute, GATEHOUSE_LABEL_PREFIX: prefix } });
  const public1000 = await startGatehouse(registry, { ...common, name: 'public-1000', settings: { GATEHOUSE_CONFIG: thousandRoutes, GATEHOUSE_LABEL_PREFIX: prefix } });
  const publicLog = await startGatehouse(registry, {
    ...common,
    name: 'public-log',
    // Read through a pipe, as Docker's log driver reads a container's output.
    output: { pipe: join(dir, 'access-public-log.log') },
    settings: { GATEHOUSE_CONFIG: oneRoute, GATEHOUSE_LABEL_PREFIX: prefix, GATEHOUSE_ACCESS_LOG: 'true' },
  });
  // The same instance without the image's NODE_OPTIONS: the difference is what they buy.
  const publicV8Default = await startGatehouse(registry, {
    ...common,
    name: 'public-v8default',
    nodeOptions: null,
    settings: { GATEHOUSE_CONFIG: oneRoute, GATEHOUSE_LABEL_PREFIX: prefix },
  });
  const auth = await startSignedIn({ ...common, registry, upstreamPort: upstream.port, prefix, log, defer }).catch((error) => ({
    instance: null,
    unavailable: { auth: `sign-in could not be set up: ${error.message}`, redirect: `sign-in could not be set up: ${error.message}` },
  }));
  Object.assign(unavailable, auth.unavailable);

  const scenarios = [
    { id: 'direct-13', group: 'direct', label: 'Direct to upstream, 13 B', url: `${upstream.url}/`, headers: {}, pid: upstream.pid },
    { id: 'direct-1k', group: 'direct', label: 'Direct to upstream, 1 KiB', url: `${upstream.url}/1k`, headers: {}, pid: upstream.pid },
    { id: 'nginx', group: 'nginx', label: 'nginx reverse proxy (1 worker)', url: `${nginx.url}/`, headers: {}, pid: nginx.pid },
    caddy && { id: 'caddy', group: 'caddy', label: 'Caddy reverse_proxy (GOMAXPROCS=1)', url: `${caddy.url}/`, headers: {}, pid: caddy.pid },
    { id: 'gh-public-1', group: 'gatehouse', label: 'Gatehouse public, 1 route', url: `${public1.url}/`, headers: { Host: publicHost(1) }, pid: public1.pid, nodeOptions: public1.nodeOptions },
    { id: 'gh-public-1000', group: 'gatehouse', label: 'Gatehouse public, 1,000 routes (500th)', url: `${public1000.url}/`, headers: { Host: publicHost(500) }, pid: public1000.pid, nodeOptions: public1000.nodeOptions },
    { id: 'gh-public-log', group: 'gatehouse', label: 'Gatehouse public, access log on', url: `${publicLog.url}/`, headers: { Host: publicHost(1) }, pid: publicLog.pid, nodeOptions: publicLog.nodeOptions },
    {
      id: 'gh-public-v8default',
      group: 'gatehouse',
      label: "Gatehouse public, Node's default heap (no NODE_OPTIONS)",
      url: `${publicV8Default.url}/`,
      headers: { Host: publicHost(1) },
      pid: publicV8Default.pid,
      nodeOptions: publicV8Default.nodeOptions,
    },
    auth.instance &&
      !unavailable.auth && {
        id: 'gh-auth',
        group: 'gatehouse-auth',
        label: 'Gatehouse authenticated (session + JWT, access log on)',
        url: `${auth.instance.url}/`,
        headers: { Host: AUTH_HOST, Cookie: auth.cookie },
        pid: auth.instance.pid,
        nodeOptions: auth.instance.nodeOptions,
      },
    auth.instance &&
      !unavailable.redirect && {
        id: 'gh-redirect',
        group: 'gatehouse-auth',
        label: 'Gatehouse unauthenticated → 302 sign-in (access log on)',
        url: `${auth.instance.url}${auth.redirectPath ?? '/'}`,
        headers: { Host: AUTH_HOST, Accept: BROWSER_ACCEPT },
        pid: auth.instance.pid,
        nodeOptions: auth.instance.nodeOptions,
        expectStatus: 302,
      },
  ].filter(Boolean);
  for (const scenario of scenarios) scenario.expectStatus ??= 200;

  return {
    upstream,
    nginx,
    caddy,
    gatehouse: { public1, public1000, publicLog, publicV8Default, auth: auth.instance },
    provider: auth.provider ?? null,
    cookie: auth.cookie ?? null,
    authSettings: auth.settings ?? null,
    scenarios,
    unavailable,
  };
}

/**
 * Gatehouse with sign-in: a local OpenID Provider for discovery, a route whose policy has an
 * email, a domain and a group entry, identity headers and the JWT on (the default). Then checks
 * that the identity gate is really in front of the route before any number is taken.
 */
async function startSignedIn({ root, dir, cpu, registry, upstreamPort, prefix, log, defer }) {
  const port = await freePort();
  const authUrl = `http://auth.bench.test:${port}`;
  const clientId = 'gatehouse-bench';
  const clientSecret = newSecret();
  const secret = newSecret();
  const provider = await startProvider(root, { authUrl, clientId, clientSecret });
  defer(() => provider.close());
  const routesFile = join(dir, 'routes-auth.yaml');
  writeRoutesFile(routesFile, { upstreamPort, extra: [{ from: `http://${AUTH_HOST}`, settings: { allow: AUTH_POLICY } }] });
  const settings = {
    GATEHOUSE_CONFIG: routesFile,
    GATEHOUSE_LABEL_PREFIX: prefix,
    GATEHOUSE_AUTH_URL: authUrl,
    GATEHOUSE_OIDC_ISSUER: provider.issuer,
    GATEHOUSE_OIDC_CLIENT_ID: clientId,
    GATEHOUSE_OIDC_CLIENT_SECRET: clientSecret,
    GATEHOUSE_SECRET: secret,
    // The shipped default, as in the public "access log on" row.
    GATEHOUSE_ACCESS_LOG: 'true',
  };
  const instance = await startGatehouse(registry, { root, dir, cpu, port, name: 'auth', settings, output: { pipe: join(dir, 'access-auth.log') } });
  const unavailable = {};

  await waitFor('the OpenID Provider discovery', async () => {
    const ready = JSON.parse((await fetchOnce(`http://127.0.0.1:${instance.adminPort}/readyz`)).body);
    return ready.identity === undefined || ready.identity.provider === 'ready';
  }, { timeoutMs: 15_000 }).catch((error) => log(`  note: ${error.message}`));

  const redirect = await fetchOnce(`${instance.url}/`, { host: AUTH_HOST, accept: BROWSER_ACCEPT });
  const location = String(redirect.headers.location ?? '');
  if (redirect.status === 200) {
    unavailable.auth = unavailable.redirect = 'the identity gate is not wired: a protected route answered 200 without a session';
    return { instance, provider, unavailable, settings };
  }
  // An unsigned browser is sent first to the app host's own /.iap/start (which mints the
  // sign-in state and its cookie), and from there to the sign-in host. The flood measures that
  // second step, where the work is; the first is checked to lead there.
  let redirectPath = '/';
  const startPrefix = `http://${AUTH_HOST}/.iap/start?`;
  if (redirect.status === 302 && location.startsWith(startPrefix)) {
    redirectPath = location.slice(`http://${AUTH_HOST}`.length);
    const start = await fetchOnce(`${instance.url}${redirectPath}`, { host: AUTH_HOST, accept: BROWSER_ACCEPT });
    const next = String(start.headers.location ?? '');
    if (start.status !== 302 || !next.startsWith(`${authUrl}/`)) {
      unavailable.redirect = `expected ${redirectPath} to answer a 302 to ${authUrl}/…, got ${start.status}${next ? ` to ${next}` : ''}`;
    }
  } else if (redirect.status !== 302 || !location.startsWith(`${authUrl}/`)) {
    unavailable.redirect = `expected a 302 to ${authUrl}/… or to ${startPrefix}…, got ${redirect.status}${location ? ` to ${location}` : ''}`;
  }

  let cookie = null;
  try {
    cookie = await mintSessionCookie(root, { secret, host: AUTH_HOST });
  } catch (error) {
    unavailable.auth = `cannot mint a session cookie with dist/auth: ${error.message}`;
  }
  if (cookie !== null) {
    const echo = await fetchOnce(`${instance.url}/bench-echo`, { host: AUTH_HOST, cookie: `${cookie}; theme=dark` });
    const jwt = String(echo.headers['x-seen-jwt'] ?? '');
    const problems = [];
    if (echo.status !== 200) problems.push(`status ${echo.status}`);
    if (echo.headers['x-seen-email'] !== BENCH_USER.email) problems.push(`X-Iap-Email "${echo.headers['x-seen-email'] ?? ''}"`);
    if (jwt.split('.').length !== 3) problems.push('no identity JWT');
    if (String(echo.headers['x-seen-cookie'] ?? '').includes('gatehouse_')) problems.push('the session cookie reached the upstream');
    if (problems.length > 0) unavailable.auth = `a valid session was not forwarded as expected (${problems.join(', ')})`;
  }
  return { instance, provider, cookie, unavailable, settings, redirectPath };
}
