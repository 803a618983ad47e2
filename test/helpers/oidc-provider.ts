import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { errors, type Account, type Configuration } from 'oidc-provider';
import { createMemoryStore } from './oidc-provider-store.ts';

/**
 * A real OpenID Provider (oidc-provider) inside the test process, configured the way hosted
 * providers behave: email, name and groups are released by scope through UserInfo only, PKCE
 * (S256) is required, the authorization response carries `iss` (RFC 9207), and RP-initiated
 * logout is enabled. Sign-in goes through a small login form at the interaction URL.
 */

export interface TestUser {
  sub: string;
  email: string;
  emailVerified?: boolean;
  name: string;
  /** An array, or a string for providers that send groups space/comma separated. */
  groups: string[] | string;
  password: string;
  /** Authentication methods this user's sign-in reports in the ID token (`amr`); none when unset. */
  amr?: string[];
}

export interface TestClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  /** RS256 unless set. ES384 is offered so tests can check that a relying party refuses it. */
  idTokenSigningAlg?: 'RS256' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA';
  /** `authorization_code` unless set; `client_credentials` for machine clients (needs `apiResources`). */
  grantTypes?: string[];
}

export interface TestProviderOptions {
  users: TestUser[];
  clients: TestClient[];
  port?: number;
  /** A path the issuer lives under, as Azure's `/<tenant>/v2.0`; the provider is mounted there. */
  issuerPath?: string;
  /**
   * APIs (RFC 8707 resource indicators) the provider issues JWT access tokens for, with the
   * client credentials grant: resource URL → access token lifetime in seconds. The token's
   * `aud` is the resource, its `sub` the client id.
   */
  apiResources?: Record<string, number>;
  /**
   * An `acr` value that stands for "password and a second factor": when an authorization request
   * asks for it in `acr_values`, the login reports it as `acr` and `amr: ["pwd", "otp"]`, as a
   * provider that steps up on request does. Otherwise the user's own `amr` (if any) is reported.
   */
  mfaAcr?: string;
}

export interface TestProvider {
  issuer: string;
  provider: Provider;
  close(): Promise<void>;
  setUsers(users: TestUser[]): void;
  /** Closes the listener (and open connections) to simulate an outage. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
  /** The query of every authorization request received, in order. */
  readonly authorizationRequests: URLSearchParams[];
}

const SCOPES = 'openid email profile groups';

