import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { stringify } from 'yaml';
import { createOidcClient, type OidcClient, type SignInExpectations } from '../../src/auth/oidc.ts';
import { CookieJar, loopbackFetch } from './http-sign-in.ts';
import { createBuiltinProvider, hashPassword, type BuiltinProvider, type BuiltinProviderOptions } from '../../src/idp/index.ts';

/**
 * The built-in provider served the way Gatehouse serves it (under /idp on the sign-in host),
 * with the real OpenID client completing the authorization code flow beside it:
 *   GET /login             → beginSignIn(), 302 to the provider
 *   GET /oauth2/callback   → finishSignIn(); 200 with the signed-in user as JSON (or in #user as HTML)
 *   GET /logout            → the provider's end_session_endpoint for the last sign-in, back to /oauth2/signed_out
 * The sign-in host is `auth.gh.localhost:<port>`; browsers and loopbackFetch map it to 127.0.0.1.
 */

export interface TestUserSpec {
  email: string;
  name?: string;
  groups?: string[];
  password: string;
  totp?: string;
  disabled?: boolean;
}

/** Cheap argon2 parameters for test users; the dummy hash and the CLI keep the real defaults. */
export const TEST_ARGON2 = { memoryKiB: 1024, passes: 1, parallelism: 1 };

export async function usersYaml(users: Record<string, TestUserSpec>): Promise<string> {
  const entries: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(users)) {
    entries[name] = {
      email: spec.email,
      ...(spec.name === undefined ? {} : { name: spec.name }),
      groups: spec.groups ?? [],
      password: await hashPassword(spec.password, TEST_ARGON2),
      ...(spec.totp === undefined ? {} : { totp: spec.totp }),
      ...(spec.disabled === undefined ? {} : { disabled: spec.disabled }),
    };
  }
  return stringify({ users: entries });
}

export interface IdpTestApp {
  readonly origin: string;
  readonly loginUrl: string;
  readonly provider: BuiltinProvider;
  readonly oidc: OidcClient;
  readonly dataDir: string;
  readonly usersFile: string;
  /** Every log line (JSON) written so far. */
  readonly logs: string[];
  /** Rewrites the users file and waits until the provider has loaded it. */
  writeUsers(users: Record<string, TestUserSpec>): Promise<void>;
  close(): Promise<void>;
}

export interface IdpTestAppOptions {
  users?: Record<string, TestUserSpec>;
  /** The scheme of GATEHOUSE_AUTH_URL; the test server itself always speaks plain http. */
  scheme?: 'http' | 'https';
  /** Reuse a data directory (kept on close); default: a fresh one, removed on close. */
  dataDir?: string;
  throttle?: BuiltinProviderOptions['throttle'];
  storage?: BuiltinProviderOptions['storage'];
  now?: () => number;
}

