import * as client from 'openid-client';
import { decodeProtectedHeader } from 'jose';
import { GatehouseError } from '../errors.ts';
import type { Logger } from '../observability/index.ts';
import { toSignedInUser, type SignedInUser } from './oidc-claims.ts';
import { createRetryingDiscovery, type DiscoveryStatus, type RetryOptions } from './oidc-discovery.ts';
import { describeError, signInFailed, toSignInError, unreachableError } from './oidc-errors.ts';

export type { SignedInUser } from './oidc-claims.ts';
export type { DiscoveryStatus as OidcStatus } from './oidc-discovery.ts';

/**
 * The OpenID Connect relying party: authorization code flow with PKCE (S256), `state` and
 * `nonce` on every sign-in, RFC 9207 `iss` checks, an allow-list of asymmetric ID token
 * algorithms, and claims read from UserInfo, where real providers release email, name and
 * groups. Discovery runs in the background and is retried until it succeeds.
 */

export interface OidcClientOptions {
  issuer: string;
  clientId: string;
  /** Absent for a public client (PKCE only). */
  clientSecret?: string;
  redirectUri: string;
  scopes: string;
  groupsClaim: string;
  logger: Logger;
  /** Required when the issuer is http:// (tests, the built-in provider on localhost). */
  allowHttp?: boolean;
  retry?: RetryOptions;
  /** Per-request timeout towards the provider; capped at 30 s. */
  timeoutMs?: number;
  /** Replaces fetch for every request to the provider (the built-in provider is reached over loopback). */
  fetch?: client.CustomFetch;
}

export interface SignInStart {
  url: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface SignInExpectations {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Seconds: the `max_age` sent, so the ID token's `auth_time` must be at most this old. */
  maxAge?: number | null;
}

/** Re-authentication: asked of the provider when a route needs a fresher or stronger sign-in. */
export interface SignInRequest {
  /** `prompt=login`: authenticate again even with a session at the provider. */
  readonly reauthenticate?: boolean;
  /** `acr_values`, space-separated, e.g. the provider's MFA level. */
  readonly acrValues?: string | null;
  /** `max_age` in seconds. */
  readonly maxAge?: number | null;
}

export interface OidcClient {
  start(): void;
  /** Stops background discovery retries (shutdown, tests). */
  stop(): void;
  status(): DiscoveryStatus;
  beginSignIn(request?: SignInRequest): Promise<SignInStart>;
  finishSignIn(callbackUrl: URL, expected: SignInExpectations): Promise<SignedInUser>;
  endSessionUrl(idTokenHint: string | null, postLogoutRedirectUri: string): string | null;
}

/** RS256, PS256, ES256 and EdDSA (Ed25519 is its fully-specified name, RFC 9864). Never `none` or HS*. */
export const ID_TOKEN_ALGORITHMS: ReadonlySet<string> = new Set(['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519']);

const DEFAULT_RETRY: RetryOptions = { initialMs: 500, maxMs: 30_000 };
const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_TIMEOUT_MS = 30_000;
/** How long a sign-in waits for the discovery attempt it triggered before answering 503. */
const SIGN_IN_DISCOVERY_WAIT_MS = 2_000;

export function createOidcClient(options: OidcClientOptions): OidcClient {
  const issuer = parseUrl(options.issuer, 'GATEHOUSE_OIDC_ISSUER');
  const redirectUri = parseUrl(options.redirectUri, 'the sign-in callback URL');
  if (issuer.protocol === 'http:' && options.allowHttp !== true) {
    throw new GatehouseError('CONFIG_INVALID', `GATEHOUSE_OIDC_ISSUER is ${options.issuer}: identity providers must be reached over https:// (plain http is only allowed for a provider on this machine).`);
  }
  if (redirectUri.search !== '' || redirectUri.hash !== '') {
    throw new GatehouseError('CONFIG_INVALID', `The sign-in callback URL ${options.redirectUri} must not carry a query or fragment: the provider appends its own parameters.`);
  }
  if (!options.scopes.split(/\s+/).includes('openid')) {
    throw new GatehouseError('CONFIG_INVALID', `GATEHOUSE_OIDC_SCOPES is "${options.scopes}": it must include "openid", for example "openid email profile".`);
  }
  const timeoutSeconds = Math.min(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS) / 1000;
  const { logger, clientId } = options;
  const issuerText = options.issuer;

  const discovery = createRetryingDiscovery({
    discover: () =>
      client.discovery(issuer, clientId, { redirect_uris: [redirectUri.href], response_types: ['code'] }, clientAuthentication(options.clientSecret), {
        timeout: timeoutSeconds,
        execute: options.allowHttp === true ? [client.allowInsecureRequests] : [],
        ...(options.fetch === undefined ? {} : { [client.customFetch]: options.fetch }),
      }),
    retry: options.retry ?? DEFAULT_RETRY,
    describeError,
    onSuccess: (attempts) => logger.info({ issuer: issuerText, attempts }, 'identity provider discovered'),
    onFailure: (message, attempts, nextDelayMs) =>
      logger.warn({ issuer: issuerText, attempts, retryInMs: nextDelayMs, error: message }, 'identity provider discovery failed; retrying'),
  });

  async function configuration(step: string): Promise<client.Configuration> {
    const config = discovery.current() ?? (await discovery.retryNow(SIGN_IN_DISCOVERY_WAIT_MS));
    if (config !== null) return config;
    const reason = discovery.status().lastError ?? 'discovery still in progress';
    throw unreachableError(issuerText, step, new Error(reason), 503);
  }

  async function beginSignIn(request: SignInRequest = {}): Promise<SignInStart> {
    const config = await configuration('starting sign-in');
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const parameters: Record<string, string> = {
      redirect_uri: redirectUri.href,
      scope: options.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    };
    if (request.reauthenticate === true) parameters['prompt'] = 'login';
    if (request.acrValues) parameters['acr_values'] = request.acrValues;
    if (request.maxAge !== undefined && request.maxAge !== null) parameters['max_age'] = String(request.maxAge);
    const url = client.buildAuthorizationUrl(config, parameters);
    return { url: url.href, state, nonce, codeVerifier };
  }

  async function finishSignIn(callbackUrl: URL, expected: SignInExpectations): Promise<SignedInUser> {
    if (expected.state === '' || expected.nonce === '' || expected.codeVerifier === '') {
      throw signInFailed('this browser has no sign-in in progress');
    }
    const config = await configuration('finishing sign-in');
    // The code was issued for the registered redirect URI, whatever Host header this request carried.
    const current = new URL(redirectUri);
    current.search = callbackUrl.search;
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, current, {
        expectedState: expected.state,
        expectedNonce: expected.nonce,
        pkceCodeVerifier: expected.codeVerifier,
        idTokenExpected: true,
        ...(expected.maxAge === undefined || expected.maxAge === null ? {} : { maxAge: expected.maxAge }),
      });
    } catch (error) {
      throw toSignInError(issuerText, 'exchanging the sign-in code', error);
    }
    const idToken = tokens.id_token;
    const idClaims = tokens.claims();
    if (idToken === undefined || idClaims === undefined) throw signInFailed('the identity provider returned no ID token');
    checkIdToken(idToken, idClaims, clientId);

