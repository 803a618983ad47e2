import type { IdentitySettings } from '../config/identity.ts';
import type { Logger } from '../observability/logger.ts';
import type { AccessGate, RawHandler } from '../proxy/gate.ts';
import type { RouteTable } from '../routes/table.ts';
import { createAssertionSigner } from './assertion.ts';
import type { IdentityContext } from './context.ts';
import { createIdentityGate } from './gate.ts';
import { createSecretReader } from './identity-headers.ts';
import { DEFAULT_LABEL_SECRETS_DIR } from '../util/secrets.ts';
import { loadSecrets } from './keys.ts';
import { createOidcClient, type OidcClient } from './oidc.ts';
import type { RetryOptions } from './oidc-discovery.ts';
import { connectProvider } from './provider.ts';
import { openRevocationList } from './revocation.ts';

/**
 * Sign-in for Gatehouse: who is calling (OpenID Connect, sessions, handoff to each route
 * host), whether the route lets them in (policy), and what the upstream learns about them
 * (identity headers and a signed JWT).
 */

export { createIdentityGate } from './gate.ts';
export type { IdentityContext } from './context.ts';
export { readIdentitySettings, type IdentitySettings } from '../config/identity.ts';

export interface IdentityOptions {
  logger: Logger;
  /** The route table in force: known redirect hosts, cookie security per host, the portal. */
  currentTable: () => RouteTable;
  /** Where `secret:NAME` header values are read from (GATEHOUSE_LABEL_SECRETS_DIR). */
  secretsDir?: string;
  /** Gatehouse's own settings files, never readable through a label (see util/secrets.ts). */
  ownFiles?: readonly string[];
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

export async function createIdentity(settings: IdentitySettings, secret: string | undefined, options: IdentityOptions): Promise<Identity> {
  const logger = options.logger.child({ mod: 'auth' });
  const secrets = await loadSecrets({ GATEHOUSE_SECRET: secret }, settings.dataDir);
  const provider = await connectProvider(settings, options.logger);
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
  const now = options.now ?? Date.now;
  const ctx: IdentityContext = {
    settings,
    secrets,
    signer: createAssertionSigner({ privateKey: secrets.signing.privateKey, publicJwk: secrets.signing.publicJwk, issuer: settings.authUrl, now }),
    oidc,
    revocation,
    currentTable: options.currentTable,
    readSecret: createSecretReader({ dir: options.secretsDir ?? DEFAULT_LABEL_SECRETS_DIR, ownFiles: options.ownFiles ?? [] }),
    logger,
    now,
  };
  oidc.start();
  const { issuer, clientId } = provider.client;
  logger.info(
    { authUrl: settings.authUrl, provider: provider.kind, issuer, clientId, secretSource: secrets.secretSource, signingKey: secrets.signing.publicJwk.kid },
    'sign-in enabled',
  );
  return {
    gate: createIdentityGate(ctx),
    settings,
    rawHandler: provider.rawHandler,
    status() {
      const status = oidc.status();
      return { authUrl: settings.authUrl, kind: provider.kind, issuer, provider: status.state, since: new Date(status.since).toISOString(), lastError: status.lastError };
    },
    async close() {
      oidc.stop();
      await Promise.all([revocation.close(), provider.close()]);
    },
  };
}
