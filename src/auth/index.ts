import type { BuiltinProviderSignIn, IdentitySettings, RootSecret } from './options.ts';
import { NO_AUDIT, type AuditSink, type Logger } from '../observability/index.ts';
import type { RawHandler } from '../http/index.ts';
import { createAssertionSigner } from './assertion.ts';
import type { IdentityServices } from './context.ts';
import { createIdentityGate, type AccessGate } from './gate.ts';
import { loadSecrets } from './keys.ts';
import { connectMethods } from './methods.ts';
import type { RetryOptions } from './oidc-discovery.ts';
import { createProviderSecretFiles, PROVIDER_SECRET_FILES } from './provider.ts';
import { join } from 'node:path';
import { openFileState, openMemoryState, openSharedState, type RedisStatus, type SharedState } from '../state/index.ts';
import { parseUsedHandoff } from './handoff.ts';
import { frontDoor } from './origins.ts';
import { createProviderSessions, parseProviderLink } from './provider-sessions.ts';
import { openRevocationList, parseRevocation, sharedRevocationList } from './revocation.ts';
import { openAppPasswords, parseAppPasswordRecord } from './app-passwords.ts';
import { bearerVerifierByIssuer, createBearerJwtVerifier } from './bearer-jwt.ts';
import { createCredentialThrottle, parseFailureCount } from './credential-throttle.ts';
import { createAccountHandler } from './account/handler.ts';
import { openUserSessions, parseCut, parseSessionInfo } from './user-sessions.ts';
import { appsProviderHandler, withAppsProvider } from './apps-provider.ts';
import type { RouteTable } from '../routes/index.ts';
import type { SecretReader } from '../util/secrets.ts';

/**
 * Sign-in for Gatehouse: who is calling (OpenID Connect, sessions, handoff to each route
 * host), whether the route lets them in (policy), and what the upstream learns about them
 * (identity headers and a signed JWT).
 */

export { createIdentityGate, type AccessGate, type Caller } from './gate.ts';
export type { IdentityContext, IdentityServices } from './context.ts';
export type { BuiltinProviderSignIn, IdentitySettings, OutsideProviderSignIn, RootSecret, SignInMethodSettings } from './options.ts';

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
  /** Several replicas: the state they share lives in this Redis (GATEHOUSE_REDIS_URL); the data dir otherwise. */
  redisUrl?: string;
  /** The audit stream: sign-ins, failures, locks and sign-outs. */
  audit?: AuditSink;
  /** The published route table, for the OpenID provider for apps (clients declared in labels); without it, no such provider. */
  currentTable?: () => RouteTable;
  /** Where `secret:NAME` client secrets are read. */
  readSecret?: SecretReader;
}

export interface IdentityStatus {
  readonly authUrl: string;
  /** The first method's: `builtin` when Gatehouse signs users in itself, `oidc` for an outside provider. */
  readonly kind: 'oidc' | 'builtin';
  readonly issuer: string;
  /** `discovering`, `ready` or `unreachable`. */
  readonly provider: string;
  readonly since: string;
  readonly lastError: string | null;
  /** Redis, when several replicas share it: while `unreachable`, new sign-ins are refused. */
  readonly sharedState?: { readonly state: RedisStatus['state']; readonly since: string; readonly lastError: string | null };
  /** Every sign-in method, in the chooser's order. */
  readonly methods: readonly MethodStatus[];
}

export interface MethodStatus {
  readonly name: string;
  readonly kind: 'oidc' | 'builtin';
  readonly issuer: string;
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
  const now = options.now ?? Date.now;
  const shared = options.redisUrl === undefined ? null : await openShared(options.redisUrl, settings, secret, logger, now);
  try {
    return await assemble(settings, secret, options, logger, shared);
  } catch (error) {
    await shared?.close();
    throw error;
  }
}

/** Redis for several replicas: connected, and the secret files made once for all of them. */
async function openShared(url: string, settings: IdentitySettings, secret: RootSecret, logger: Logger, now: () => number): Promise<SharedState> {
  const shared = await openSharedState({
    url,
    now,
    onError: (error) => logger.error({ err: error }, error.message),
    onStatus: (status) =>
      status.state === 'ready'
        ? logger.info({ sharedState: status.state }, 'shared state: Redis reachable; sign-in open')
        : logger.error({ sharedState: status.state, error: status.lastError }, 'shared state: Redis unreachable; new sign-ins refused, signed-in users checked against the last revocations seen'),
  });
  try {
    const files = [...(secret.value === undefined ? ['secret'] : []), 'signing-key.pem', ...(builtinMethod(settings) === undefined ? [] : PROVIDER_SECRET_FILES)];
    const { taken } = await shared.shareFiles(settings.dataDir, files, async () => {
      await loadSecrets(secret, settings.dataDir);
      await createProviderSecretFiles(settings);
    });
    if (taken.length > 0) logger.info({ files: taken }, 'shared state: took the secret files another replica stored first');
    if (builtinMethod(settings) !== undefined && builtinMethod(settings)?.usersFile === undefined) {
      logger.warn('GATEHOUSE_REDIS_URL is set but GATEHOUSE_USERS_FILE is not: each replica reads the users file of its own data dir; point every replica at one shared file (README, "More than one machine")');
    }
    return shared;
  } catch (error) {
    await shared.close();
    throw error;
  }
}

