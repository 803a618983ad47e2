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

/** Sign-in at an outside OpenID Provider (Keycloak, Authentik, Google, Entra ID, …). */
export interface OutsideProviderSignIn {
  readonly kind: 'oidc';
  /** The method's name in `provider:` entries and the `providers` key; lowercase. */
  readonly name: string;
  /** What the chooser page shows. */
  readonly label: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly scopes: string;
  /** Where the groups are: a claim name or a dotted path. */
  readonly groupsClaim: string;
  /** False: the provider's email is used whether or not it marks it verified. */
  readonly emailVerifiedRequired: boolean;
  /** `amr` values that mean a second factor. */
  readonly mfaAmr: readonly string[];
  /** `acr` values that mean a second factor; sent as `acr_values` when stepping up. */
  readonly mfaAcr: readonly string[];
  /** Plain http to the provider is accepted only on this machine (tests, a local provider). */
  readonly allowHttpIssuer: boolean;
  /** The callback path on the sign-in host registered at this provider. */
  readonly callbackPath: string;
}

/** Sign-in at Gatehouse's own provider, with users from the users file; always named `local`. */
export interface BuiltinProviderSignIn {
  readonly kind: 'builtin';
  readonly name: 'local';
  readonly label: string;
  /** The users file as given; undefined means `<dataDir>/users.yml`. */
  readonly usersFile: string | undefined;
}

export type SignInMethodSettings = OutsideProviderSignIn | BuiltinProviderSignIn;

export interface IdentitySettings extends CommonSignInSettings {
  /** At least one; the order the chooser lists them in. */
  readonly methods: readonly SignInMethodSettings[];
}

/** The root secret as the operator gave it, and what to call it in error messages (never the value). */
export interface RootSecret {
  readonly value: string | undefined;
  readonly name: string;
}
