import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ClientMetadata } from 'oidc-provider';
import type { Route } from '../routes/index.ts';
import { readOrCreateSecretFile } from '../util/data-files.ts';
import type { SecretReader } from '../util/secrets.ts';

/**
 * The clients of the provider for apps, as oidc-provider sees them: built on demand from the
 * route that declared the client in the table generation of the request in progress, so a
 * client exists exactly while its container is published, and changes with its labels.
 *
 * Secrets: `secret:NAME` reads the label secret NAME; without it, a random secret is made on
 * first use and kept in `<dataDir>/apps-idp/clients/<client id>.secret` (0600), so it survives
 * restarts and the container being recreated; `gatehouse oidc clients` shows it.
 */

export interface AppClientSecrets {
  /** The secret of a client, or null when its `secret:NAME` cannot be read (the client is then refused). */
  secretOf(route: Route): string | null;
}

export function appClientsDir(dataDir: string): string {
  return join(dataDir, 'apps-idp', 'clients');
}

export function createAppClientSecrets(options: { dataDir: string; readSecret: SecretReader }): AppClientSecrets {
  const dir = appClientsDir(options.dataDir);
  return {
    secretOf(route) {
      const { clientId, secret } = route.oidc;
      if (clientId === null) return null;
      if (secret !== null) {
        const value = options.readSecret(secret);
        return value === null || value.trim() === '' ? null : value.trim();
      }
      // The client id grammar (labels/oidc-client.ts) makes it a plain file name.
      return readOrCreateSecretFile(join(dir, `${clientId}.secret`), () => `${randomBytes(32).toString('base64url')}\n`).trim();
    },
  };
}

/** oidc-provider metadata for the route's client: code flow only, PKCE enforced by the provider. */
export function clientMetadata(route: Route, secret: string): ClientMetadata {
  return {
    client_id: route.oidc.clientId as string,
    client_secret: secret,
    client_name: route.display.name,
    redirect_uris: [...route.oidc.redirectUris],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  };
}