function builtinMethod(settings: IdentitySettings): BuiltinProviderSignIn | undefined {
  return settings.methods.find((method): method is BuiltinProviderSignIn => method.kind === 'builtin');
}

async function assemble(settings: IdentitySettings, secret: RootSecret, options: IdentityOptions, logger: Logger, shared: SharedState | null): Promise<Identity> {
  const secrets = await loadSecrets(secret, settings.dataDir);
  const now = options.now ?? Date.now;
  const onError = (error: Error) => logger.error({ err: error }, error.message);
  // Used handoffs and sign-in failure counters outlive a restart (state/): in the data dir, or in Redis for every replica.
  const state = shared ?? openFileState({ dir: join(settings.dataDir, 'state'), now, onError });
  const audit = options.audit ?? NO_AUDIT;
  const methods = await connectMethods(settings, {
    logger: options.logger,
    state,
    audit,
    ...(shared === null ? {} : { sharedDocuments: shared.documents }),
    ...(options.retry ? { retry: options.retry } : {}),
  });
  const revocation =
    shared === null
      ? openRevocationList({ dataDir: settings.dataDir, ...(options.now ? { now: options.now } : {}), onError })
      : sharedRevocationList(shared.map('revocations', { maxEntries: 1_000_000, parse: parseRevocation }), now);
  // Provider session links die with the built-in provider's sessions: in memory, or in Redis with them.
  const links = (shared ?? openMemoryState({ now })).map('provider-sessions', { maxEntries: 100_000, parse: parseProviderLink });
  const usedHandoffs = state.map('used-handoffs', { maxEntries: 100_000, parse: parseUsedHandoff });
  const userSessions = openUserSessions({
    sessions: state.map('user-sessions', { maxEntries: 100_000, parse: parseSessionInfo }),
    cuts: state.map('signed-out-everywhere', { maxEntries: 100_000, parse: parseCut }),
    sessionTtlMs: settings.sessionTtlMs,
    now,
  });
  const appPasswords = openAppPasswords({ store: state.map('app-passwords', { maxEntries: 100_000, parse: parseAppPasswordRecord }), now });
  const accounts = methods.accounts;
  // Every shared map is open: load them before the first request.
  await shared?.resync();
  const services: IdentityServices = {
    settings,
    secrets,
    signer: createAssertionSigner({ privateKey: secrets.signing.privateKey, publicJwk: secrets.signing.publicJwk, issuer: settings.authUrl, now }),
    methods,
    revocation,
    frontDoor: frontDoor(settings.authUrl, options.httpsPublicPort ?? null),
    usedHandoffs,
    providerSessions: createProviderSessions(methods.endSession, links),
    userSessions,
    credentials: {
      appPasswords,
      throttle: createCredentialThrottle({ store: state.map('credential-failures', { maxEntries: 100_000, parse: parseFailureCount }), now }),
      bearerJwt: bearerVerifierByIssuer(
        methods.list.map((method) =>
          createBearerJwtVerifier({
            issuer: method.issuer,
            audiences: settings.bearerAudiences ?? [method.clientId],
            groupsClaim: method.groupsClaim,
            ...(method.fetch === undefined ? {} : { fetch: method.fetch }),
            now,
          }),
        ),
      ),
      builtinUser: accounts === null ? null : (username) => accounts.identity(username),
      logger,
    },
    logger,
    now,
    ...(shared === null ? {} : { sharedStateAvailable: () => shared.available() }),
    audit,
  };
  methods.start();
  const first = methods.list[0] as (typeof methods.list)[number];
  logger.info(
    {
      authUrl: settings.authUrl,
      // The first method's, as with a single provider; every method is listed below.
      provider: first.kind,
      issuer: first.issuer,
      clientId: first.clientId,
      methods: methods.list.map((method) => ({ name: method.name, provider: method.kind, issuer: method.issuer, clientId: method.clientId, callback: method.callbackPath })),
      secretSource: secrets.secretSource,
      signingKey: secrets.signing.publicJwk.kid,
    },
    'sign-in enabled',
  );
  const methodStatus = (): MethodStatus[] =>
    methods.list.map((method) => {
      const status = method.oidc.status();
      return { name: method.name, kind: method.kind, issuer: method.issuer, provider: status.state, since: new Date(status.since).toISOString(), lastError: status.lastError };
    });
  const account = createAccountHandler({ ...services, appPasswords, accounts });
  return {
    gate: createIdentityGate(services),
    settings,
    rawHandler:
      options.currentTable === undefined
        ? combineRawHandlers(account, methods.rawHandler)
        : withAppsProvider(combineRawHandlers(account, methods.rawHandler), appsProviderHandler(services, { currentTable: options.currentTable, readSecret: options.readSecret ?? (() => null) }), settings.authHost),
    status() {
      const all = methodStatus();
      const first = all[0] as MethodStatus;
      const sharedStatus = shared?.status();
      return {
        authUrl: settings.authUrl,
        kind: first.kind,
        issuer: first.issuer,
        provider: first.provider,
        since: first.since,
        lastError: first.lastError,
        methods: all,
        ...(sharedStatus === undefined ? {} : { sharedState: { state: sharedStatus.state, since: new Date(sharedStatus.since).toISOString(), lastError: sharedStatus.lastError } }),
      };
    },
    async close() {
      methods.stop();
      await Promise.all([revocation.close(), methods.close()]);
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
