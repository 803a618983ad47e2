import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Provider from 'oidc-provider';
import type { AuditSink, Logger } from '../observability/index.ts';
import { createAuthenticator } from './authenticator.ts';
import { startBackChannel, type ProviderFetch } from './back-channel.ts';
import { createInteractionHandler } from './interaction.ts';
import { loadProviderSecrets } from './keys.ts';
import { createMemoryStore, type MemoryAdapterOptions } from './memory-adapter.ts';
import { messagePage } from './pages.ts';
import { CLIENT_ID, providerConfiguration, SCOPES } from './provider-config.ts';
import { addressKey, createSignInThrottle, throttleMaps, type ThrottleOptions } from './throttle.ts';
import { openMemoryState, type SharedDocuments, type StateStore } from '../state/index.ts';
import { createSharedProviderStore, type ProviderStore } from './shared-adapter.ts';
import { createBuiltinAccounts, type BuiltinAccounts } from './accounts.ts';
import { createPasskeys, parseStoredPasskey } from './passkeys.ts';
import { openUsersStore } from './users-store.ts';
import type { UsersSnapshot } from './users-file.ts';

/**
 * The built-in OpenID Provider, served under `/idp` on the sign-in host. Gatehouse signs users
 * in against it through exactly the same OpenID client as against an outside provider: the
 * browser goes through `/idp/auth` and the sign-in form, Gatehouse redeems the code at
 * `/idp/token` and reads the profile from `/idp/me`.
 */

export const IDP_PREFIX = '/idp';
export const SIGNED_OUT_PATH = '/oauth2/signed_out';

export interface BuiltinProviderOptions {
  /** GATEHOUSE_AUTH_URL: scheme, host and port only. */
  authUrl: string;
  dataDir: string;
  usersFile: string;
  logger: Logger;
  /** Clock for throttling and TOTP; oidc-provider keeps its own. */
  now?: () => number;
  /** How long a sign-in at the provider lasts (single sign-on without the password); default 14 h. */
  sessionTtlMs?: number;
  throttle?: Partial<Omit<ThrottleOptions, 'now'>>;
  /** Poll the users file instead of relying on change events. */
  usersFilePolling?: boolean;
  /** Where sign-in failure counters are kept across restarts; in memory when absent. */
  state?: StateStore;
  /** Several replicas: sessions, grants and interactions in Redis instead of this process's memory. */
  sharedDocuments?: SharedDocuments;
  /** Failed sign-ins and locks, for the audit stream. */
  audit?: AuditSink;
  /** Bounds on what unauthenticated clients can make the provider keep (tests lower them). */
  storage?: Pick<MemoryAdapterOptions, 'maxEntries' | 'maxInteractions' | 'maxInteractionsPerClient'>;
}

export interface BuiltinProvider {
  /** `${authUrl}/idp`. */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** `${authUrl}/oauth2/callback`. */
  readonly redirectUri: string;
  /** The scopes to request: `openid email profile groups`. */
  readonly scopes: string;
  /** Pass to the OpenID client (`fetch`): reaches this provider over loopback. */
  readonly fetch: ProviderFetch;
  /** True for requests this provider answers: the sign-in host, paths under `/idp`. */
  handles(host: string, path: string): boolean;
  /** `clientIp` is the client address after trusted-proxy processing (defaults to the socket's). */
  handle(req: IncomingMessage, res: ServerResponse, clientIp?: string): void;
  users(): UsersSnapshot;
  reloadUsers(): Promise<void>;
  /** Ends the provider session an ID token came from (its `sub` and `auth_time`) and its grants, on the server. */
  endSession(session: { sub: string; authTime: number }): Promise<boolean>;
  /** The self-service page's view of the built-in users. */
  readonly accounts: BuiltinAccounts;
  /** What the provider holds in memory now. */
  storedEntries(): { entries: number; interactions: number };
  close(): Promise<void>;
}

const DEFAULT_SESSION_TTL_MS = 14 * 60 * 60 * 1000;

