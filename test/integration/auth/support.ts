import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { stringify } from 'yaml';
import { bindingCookieName } from '../../../src/auth/browser-binding.ts';
import { createHandoff } from '../../../src/auth/handoff.ts';
import type { Session } from '../../../src/auth/session.ts';
import { derivePurposeKeys, parseSecretList, type Purpose, type PurposeKeys } from '../../../src/auth/keys.ts';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { http, waitFor } from '../../helpers/http.ts';
import { startTestProvider, type TestClient, type TestProvider, type TestUser } from '../../helpers/oidc-provider.ts';

/**
 * A whole sign-in setup for integration and browser tests: a real OpenID Provider, real
 * upstream servers that report what they received, a routes file, and a real Gatehouse on a
 * port chosen up front (GATEHOUSE_AUTH_URL must carry the port browsers use).
 */

export const CLIENT_ID = 'gatehouse-tests';
export const CLIENT_SECRET = 'client-secret-for-gatehouse-tests-0123456789';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
}

/** An upstream that answers with what it received (JSON, or HTML with the JSON in `#echo`), and echoes websocket messages. */
export interface Upstream {
  readonly origin: string;
  readonly received: ReceivedRequest[];
  readonly websocketHandshakes: ReceivedRequest[];
  close(): Promise<void>;
}

export async function startUpstream(name: string): Promise<Upstream> {
  const received: ReceivedRequest[] = [];
  const websocketHandshakes: ReceivedRequest[] = [];
  // Large group lists make large identity headers; a real app would need the same allowance.
  const server: Server = createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    const record = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders };
    received.push(record);
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ upstream: name, ...record });
      if ((req.headers.accept ?? '').includes('text/html')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><title>${name}</title><h1 id="app">${name}</h1><pre id="echo">${body.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`)}</pre>`);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      }
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket, req) => {
    websocketHandshakes.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders });
    socket.on('message', (data, binary) => socket.send(binary ? data : `echo:${data.toString()}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    websocketHandshakes,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A route in the routes file; `to` is filled in with the upstream's origin. */
export type RouteEntry = Record<string, unknown> & { from: string };

export interface AuthStackOptions {
  users: TestUser[];
  /** Routes to the stack's upstream (`to` is added). */
  routes: RouteEntry[];
  /** The sign-in host; default `auth.gh.localhost`. */
  authHost?: string;
  env?: Record<string, string>;
  /** Start Gatehouse while the provider is down (it is started, then stopped first). */
  providerDown?: boolean;
  /** More clients at the provider (machine clients), and the APIs it issues JWT access tokens for. */
  extraClients?: TestClient[];
  apiResources?: Record<string, number>;
}

export interface AuthStack {
  readonly port: number;
  /** GATEHOUSE_AUTH_URL, e.g. `http://auth.gh.localhost:41234`. */
  readonly authUrl: string;
  readonly op: TestProvider;
  readonly gh: TestGatehouse;
  readonly upstream: Upstream;
  readonly secret: string;
  readonly dataDir: string;
  /** `http://<host>:<port><path>`. */
  url(host: string, path?: string): string;
  keys(purpose: Purpose): PurposeKeys;
  close(): Promise<void>;
}

export async function startAuthStack(options: AuthStackOptions): Promise<AuthStack> {
  const port = await freePort();
  const authHost = options.authHost ?? 'auth.gh.localhost';
  const authUrl = `http://${authHost}:${port}`;
  const secret = randomBytes(32).toString('base64url');
  const dataDir = await mkdtemp(join(tmpdir(), 'gh-auth-'));
  // Everything started is stopped again in reverse order, also when the setup itself fails.
  const stops: Array<() => Promise<unknown>> = [() => rm(dataDir, { recursive: true, force: true })];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };
  const url = (host: string, path = '/') => `http://${host}:${port}${path}`;
  try {
    const upstream = await startUpstream('upstream');
    stops.push(() => upstream.close());
    const op = await startTestProvider({
      users: options.users,
      clients: [
        {
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          redirectUris: [`${authUrl}/oauth2/callback`],
          postLogoutRedirectUris: [`${authUrl}/oauth2/signed_out`],
        },
        ...(options.extraClients ?? []),
      ],
      ...(options.apiResources === undefined ? {} : { apiResources: options.apiResources }),
    });
    stops.push(() => op.close());
    if (options.providerDown) await op.stop();
    const routesFile = join(dataDir, 'routes.yml');
    await writeFile(routesFile, stringify({ routes: options.routes.map((route) => ({ to: upstream.origin, ...route })) }));
    const gh = await startTestGatehouse({
      GATEHOUSE_LISTEN: `127.0.0.1:${port}`,
      GATEHOUSE_CONFIG: routesFile,
      GATEHOUSE_AUTH_URL: authUrl,
      GATEHOUSE_OIDC_ISSUER: op.issuer,
      GATEHOUSE_OIDC_CLIENT_ID: CLIENT_ID,
      GATEHOUSE_OIDC_CLIENT_SECRET: CLIENT_SECRET,
      GATEHOUSE_OIDC_SCOPES: 'openid email profile groups',
      GATEHOUSE_SECRET: secret,
      GATEHOUSE_DATA_DIR: join(dataDir, 'data'),
      ...options.env,
    });
    stops.push(() => gh.stop());
    const firstHost = new URL(options.routes[0]?.from ?? 'http://none').hostname;
    // The routes file is published with the first table generation; wait until a route answers.
    await waitFor(async () => {
      const response = await http(port, `${firstHost}:${port}`, '/', { headers: { accept: 'application/json' } });
      return response.status === 404 ? undefined : true;
    }, 'the routes file to be served');
    const roots = parseSecretList(secret, 'test secret');
    return { port, authUrl, op, gh, upstream, secret, dataDir, url, keys: (purpose) => derivePurposeKeys(roots, purpose), close: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The log lines with this message. */
export function logsWith(gh: TestGatehouse, message: string): Array<Record<string, unknown>> {
  return gh.logs.filter((line) => line.msg === message);
}

/**
 * A handoff made the way the sign-in host makes it, for the browser holding `cookie` (the
 * route host's sign-in nonce): the callback URL on `returnTo`'s origin and that Cookie header.
 */
export function mintHandoff(
  stack: Pick<AuthStack, 'keys'>,
  input: { session: Omit<Session, 'host'>; returnTo: string; secure?: boolean; now?: number },
): { url: string; cookie: string; binding: string } {
  const nonce = randomBytes(32).toString('base64url');
  const binding = createHash('sha256').update(nonce).digest('base64url');
  const token = createHandoff(stack.keys('handoff'), { session: input.session, returnTo: input.returnTo, binding }, input.now ?? Date.now());
  const url = `${new URL(input.returnTo).origin}/.iap/callback?token=${encodeURIComponent(token)}`;
  return { url, cookie: `${bindingCookieName(input.secure ?? false)}=${nonce}`, binding };
}
