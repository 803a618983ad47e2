import type { BuiltinProviderSignIn, IdentitySettings } from './options.ts';
import type { AuditSink, Logger } from '../observability/index.ts';
import type { RawHandler } from '../http/index.ts';
import type { SharedDocuments, StateStore } from '../state/index.ts';
import type { OidcClientOptions } from './oidc.ts';
import type { EndProviderSession } from './provider-sessions.ts';
import type { BuiltinAccounts } from '../idp/index.ts';

/**
 * The built-in identity provider, started here and served on the sign-in host. The same OpenID
 * client talks to it as to an outside provider (methods.ts); it only adds a loopback `fetch` for
 * the client's back-channel requests and a raw handler for the browser's requests under `/idp`.
 */
export interface ConnectedProvider {
  readonly kind: 'oidc' | 'builtin';
  readonly client: Omit<OidcClientOptions, 'logger' | 'retry' | 'timeoutMs'>;
  readonly rawHandler: RawHandler | null;
  /** Ends a provider session on the server (built-in provider); null for outside providers. */
  readonly endSession: EndProviderSession | null;
  /** The built-in users' own settings (password, TOTP, passkeys) for the self-service page; null for outside providers. */
  readonly accounts: BuiltinAccounts | null;
  close(): Promise<void>;
}

export async function connectBuiltinProvider(settings: IdentitySettings, method: BuiltinProviderSignIn, logger: Logger, state: StateStore, sharedDocuments?: SharedDocuments, audit?: AuditSink): Promise<ConnectedProvider> {
  // Loaded only when used: oidc-provider and its dependencies weigh ~45 MB.
  const { createBuiltinProvider, usersFilePath } = await import('../idp/index.ts');
  const idp = await createBuiltinProvider({
    authUrl: settings.authUrl,
    dataDir: settings.dataDir,
    usersFile: usersFilePath(method.usersFile, settings.dataDir),
    logger: logger.child({ mod: 'idp' }),
    sessionTtlMs: settings.sessionTtlMs,
    state,
    ...(sharedDocuments === undefined ? {} : { sharedDocuments }),
    ...(audit ? { audit } : {}),
  });
  return {
    kind: 'builtin',
    client: {
      issuer: idp.issuer,
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      redirectUri: idp.redirectUri,
      scopes: idp.scopes,
      groupsClaim: 'groups',
      // The issuer is GATEHOUSE_AUTH_URL's own origin, reached over loopback whatever its scheme.
      allowHttp: true,
      fetch: idp.fetch,
    },
    rawHandler: { handles: idp.handles, handle: idp.handle },
    endSession: (session) => idp.endSession(session),
    accounts: idp.accounts,
    close: () => idp.close(),
  };
}

/** The built-in provider's secret files in the data dir, relative to it (empty with an outside provider). */
export const PROVIDER_SECRET_FILES = ['idp/jwks.json', 'idp/cookie-keys', 'idp/client-secret'] as const;

/** Creates the built-in provider's secret files where missing, as its start would (for sharing them first). */
export async function createProviderSecretFiles(settings: IdentitySettings): Promise<void> {
  if (!settings.methods.some((method) => method.kind === 'builtin')) return;
  const { loadProviderSecrets } = await import('../idp/index.ts');
  loadProviderSecrets(settings.dataDir);
}
