import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Provider, { interactionPolicy, type Adapter, type AdapterFactory, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../observability/index.ts';
import type { SignedInUser } from './app-interaction.ts';
import type { PolicyEntry, RouteTable } from '../routes/index.ts';
import type { SecretReader } from '../util/secrets.ts';
import { createAppAccounts } from './app-accounts.ts';
import { clientMetadata, createAppClientSecrets } from './app-clients.ts';
import { createAppInteractionHandler } from './app-interaction.ts';
import { loadProviderSecrets } from './keys.ts';
import { createMemoryStore } from './memory-adapter.ts';
import { messagePage, type HtmlPage } from './pages.ts';
import { SCOPES } from './provider-config.ts';
import { addressKey } from './throttle.ts';

/**
 * Gatehouse as the OpenID Provider of the operator's apps (Grafana, Immich, Portainer, …), at
 * `<GATEHOUSE_AUTH_URL>/oidc`. Its clients are declared by container labels (`iap.oidc.*`) and
 * read from the route table generation of each request; its users are Gatehouse's users,
 * whatever they signed in with (app-interaction.ts). A provider of its own, apart from the
 * built-in sign-in provider under `/idp`: another issuer, keys, cookies and client list, so an
 * app's client can never act as Gatehouse's own sign-in, and it works with an outside provider.
 */

export const APPS_PREFIX = '/oidc';

export interface AppProviderOptions {
  /** GATEHOUSE_AUTH_URL: scheme, host and port only. */
  authUrl: string;
  dataDir: string;
  logger: Logger;
  /** The table to serve a request from; read once per request. */
  currentTable: () => RouteTable;
  signedIn: (req: IncomingMessage) => SignedInUser | null;
  signInUrl: (returnTo: string) => string;
  readSecret: SecretReader;
  defaultAllow: readonly PolicyEntry[];
  /** How long the claims behind issued tokens are kept (the session lifetime). */
  sessionTtlMs: number;
  now?: () => number;
}

export interface AppProvider {
  /** `${authUrl}/oidc`. */
  readonly issuer: string;
  /** `clientIp`: the client address after trusted-proxy processing. */
  handle(req: IncomingMessage, res: ServerResponse, clientIp: string): void;
}

export function createAppProvider(options: AppProviderOptions): AppProvider {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const auth = new URL(options.authUrl);
  const authOrigin = auth.origin;
  const issuer = `${authOrigin}${APPS_PREFIX}`;
  const keys = loadProviderSecrets(options.dataDir, 'apps-idp');
  const secrets = createAppClientSecrets({ dataDir: options.dataDir, readSecret: options.readSecret });
  const accounts = createAppAccounts({ ttlMs: options.sessionTtlMs, now });
  const tables = new AsyncLocalStorage<RouteTable>();
  const table = () => tables.getStore() ?? options.currentTable();
  // Interactions are bounded per client address (memory-adapter.ts), as at the built-in provider.
  const currentClient = new AsyncLocalStorage<string>();
  const memory = createMemoryStore({ clientOf: () => currentClient.getStore() });

  const clients: Adapter = {
    async find(id) {
      const route = table().oidcClients.get(id);
      if (route === undefined) return undefined;
      const secret = secrets.secretOf(route);
      if (secret === null) {
        logger.error({ client: id, route: route.id }, `the client secret secret:${route.oidc.secret} of OpenID client ${id} cannot be read; the client is refused`);
        return undefined;
      }
      return clientMetadata(route, secret);
    },
    upsert: refuseWrite,
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
    consume: refuseWrite,
    destroy: refuseWrite,
    revokeByGrantId: refuseWrite,
  };
  const adapter: AdapterFactory = (model) => (model === 'Client' ? clients : memory.adapter(model));

  const cookie = { httpOnly: true, sameSite: 'lax' as const, path: APPS_PREFIX };
  const configuration: Configuration = {
    adapter,
    clients: [],
    jwks: keys.jwks,
    cookies: {
      keys: keys.cookieKeys,
      names: { session: 'gatehouse_apps_session', interaction: 'gatehouse_apps_interaction', resume: 'gatehouse_apps_resume' },
      long: cookie,
      short: cookie,
    },
    scopes: [...SCOPES],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'], groups: ['groups'] },
    // Apps read the user from the ID token as often as from UserInfo: both carry the claims.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    responseTypes: ['code'],
    issueRefreshToken: () => false,
    clientBasedCORS: () => false,
    features: { devInteractions: { enabled: false }, userinfo: { enabled: true }, rpInitiatedLogout: { enabled: false } },
    ttl: {
      AuthorizationCode: 60,
      AccessToken: 10 * 60,
      IdToken: 10 * 60,
      Interaction: 5 * 60,
      Session: 10 * 60,
      Grant: 10 * 60,
    },
    interactions: {
      url: (_ctx, interaction) => `${APPS_PREFIX}/interaction/${interaction.uid}`,
      policy: appLoginPolicy(),
    },
    findAccount: (_ctx, sub) => {
      const user = accounts.find(sub);
      if (user === undefined) return undefined;
      return {
        accountId: sub,
        claims: () => ({
          sub,
          ...(user.email === null ? {} : { email: user.email, email_verified: user.emailVerified ?? false }),
          ...(user.name === null ? {} : { name: user.name }),
          preferred_username: user.email ?? sub,
          groups: [...user.groups],
        }),
      };
    },
    renderError: (ctx, out) => {
      const description = typeof out['error_description'] === 'string' ? out['error_description'] : String(out['error'] ?? 'unknown error');
      respond(ctx, messagePage(ctx.status >= 400 ? ctx.status : 400, 'Sign-in cannot continue', `${description}. Go back to the application and sign in again.`));
    },
  };
  const provider = new Provider(issuer, configuration);
  provider.proxy = true;
  provider.on('server_error', (_ctx, error) => logger.error({ err: error }, 'provider for apps: error'));
  const interaction = createAppInteractionHandler({
    provider,
    accounts,
    logger,
    authOrigin,
    prefix: APPS_PREFIX,
    scopes: SCOPES,
    table,
    signedIn: options.signedIn,
    clientIpOf: (req) => clientIps.get(req) ?? null,
    signInUrl: options.signInUrl,
    defaultAllow: options.defaultAllow,
  });
  const callback = provider.callback();
  // The address each request came from, for the interaction's network conditions.
  const clientIps = new WeakMap<IncomingMessage, string>();

  function route(req: IncomingMessage, res: ServerResponse): void {
    const originalUrl = req.url ?? '/';
    const pathname = originalUrl.split('?')[0]!;
    // URLs and cookie flags come from GATEHOUSE_AUTH_URL, whatever the client sent.
    req.headers['x-forwarded-proto'] = auth.protocol.slice(0, -1);
    req.headers['x-forwarded-host'] = auth.host;
    if (pathname.startsWith(`${APPS_PREFIX}/interaction/`)) {
      void interaction(req, res, pathname.slice(APPS_PREFIX.length));
      return;
    }
    Object.assign(req, { originalUrl });
    req.url = originalUrl.slice(APPS_PREFIX.length) || '/';
    res.once('close', () => {
      req.url = originalUrl;
    });
    callback(req, res);
  }

  logger.info({ issuer }, 'OpenID provider for apps ready');
  return {
    issuer,
    handle: (req, res, clientIp) => {
      clientIps.set(req, clientIp);
      return currentClient.run(addressKey(clientIp), () => tables.run(options.currentTable(), () => route(req, res)));
    },
  };
}

/**
 * The default prompts, plus: every authorization request goes through the interaction, where
 * the Gatehouse session and the app's access rules are checked again. Resuming from that
 * interaction carries its result, which is what lets the request finish.
 */
function appLoginPolicy(): interactionPolicy.Prompt[] {
  const policy = interactionPolicy.base();
  policy.get('login')?.checks.add(
    new interactionPolicy.Check('gatehouse_session', 'the Gatehouse session and the app access rules are checked on every sign-in', (ctx) =>
      ctx.oidc.result?.login === undefined ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT,
    ),
  );
  return policy;
}

async function refuseWrite(): Promise<never> {
  throw new Error('clients of the provider for apps come from container labels only');
}

function respond(ctx: KoaContextWithOIDC, page: HtmlPage): void {
  for (const [name, value] of Object.entries(page.headers)) ctx.set(name, value);
  ctx.status = page.status;
  ctx.body = page.body;
}