export async function startIdpTestApp(options: IdpTestAppOptions = {}): Promise<IdpTestApp> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'gatehouse-idp-')));
  const usersFile = join(dataDir, 'users.yml');
  if (options.users !== undefined) await writeFile(usersFile, await usersYaml(options.users), { mode: 0o600 });
  const logs: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logs.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
        callback();
      },
    }),
  );

  let app: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.writeHead(503);
    res.end();
  };
  const server: Server = createServer((req, res) => app(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `${options.scheme ?? 'http'}://auth.gh.localhost:${port}`;

  const provider = await createBuiltinProvider({
    authUrl: origin,
    dataDir,
    usersFile,
    logger,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.throttle === undefined ? {} : { throttle: options.throttle }),
    ...(options.storage === undefined ? {} : { storage: options.storage }),
  });
  const oidc = createOidcClient({
    issuer: provider.issuer,
    clientId: provider.clientId,
    clientSecret: provider.clientSecret,
    redirectUri: provider.redirectUri,
    scopes: provider.scopes,
    groupsClaim: 'groups',
    logger,
    allowHttp: options.scheme !== 'https',
    fetch: provider.fetch,
    retry: { initialMs: 100, maxMs: 1000 },
  });
  oidc.start();

  const flows = new Map<string, SignInExpectations>();
  let lastIdToken: string | null = null;
  app = (req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    if (provider.handles(url.hostname, url.pathname)) {
      // This server plays the proxy in front: X-Forwarded-For names the client, as Gatehouse would pass it on.
      const forwarded = req.headers['x-forwarded-for'];
      provider.handle(req, res, typeof forwarded === 'string' ? forwarded : undefined);
      return;
    }
    void route(url, req, res).catch((error: unknown) => {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`sign-in failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  };

  async function route(url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (url.pathname === '/login') {
      const start = await oidc.beginSignIn();
      flows.set(start.state, start);
      res.writeHead(302, { location: start.url, 'set-cookie': `flow=${start.state}; Path=/; HttpOnly; SameSite=Lax` });
      res.end();
      return;
    }
    if (url.pathname === '/oauth2/callback') {
      const state = /(?:^|;\s*)flow=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? '';
      const expected = flows.get(state) ?? { state: '', nonce: '', codeVerifier: '' };
      flows.delete(state);
      const user = await oidc.finishSignIn(url, expected);
      lastIdToken = user.idToken;
      const body = JSON.stringify({ sub: user.sub, email: user.email, emailVerified: user.emailVerified, name: user.name, groups: user.groups, amr: user.claims['amr'] ?? null });
      if ((req.headers.accept ?? '').includes('text/html')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><html lang="en"><title>Signed in</title><pre id="user">${body.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`)}</pre></html>`);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      }
      return;
    }
    if (url.pathname === '/logout') {
      res.writeHead(302, { location: oidc.endSessionUrl(lastIdToken, `${origin}/oauth2/signed_out`) ?? `${origin}/oauth2/signed_out` });
      res.end();
      return;
    }
    if (url.pathname === '/oauth2/signed_out') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><html lang="en"><title>Signed out</title><p id="signed-out">signed out</p></html>');
      return;
    }
    res.writeHead(404);
    res.end();
  }

  return {
    origin,
    loginUrl: `${origin}/login`,
    provider,
    oidc,
    dataDir,
    usersFile,
    logs,
    async writeUsers(users) {
      const temp = `${usersFile}.tmp`;
      await writeFile(temp, await usersYaml(users), { mode: 0o600 });
      const before = logs.filter((line) => line.includes('users file loaded')).length;
      await rename(temp, usersFile);
      const deadline = Date.now() + 10_000;
      while (logs.filter((line) => line.includes('users file loaded')).length === before) {
        if (Date.now() > deadline) throw new Error('the users file change was not picked up within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async close() {
      oidc.stop();
      await provider.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface BrowseResult {
  response: Response;
  url: URL;
  body: string;
  visited: URL[];
}

/**
 * Requests `url` like a browser would (cookies from and into `jar`, redirects followed, a POST
 * turned into a GET after 302/303) and returns the first non-redirect response.
 */
export async function browse(
  jar: CookieJar,
  url: string | URL,
  init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<BrowseResult> {
  let current = new URL(url);
  let method = init.method ?? (init.form === undefined ? 'GET' : 'POST');
  let body = init.form === undefined ? undefined : new URLSearchParams(init.form).toString();
  const visited: URL[] = [];
  for (let hop = 0; hop < 20; hop += 1) {
    visited.push(current);
    const headers: Record<string, string> = { accept: 'text/html', ...(hop === 0 ? init.headers : {}) };
    const cookie = jar.header(current);
    if (cookie !== undefined) headers['cookie'] = cookie;
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await loopbackFetch(current, { method, headers, ...(body === undefined ? {} : { body }) });
    jar.store(current, response.headers.getSetCookie());
    const text = await response.text();
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      current = new URL(location, current);
      if (response.status === 303 || response.status === 302 || response.status === 301) {
        method = 'GET';
        body = undefined;
      }
      continue;
    }
    return { response, url: current, body: text, visited };
  }
  throw new Error(`too many redirects from ${String(url)}`);
}

/** The action of the first form on an HTML page, resolved against the page's URL. */
export function formAction(html: string, pageUrl: URL): URL {
  const action = /<form\b[^>]*\baction="([^"]*)"/i.exec(html)?.[1];
  if (action === undefined) throw new Error(`no form on ${pageUrl.href}: ${html.slice(0, 300)}`);
  return new URL(action.replace(/&amp;/g, '&'), pageUrl);
}
