import { GatehouseError } from '../errors.ts';
import { parsePolicyList } from '../labels/index.ts';
import type { PolicyEntry } from '../routes/index.ts';
import type { AppConfig } from './load.ts';

/**
 * The sign-in settings, checked together: each variable is valid on its own (schema.ts), but
 * sign-in only works when they agree. Every problem is reported at once, naming the variable.
 * GATEHOUSE_AUTH_URL alone turns on the built-in sign-in; adding GATEHOUSE_OIDC_ISSUER and a
 * client id signs users in at that provider instead.
 */
interface CommonIdentitySettings {
  /** GATEHOUSE_AUTH_URL as an origin without trailing slash, e.g. `https://auth.example.com`. */
  readonly authUrl: string;
  /** The sign-in host: lowercase, without port. */
  readonly authHost: string;
  readonly authSecure: boolean;
  readonly sessionTtlMs: number;
  readonly defaultAllow: readonly PolicyEntry[];
  readonly dataDir: string;
  /** GATEHOUSE_BEARER_AUDIENCES: audiences a bearer JWT may name; unset: the client id. */
  readonly bearerAudiences?: readonly string[];
}

/** Sign-in at an outside OpenID Provider (Keycloak, Authentik, Google, …). */
export interface OutsideProviderSettings extends CommonIdentitySettings {
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
export interface BuiltinProviderSettings extends CommonIdentitySettings {
  readonly provider: 'builtin';
  /** GATEHOUSE_USERS_FILE as given; unset means `<data dir>/users.yml`. */
  readonly usersFile: string | undefined;
}

export type IdentitySettings = OutsideProviderSettings | BuiltinProviderSettings;

/** Any of these names an outside provider. */
const OUTSIDE_PROVIDER_VARIABLES = ['GATEHOUSE_OIDC_ISSUER', 'GATEHOUSE_OIDC_CLIENT_ID', 'GATEHOUSE_OIDC_CLIENT_SECRET'] as const;
const MIN_SESSION_TTL_MS = 1_000;

/** Null when sign-in is not configured at all (neither GATEHOUSE_AUTH_URL nor a provider is set). */
export function readIdentitySettings(config: AppConfig): IdentitySettings | null {
  const outside = OUTSIDE_PROVIDER_VARIABLES.filter((name) => config[name] !== undefined);
  const usersFile = config.GATEHOUSE_USERS_FILE;
  if (outside.length === 0 && config.GATEHOUSE_AUTH_URL === undefined) {
    if (usersFile === undefined) return null;
    throw new GatehouseError(
      'CONFIG_INVALID',
      'invalid sign-in configuration:\n  GATEHOUSE_USERS_FILE is set, but the built-in sign-in also needs GATEHOUSE_AUTH_URL ' +
        '(the sign-in address, e.g. https://auth.example.com, or http://auth.localhost:8080 on this machine)',
    );
  }

  const problems: string[] = [];
  if (outside.length > 0) {
    const set = [...(config.GATEHOUSE_AUTH_URL === undefined ? [] : ['GATEHOUSE_AUTH_URL']), ...outside];
    const missing = (['GATEHOUSE_AUTH_URL', 'GATEHOUSE_OIDC_ISSUER', 'GATEHOUSE_OIDC_CLIENT_ID'] as const).filter((name) => config[name] === undefined);
    if (missing.length > 0) {
      problems.push(
        `${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set, but sign-in also needs ${missing.join(', ')} ` +
          '(GATEHOUSE_AUTH_URL is the sign-in address, e.g. https://auth.example.com; the issuer and client id come from your identity provider; ' +
          'leave GATEHOUSE_OIDC_* unset to use the built-in sign-in)',
      );
    }
    if (usersFile !== undefined) {
      problems.push(
        `GATEHOUSE_USERS_FILE is set, but users sign in at the provider in ${outside.join(', ')}: ` +
          'the users file is only read by the built-in sign-in; unset one or the other',
      );
    }
  }

  let authUrl: URL | null = null;
  if (config.GATEHOUSE_AUTH_URL !== undefined) {
    authUrl = new URL(config.GATEHOUSE_AUTH_URL);
    if (authUrl.pathname !== '/' || authUrl.search !== '' || authUrl.hash !== '' || authUrl.username !== '' || authUrl.password !== '') {
      problems.push(
        `GATEHOUSE_AUTH_URL="${config.GATEHOUSE_AUTH_URL}": expected only a scheme and host (and port), e.g. https://auth.example.com; ` +
          'the sign-in endpoints live at fixed paths below it',
      );
    }
  }

  let allowHttpIssuer = false;
  if (config.GATEHOUSE_OIDC_ISSUER !== undefined) {
    const issuer = new URL(config.GATEHOUSE_OIDC_ISSUER);
    allowHttpIssuer = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname);
    if (issuer.protocol === 'http:' && !allowHttpIssuer) {
      problems.push(
        `GATEHOUSE_OIDC_ISSUER="${config.GATEHOUSE_OIDC_ISSUER}": identity providers must be reached over https:// ` +
          '(plain http is only accepted for a provider on this machine)',
      );
    }
  }

  const defaultAllow = parsePolicyList(config.GATEHOUSE_DEFAULT_ALLOW);
  if (!defaultAllow.ok) problems.push(`GATEHOUSE_DEFAULT_ALLOW="${config.GATEHOUSE_DEFAULT_ALLOW}": ${defaultAllow.problem}`);

  if (config.GATEHOUSE_SESSION_TTL < MIN_SESSION_TTL_MS) {
    problems.push(`GATEHOUSE_SESSION_TTL: a session must last at least 1s (the default is 14h)`);
  }
  if (outside.length > 0 && !config.GATEHOUSE_OIDC_SCOPES.split(/\s+/).includes('openid')) {
    problems.push(`GATEHOUSE_OIDC_SCOPES="${config.GATEHOUSE_OIDC_SCOPES}": must include "openid", e.g. "openid email profile"`);
  }

  if (problems.length > 0 || authUrl === null || !defaultAllow.ok) {
    throw new GatehouseError('CONFIG_INVALID', `invalid sign-in configuration:\n  ${problems.join('\n  ')}`);
  }
  const common: CommonIdentitySettings = {
    authUrl: authUrl.origin,
    authHost: authUrl.hostname.toLowerCase().replace(/\.$/, ''),
    authSecure: authUrl.protocol === 'https:',
    sessionTtlMs: config.GATEHOUSE_SESSION_TTL,
    defaultAllow: Object.freeze(defaultAllow.value),
    dataDir: config.GATEHOUSE_DATA_DIR,
    ...bearerAudiences(config.GATEHOUSE_BEARER_AUDIENCES),
  };
  if (outside.length === 0) return Object.freeze({ ...common, provider: 'builtin', usersFile });
  return Object.freeze({
    ...common,
    provider: 'oidc',
    issuer: config.GATEHOUSE_OIDC_ISSUER as string,
    clientId: config.GATEHOUSE_OIDC_CLIENT_ID as string,
    clientSecret: config.GATEHOUSE_OIDC_CLIENT_SECRET,
    scopes: config.GATEHOUSE_OIDC_SCOPES,
    groupsClaim: config.GATEHOUSE_GROUPS_CLAIM,
    allowHttpIssuer,
  });
}

function bearerAudiences(value: string | undefined): { bearerAudiences?: readonly string[] } {
  const list = (value ?? '').split(/[\s,]+/).filter((item) => item !== '');
  return list.length === 0 ? {} : { bearerAudiences: Object.freeze(list) };
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || /^127(?:\.\d{1,3}){3}$/.test(host) || host === '[::1]';
}