export async function createBuiltinProvider(options: BuiltinProviderOptions): Promise<BuiltinProvider> {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const auth = new URL(options.authUrl);
  const authOrigin = auth.origin;
  const authHost = auth.hostname.toLowerCase().replace(/\.$/, '');
  const issuer = `${authOrigin}${IDP_PREFIX}`;
  const redirectUri = `${authOrigin}/oauth2/callback`;
  const secrets = loadProviderSecrets(options.dataDir);
  const store = await openUsersStore(options.usersFile, { logger, ...(options.usersFilePolling === true ? { usePolling: true } : {}) });
  // The client address of the request in progress, for the per-client bound on interactions.
  const currentClient = new AsyncLocalStorage<string>();
  const clientOf = () => currentClient.getStore();
  const memory: ProviderStore =
    options.sharedDocuments === undefined
      ? createMemoryStore({ ...options.storage, clientOf })
      : createSharedProviderStore(options.sharedDocuments, { clientOf, ...options.storage });

  const provider = new Provider(
    issuer,
    providerConfiguration({
      authOrigin,
      prefix: IDP_PREFIX,
      redirectUri,
      postLogoutRedirectUri: `${authOrigin}${SIGNED_OUT_PATH}`,
      secrets,
      users: () => store.current(),
      sessionTtlSeconds: Math.max(60, Math.round((options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS) / 1000)),
      adapter: memory.adapter,
    }),
  );
  // URLs and cookie flags come from GATEHOUSE_AUTH_URL, which `handle` states in forwarded headers.
  provider.proxy = true;
  provider.on('server_error', (_ctx, error) => logger.error({ err: error }, 'built-in identity provider error'));

  const throttle = createSignInThrottle({
    ...options.throttle,
    now,
    ...(options.state === undefined ? {} : { maps: throttleMaps(options.state, options.throttle?.maxEntries) }),
  });
  const authenticator = await createAuthenticator({ users: () => store.current(), throttle, logger, now, ...(options.audit ? { audit: options.audit } : {}) });
  const passkeys = createPasskeys({
    store: (options.state ?? openMemoryState({ now })).map('passkeys', { maxEntries: 100_000, parse: parseStoredPasskey }),
    origin: authOrigin,
    now,
  });
  const accounts = createBuiltinAccounts({
    users: () => store.current(),
    usersFile: options.usersFile,
    reloadUsers: () => store.reload(),
    authenticator,
    passkeys,
    endSessions: (username) => memory.endSession(username, null),
    logger,
    now,
  });
  const interaction = createInteractionHandler({ provider, authenticator, passkeys, users: () => store.current(), logger, authOrigin, prefix: IDP_PREFIX, scopes: SCOPES, now });
  const callback = provider.callback();

  function dispatch(req: IncomingMessage, res: ServerResponse, clientIp: string, frontChannel: boolean): void {
    currentClient.run(addressKey(clientIp), () => route(req, res, clientIp, frontChannel));
  }

  function route(req: IncomingMessage, res: ServerResponse, clientIp: string, frontChannel: boolean): void {
    const originalUrl = req.url ?? '/';
    const pathname = originalUrl.split('?')[0]!;
    const inner = originalUrl.slice(IDP_PREFIX.length) || '/';
    req.headers['x-forwarded-proto'] = auth.protocol.slice(0, -1);
    req.headers['x-forwarded-host'] = auth.host;
    req.headers['x-forwarded-for'] = clientIp;
    if (pathname.startsWith(`${IDP_PREFIX}/interaction/`)) {
      if (!frontChannel) return void send404(res);
      void interaction(req, res, pathname.slice(IDP_PREFIX.length), clientIp);
      return;
    }
    // oidc-provider finds its mount path by comparing originalUrl with url (as under express).
    Object.assign(req, { originalUrl });
    req.url = inner;
    res.once('close', () => {
      req.url = originalUrl;
    });
    callback(req, res);
  }

  const backChannel = await startBackChannel({
    authOrigin,
    prefix: IDP_PREFIX,
    handler: (req, res) => dispatch(req, res, req.socket.remoteAddress ?? '127.0.0.1', false),
  });
  logger.info({ issuer, usersFile: options.usersFile, users: store.current().byName.size }, 'built-in identity provider ready');

  return {
    issuer,
    clientId: CLIENT_ID,
    clientSecret: secrets.clientSecret,
    redirectUri,
    scopes: SCOPES.join(' '),
    fetch: backChannel.fetch,
    handles: (host, path) => host.toLowerCase().replace(/\.$/, '') === authHost && (path === IDP_PREFIX || path.startsWith(`${IDP_PREFIX}/`)),
    handle: (req, res, clientIp) => dispatch(req, res, clientIp ?? req.socket.remoteAddress ?? '', true),
    users: () => store.current(),
    reloadUsers: () => store.reload(),
    async endSession({ sub, authTime }) {
      const ended = await memory.endSession(sub, authTime);
      logger.info({ event: 'provider_session_ended', user: sub, sessions: ended }, 'provider session and its grants ended at sign-out');
      return true;
    },
    accounts,
    storedEntries: () => memory.counts(),
    async close() {
      await backChannel.close();
      await store.close();
    },
  };
}

function send404(res: ServerResponse): void {
  const page = messagePage(404, 'Not found', 'There is nothing at this address.');
  res.writeHead(page.status, page.headers);
  res.end(page.body);
}