export async function startTestProvider(options: TestProviderOptions): Promise<TestProvider> {
  let users = new Map(options.users.map((user) => [user.sub, user]));
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = createServer((req, res) => handler(req, res));
  await listen(server, options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const mount = options.issuerPath ?? '';
  const issuer = `http://127.0.0.1:${port}${mount}`;

  const provider = new Provider(issuer, configuration(options.clients, (sub) => users.get(sub), options.apiResources, options.mfaAcr));
  const callback = provider.callback();
  const authorizationRequests: URLSearchParams[] = [];
  handler = (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    if (url.pathname === '/auth') authorizationRequests.push(url.searchParams);
    if (!url.pathname.startsWith('/interaction/')) {
      // Mounted below a path the way Express mounts it: oidc-provider reads the mount from originalUrl.
      if (mount !== '' && req.url?.startsWith(mount)) {
        (req as IncomingMessage & { originalUrl?: string }).originalUrl = req.url;
        req.url = req.url.slice(mount.length) || '/';
      }
      callback(req, res);
      return;
    }
    handleInteraction(provider, () => users, req, res, options.mfaAcr).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`interaction failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  };

  return {
    issuer,
    provider,
    authorizationRequests,
    setUsers(next) {
      users = new Map(next.map((user) => [user.sub, user]));
    },
    stop: () => closeServer(server),
    restart: () => listen(server, port),
    close: () => closeServer(server),
  };
}

function configuration(clients: TestClient[], findUser: (sub: string) => TestUser | undefined, apiResources: Record<string, number> = {}, mfaAcr: string | undefined = undefined): Configuration {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' });
  const ed25519 = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  return {
    adapter: createMemoryStore(),
    clients: clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris ?? [],
      grant_types: c.grantTypes ?? ['authorization_code'],
      response_types: (c.grantTypes ?? ['authorization_code']).includes('authorization_code') ? ['code'] : [],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: c.idTokenSigningAlg ?? 'RS256',
    })),
    jwks: {
      keys: [
        { ...rsa, kid: 'test-rsa', use: 'sig' },
        { ...p256, kid: 'test-p256', use: 'sig' },
        { ...p384, kid: 'test-p384', use: 'sig' },
        { ...ed25519, kid: 'test-ed25519', use: 'sig' },
      ],
    },
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub', 'acr', 'amr'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    conformIdTokenClaims: true,
    ...(mfaAcr === undefined ? {} : { acrValues: [mfaAcr] }),
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.body = `<!doctype html><html><body><h1>Sign out?</h1>${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button></body></html>`;
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.body = '<!doctype html><html><body><h1>Signed out</h1></body></html>';
        },
      },
      userinfo: { enabled: true },
      clientCredentials: { enabled: Object.keys(apiResources).length > 0 },
      resourceIndicators: {
        enabled: Object.keys(apiResources).length > 0,
        defaultResource: () => undefined,
        useGrantedResource: () => false,
        getResourceServerInfo: (_ctx, resource) => {
          const ttl = apiResources[resource];
          if (ttl === undefined) throw new errors.InvalidTarget();
          return { scope: 'api', audience: resource, accessTokenTTL: ttl, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    clientBasedCORS: () => false,
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    findAccount: (_ctx, sub): Account | undefined => {
      const user = findUser(sub);
      if (user === undefined) return undefined;
      return {
        accountId: user.sub,
        claims: () => ({
          sub: user.sub,
          email: user.email,
          email_verified: user.emailVerified ?? true,
          name: user.name,
          groups: user.groups,
        }),
      };
    },
    renderError: (ctx, out) => {
      ctx.type = 'text/plain';
      ctx.body = Object.entries(out).map(([key, value]) => `${key}: ${String(value)}`).join('\n');
    },
  };
}

async function handleInteraction(
  provider: Provider,
  users: () => Map<string, TestUser>,
  req: IncomingMessage,
  res: ServerResponse,
  mfaAcr: string | undefined,
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const clientId = String(details.params['client_id']);
  if (details.prompt.name !== 'login') {
    // Consent is implicit: a login that already happened only needs the grant.
    const accountId = details.session?.accountId;
    if (accountId === undefined) throw new Error('consent prompt without a signed-in account');
    const grantId = await saveGrant(provider, accountId, clientId, details.grantId);
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  if (req.method !== 'POST') {
    sendLoginForm(res, details.uid, null);
    return;
  }
  const form = new URLSearchParams(await readBody(req));
  const username = form.get('username') ?? '';
  const user = [...users().values()].find((candidate) => candidate.sub === username || candidate.email === username);
  if (user === undefined || user.password !== form.get('password')) {
    sendLoginForm(res, details.uid, 'Invalid username or password.');
    return;
  }
  const grantId = await saveGrant(provider, user.sub, clientId, details.grantId);
  const steppedUp = mfaAcr !== undefined && String(details.params['acr_values'] ?? '').split(' ').includes(mfaAcr);
  const amr = steppedUp ? ['pwd', 'otp'] : user.amr;
  const login = { accountId: user.sub, ...(amr === undefined ? {} : { amr }), ...(steppedUp ? { acr: mfaAcr } : {}) };
  await provider.interactionFinished(req, res, { login, consent: { grantId } }, { mergeWithLastSubmission: false });
}

async function saveGrant(provider: Provider, accountId: string, clientId: string, existingId: string | undefined): Promise<string> {
  const existing = existingId === undefined ? undefined : await provider.Grant.find(existingId);
  const grant = existing ?? new provider.Grant({ accountId, clientId });
  grant.addOIDCScope(SCOPES);
  grant.addOIDCClaims(['sub', 'email', 'email_verified', 'name', 'groups']);
  return grant.save();
}

function sendLoginForm(res: ServerResponse, uid: string, error: string | null): void {
  const action = `/interaction/${encodeURIComponent(uid)}`;
  res.writeHead(error === null ? 200 : 401, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html>
<html><head><meta charset="utf-8"><title>Sign in</title></head>
<body>
<h1>Sign in to the test provider</h1>
${error === null ? '' : `<p role="alert">${error}</p>`}
<form method="post" action="${action}">
<label for="username">Username</label> <input id="username" name="username" type="text" autocomplete="username" autofocus>
<label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">Sign in</button>
</form>
</body></html>`);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
