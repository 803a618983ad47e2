import type { IdentitySettings } from './options.ts';
import type { AuditSink, Logger } from '../observability/index.ts';
import type { RawHandler } from '../http/index.ts';
import type { StateStore } from '../state/index.ts';
import type { OidcClientOptions } from './oidc.ts';
import type { EndProviderSession } from './provider-sessions.ts';

/**
 * The identity provider Gatehouse signs users in at: an outside one, reached as configured, or
 * the built-in one, started here and served on the sign-in host. Either way the same OpenID
 * client talks to it; the built-in provider only adds a loopback `fetch` for the client's
 * back-channel requests and a raw handler for the browser's requests under `/idp`.
 */
export interface ConnectedProvider {
  readonly kind: 'oidc' | 'builtin';
  readonly client: Omit<OidcClientOptions, 'logger' | 'retry' | 'timeoutMs'>;
  readonly rawHandler: RawHandler | null;
  /** Ends a provider session on the server (built-in provider); null for outside providers. */
  readonly endSession: EndProviderSession | null;
  close(): Promise<void>;
}

export async function connectProvider(settings: IdentitySettings, logger: Logger, state: StateStore, audit?: AuditSink): Promise<ConnectedProvider> {
  const redirectUri = `${settings.authUrl}/oauth2/callback`;
  if (settings.provider === 'oidc') {
    return {
      kind: 'oidc',
      client: {
        issuer: settings.issuer,
        clientId: settings.clientId,
        ...(settings.clientSecret === undefined ? {} : { clientSecret: settings.clientSecret }),
        redirectUri,
        scopes: settings.scopes,
        groupsClaim: settings.groupsClaim,
        allowHttp: settings.allowHttpIssuer,
      },
      rawHandler: null,
      endSession: null,
      close: async () => undefined,
    };
  }
  // Loaded only when used: oidc-provider and its dependencies weigh ~45 MB.
  const { createBuiltinProvider, usersFilePath } = await import('../idp/index.ts');
  const idp = await createBuiltinProvider({
    authUrl: settings.authUrl,
    dataDir: settings.dataDir,
    usersFile: usersFilePath(settings.usersFile, settings.dataDir),
    logger: logger.child({ mod: 'idp' }),
    sessionTtlMs: settings.sessionTtlMs,
    state,
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
    close: () => idp.close(),
  };
}
