import type { PolicyEntry } from '../routes/index.ts';

/**
 * What sign-in is set up with: auth's own options. main.ts fills them from the validated
 * configuration; nothing in auth/ knows environment variable names.
 */
interface CommonSignInSettings {
  /** The sign-in address as an origin without trailing slash, e.g. `https://auth.example.com`. */
  readonly authUrl: string;
  /** The sign-in host: lowercase, without port. */
  readonly authHost: string;
  readonly authSecure: boolean;
  /** Absolute session lifetime. */
  readonly sessionTtlMs: number;
  /** Who may use a route that names no allow entry. */
  readonly defaultAllow: readonly PolicyEntry[];
  /** Where secrets, the signing key and state that survives a restart are kept. */
  readonly dataDir: string;
  /** Audiences a bearer JWT may be meant for (one is enough); default: the client id. */
  readonly bearerAudiences?: readonly string[];
}

/** Sign-in at an outside OpenID Provider (Keycloak, Authentik, Google, …). */
export interface OutsideProviderSignIn extends CommonSignInSettings {
  readonly provider: 'oidc';
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly scopes: string;
  readonly groupsClaim: string;
  /** Plain http to the provider is accepted only on this machine (tests, a local provider). */
  readonly allowHttpIssuer: boolean;
}

/** Sign-in at Gatehouse's own provider, with users from the users file. */
export interface BuiltinProviderSignIn extends CommonSignInSettings {
  readonly provider: 'builtin';
  /** The users file as given; undefined means `<dataDir>/users.yml`. */
  readonly usersFile: string | undefined;
}

export type IdentitySettings = OutsideProviderSignIn | BuiltinProviderSignIn;

/** The root secret as the operator gave it, and what to call it in error messages (never the value). */
export interface RootSecret {
  readonly value: string | undefined;
  readonly name: string;
}