    let userInfo: Record<string, unknown> = {};
    if (config.serverMetadata().userinfo_endpoint !== undefined) {
      try {
        userInfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      } catch (error) {
        throw toSignInError(issuerText, 'reading the user profile (UserInfo)', error);
      }
    }
    return toSignedInUser(idClaims, userInfo, options.groupsClaim, idToken);
  }

  function endSessionUrl(idTokenHint: string | null, postLogoutRedirectUri: string): string | null {
    const config = discovery.current();
    if (config === null || config.serverMetadata().end_session_endpoint === undefined) return null;
    const parameters: Record<string, string> = { post_logout_redirect_uri: postLogoutRedirectUri };
    if (idTokenHint !== null) parameters['id_token_hint'] = idTokenHint;
    return client.buildEndSessionUrl(config, parameters).href;
  }

  return {
    start: () => discovery.start(),
    stop: () => discovery.stop(),
    status: () => discovery.status(),
    beginSignIn,
    finishSignIn,
    endSessionUrl,
  };
}

/** Uses client_secret_basic unless the provider only advertises client_secret_post. */
function clientAuthentication(secret: string | undefined): client.ClientAuth {
  if (secret === undefined) return client.None();
  const basic = client.ClientSecretBasic(secret);
  const post = client.ClientSecretPost(secret);
  return (as, metadata, body, headers) => {
    const methods = as.token_endpoint_auth_methods_supported;
    const usePost = methods !== undefined && !methods.includes('client_secret_basic') && methods.includes('client_secret_post');
    (usePost ? post : basic)(as, metadata, body, headers);
  };
}

/** openid-client verified signature, iss, aud, exp and nonce; these are Gatehouse's stricter rules on top. */
export function checkIdToken(idToken: string, claims: client.IDToken, clientId: string): void {
  const alg = decodeProtectedHeader(idToken).alg;
  if (alg === undefined || !ID_TOKEN_ALGORITHMS.has(alg)) {
    throw signInFailed(`the ID token is signed with ${alg ?? 'no algorithm'}; Gatehouse accepts ${[...ID_TOKEN_ALGORITHMS].join(', ')}`);
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (audiences.some((audience) => audience !== clientId)) {
    throw signInFailed(`the ID token is also meant for other clients (aud ${audiences.join(', ')}); expected only ${clientId}`);
  }
}

function parseUrl(value: string, what: string): URL {
  try {
    return new URL(value);
  } catch (cause) {
    throw new GatehouseError('CONFIG_INVALID', `${what} "${value}" is not a valid URL (expected e.g. https://auth.example.com).`, { cause });
  }
}
