import type { IdentitySettings, RootSecret } from './options.ts';
import type { Logger } from '../observability/index.ts';
import type { RawHandler } from '../http/index.ts';
import { createAssertionSigner } from './assertion.ts';
import type { IdentityServices } from './context.ts';
import { createIdentityGate, type AccessGate } from './gate.ts';
import { loadSecrets } from './keys.ts';
import { createOidcClient, type OidcClient } from './oidc.ts';
import type { RetryOptions } from './oidc-discovery.ts';
import { connectProvider } from './provider.ts';
import { join } from 'node:path';
import { openFileState, openMemoryState } from '../state/index.ts';
import { parseUsedHandoff } from './handoff.ts';
import { frontDoor } from './origins.ts';
import { createProviderSessions, parseProviderLink } from './provider-sessions.ts';
import { openRevocationList } from './revocation.ts';
import { openAppPasswords, parseAppPasswordRecord } from './app-passwords.ts';
import { createBearerJwtVerifier } from './bearer-jwt.ts';
import { createCredentialThrottle, parseFailureCount } from './credential-throttle.ts';
import { createAccountHandler } from './account/handler.ts';
import { openUserSessions, parseCut, parseSessionInfo } from './user-sessions.ts';

/**
 * Sign-in for Gatehouse: who is calling (OpenID Connect, sessions, handoff to each route
 * host), whether the route lets them in (policy), and what the upstream learns about them
 * (identity headers and a signed JWT).
 */

export { createIdentityGate, type AccessGate, type Caller } from './gate.ts';
export type { IdentityContext, IdentityServices } from './context.ts';
export type { BuiltinProviderSignIn, IdentitySettings, OutsideProviderSignIn, RootSecret } from './options.ts';

export interface IdentityOptions {
  logger: Logger;
  /**
   * The https port users see when Gatehouse serves https itself; null without TLS. Only needed
   * when the sign-in address is http.
   */
  httpsPublicPort?: number | null;
  /** Discovery retry backoff (tests shorten it). */
  retry?: RetryOptions;
  now?: () => number;
}

export interface IdentityStatus {
  readonly authUrl: string;
  /** `builtin` when Gatehouse signs users in itself, `oidc` for an outside provider. */
  readonly kind: 'oidc' | 'builtin';
  readonly issuer: string;
  /** `discovering`, `ready` or `unreachable`. */
  readonly provider: string;
  readonly since: string;
  readonly lastError: string | null;
}

export interface Identity {
  readonly gate: AccessGate;
  readonly settings: IdentitySettings;
  /** The built-in provider's pages and endpoints on the sign-in host; null with an outside provider. */
  readonly rawHandler: RawHandler | null;
  status(): IdentityStatus;
  /** Stops discovery retries, the built-in provider, and saves the signed-out sessions list. */
  close(): Promise<void>;
}

export async function createIdentity(settings: IdentitySettings, secret: RootSecret, options: IdentityOptions): Promise<Identity> {
  const logger = options.logger.child({ mod: 'auth' });
  const secrets = await loadSecrets(secret, settings.dataDir);
  const now = options.now ?? Date.now;
  // Used handoffs and sign-in failure counters outlive a restart (state/).
  const state = openFileState({ dir: join(settings.dataDir, 'state'), now, onError: (error) => logger.error({ err: error }, error.message) });
  const provider = await connectProvider(settings, options.logger, state);
  let oidc: OidcClient;
  try {
    oidc = createOidcClient({ ...provider.client, logger, ...(options.retry ? { retry: options.retry } : {}) });
  } catch (error) {
    await provider.close();
    throw error;
  }
  const revocation = openRevocationList({
    dataDir: settings.dataDir,
    ...(options.now ? { now: options.now } : {}),
    onError: (error) => logger.error({ err: error }, error.message),
  });
  // Provider session links die with the built-in provider's sessions, which live in memory.
  const links = openMemoryState({ now }).map('provider-sessions', { maxEntries: 100_000, parse: parseProviderLink });
  const userSessions = openUserSessions({
    sessions: state.map('user-sessions', { maxEntries: 100_000, parse: parseSessionInfo }),
    cuts: state.map('signed-out-everywhere', { maxEntries: 100_000, parse: parseCut }),
    sessionTtlMs: settings.sessionTtlMs,
    now,
  });
  const appPasswords = openAppPasswords({ store: state.map('app-passwords', { maxEntries: 100_000, parse: parseAppPasswordRecord }), now });
  const accounts = provider.accounts;
  const services: IdentityServices = {
    settings,
    secrets,
    signer: createAssertionSigner({ privateKey: secrets.signing.privateKey, publicJwk: secrets.signing.publicJwk, issuer: settings.authUrl, now }),
    oidc,
    revocation,
    frontDoor: frontDoor(settings.authUrl, options.httpsPublicPort ?? null),
    usedHandoffs: state.map('used-handoffs', { maxEntries: 100_000, parse: parseUsedHandoff }),
    providerSessions: createProviderSessions(provider.endSession, links),
    userSessions,
    credentials: {
      appPasswords,
      throttle: createCredentialThrottle({ store: state.map('credential-failures', { maxEntries: 100_000, parse: parseFailureCount }), now }),
      bearerJwt: createBearerJwtVerifier({
        issuer: provider.client.issuer,
        audiences: settings.bearerAudiences ?? [provider.client.clientId],
        groupsClaim: provider.client.groupsClaim,
        ...(provider.client.fetch === undefined ? {} : { fetch: provider.client.fetch as (url: string, init: RequestInit) => Promise<Response> }),
        now,
      }),
      builtinUser: accounts === null ? null : (username) => accounts.identity(username),
      logger,
    },
    logger,
    now,
  };
  oidc.start();
  const { issuer, clientId } = provider.client;
  logger.info(
    { authUrl: settings.authUrl, provider: provider.kind, issuer, clientId, secretSource: secrets.secretSource, signingKey: secrets.signing.publicJwk.kid },
    'sign-in enabled',
  );
  const account = createAccountHandler({ ...services, appPasswords, accounts });
  return {
    gate: createIdentityGate(services),
    settings,
    rawHandler: combineRawHandlers(account, provider.rawHandler),
    status() {
      const status = oidc.status();
      return { authUrl: settings.authUrl, kind: provider.kind, issuer, provider: status.state, since: new Date(status.since).toISOString(), lastError: status.lastError };
    },
    async close() {
      oidc.stop();
      await Promise.all([revocation.close(), provider.close()]);
      await state.close();
    },
  };
}

/**
 * The self-service page and the built-in provider, both on the sign-in host: the proxy asks
 * `handles` (host and path) before `handle`, and their paths never overlap, so `handle` tells
 * them apart by path alone.
 */
function combineRawHandlers(account: RawHandler & { ownsPath(path: string): boolean }, provider: RawHandler | null): RawHandler {
  if (provider === null) return account;
  return {
    handles: (host, path) => account.handles(host, path) || provider.handles(host, path),
    handle: (req, res, clientIp) => (account.ownsPath((req.url ?? '/').split('?')[0]!) ? account : provider).handle(req, res, clientIp),
  };
}
