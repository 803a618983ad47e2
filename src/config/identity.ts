import { GatehouseError } from '../errors.ts';
import { parsePolicyList } from '../labels/index.ts';
import type { PolicyEntry } from '../routes/index.ts';
import type { AppConfig } from './load.ts';
import { BUILTIN_METHOD_NAME, checkDraft, DEFAULT_MFA_AMR, indexedDrafts, isLoopbackHost, MAX_METHODS, providersFileDrafts, SINGLE_PROVIDER_NAME, type SignInMethod } from './providers.ts';
import { readFileSync } from 'node:fs';

/**
 * The sign-in settings, checked together: each variable is valid on its own (schema.ts), but
 * sign-in only works when they agree. Every problem is reported at once, naming the variable.
 * GATEHOUSE_AUTH_URL alone turns on the built-in sign-in; outside providers (GATEHOUSE_OIDC_*,
 * GATEHOUSE_OIDC_<NAME>_*, GATEHOUSE_PROVIDERS_FILE) replace it, unless the built-in users are
 * asked for as well (GATEHOUSE_USERS_FILE, or a `type: builtin` entry in the providers file).
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

/**
 * The sign-in methods, in the order the chooser lists them: the built-in users first when on,
 * then the single-provider variables' `oidc`, the indexed providers and the providers file.
 */
export interface IdentitySettings extends CommonIdentitySettings {
  readonly methods: readonly SignInMethod[];
}

export type { BuiltinMethod as BuiltinProviderSettings, OutsideMethod as OutsideProviderSettings, SignInMethod } from './providers.ts';

/** Any of these names an outside provider. */
const OUTSIDE_PROVIDER_VARIABLES = ['GATEHOUSE_OIDC_ISSUER', 'GATEHOUSE_OIDC_CLIENT_ID', 'GATEHOUSE_OIDC_CLIENT_SECRET'] as const;
const MIN_SESSION_TTL_MS = 1_000;

/** Null when sign-in is not configured at all (neither GATEHOUSE_AUTH_URL nor a provider is set). */
export function readIdentitySettings(config: AppConfig, readFile: (path: string) => string = readUtf8): IdentitySettings | null {
  const outside = OUTSIDE_PROVIDER_VARIABLES.filter((name) => config[name] !== undefined);
  const indexed = indexedDrafts(config.providerVariables ?? {});
  const providersFile = config.GATEHOUSE_PROVIDERS_FILE;
  const usersFile = config.GATEHOUSE_USERS_FILE;
  const anyOutside = outside.length > 0 || indexed.length > 0 || providersFile !== undefined;
  if (!anyOutside && config.GATEHOUSE_AUTH_URL === undefined) {
    if (usersFile === undefined) return null;
    throw new GatehouseError(
      'CONFIG_INVALID',
      'invalid sign-in configuration:\n  GATEHOUSE_USERS_FILE is set, but the built-in sign-in also needs GATEHOUSE_AUTH_URL ' +
        '(the sign-in address, e.g. https://auth.example.com, or http://auth.localhost:8080 on this machine)',
    );
  }

  const problems: string[] = [];
  if (anyOutside && outside.length === 0 && config.GATEHOUSE_AUTH_URL === undefined) {
    const set = [...indexed.map((draft) => draft.where), ...(providersFile === undefined ? [] : ['GATEHOUSE_PROVIDERS_FILE'])];
    problems.push(
      `${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set, but sign-in also needs GATEHOUSE_AUTH_URL ` +
        '(the sign-in address, e.g. https://auth.example.com, registered at each provider with its callback path)',
    );
  }
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

  const methods: SignInMethod[] = [];
  // The single-provider variables keep their own messages (and their callback, /oauth2/callback).
  if (outside.length > 0 && config.GATEHOUSE_OIDC_ISSUER !== undefined && config.GATEHOUSE_OIDC_CLIENT_ID !== undefined) {
    const issuer = new URL(config.GATEHOUSE_OIDC_ISSUER);
    const allowHttpIssuer = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname);
    if (issuer.protocol === 'http:' && !allowHttpIssuer) {
      problems.push(
        `GATEHOUSE_OIDC_ISSUER="${config.GATEHOUSE_OIDC_ISSUER}": identity providers must be reached over https:// ` +
          '(plain http is only accepted for a provider on this machine)',
      );
    }
    if (!config.GATEHOUSE_OIDC_SCOPES.split(/\s+/).includes('openid')) {
      problems.push(`GATEHOUSE_OIDC_SCOPES="${config.GATEHOUSE_OIDC_SCOPES}": must include "openid", e.g. "openid email profile"`);
    }
    methods.push(
      Object.freeze({
        kind: 'oidc',
        name: SINGLE_PROVIDER_NAME,
        label: 'Single sign-on',
        issuer: config.GATEHOUSE_OIDC_ISSUER,
        clientId: config.GATEHOUSE_OIDC_CLIENT_ID,
        clientSecret: config.GATEHOUSE_OIDC_CLIENT_SECRET,
        scopes: config.GATEHOUSE_OIDC_SCOPES,
        groupsClaim: config.GATEHOUSE_GROUPS_CLAIM,
        emailVerifiedRequired: true,
        mfaAmr: DEFAULT_MFA_AMR,
        mfaAcr: Object.freeze([]),
        allowHttpIssuer,
        callbackPath: '/oauth2/callback',
      }),
    );
  }
  const defaults = { scopes: config.GATEHOUSE_OIDC_SCOPES, groupsClaim: config.GATEHOUSE_GROUPS_CLAIM };
  for (const draft of indexed) {
    const method = checkDraft(draft, defaults, problems);
    if (method !== null) methods.push(method);
  }
  let builtinLabel: string | undefined;
  let builtinInFile = false;
  if (providersFile !== undefined) {
    let text: string | null = null;
    try {
      text = readFile(providersFile);
    } catch (error) {
      problems.push(`GATEHOUSE_PROVIDERS_FILE="${providersFile}": cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    if (text !== null) {
      const fromFile = providersFileDrafts(providersFile, text, readFile);
      problems.push(...fromFile.problems);
      if (fromFile.builtin !== null) {
        builtinInFile = true;
        builtinLabel = fromFile.builtin.label;
      }
      for (const draft of fromFile.drafts) {
        const method = checkDraft(draft, defaults, problems);
        if (method !== null) methods.push(method);
      }
    }
  }
  const seen = new Set<string>();
  for (const method of methods) {
    if (seen.has(method.name)) problems.push(`the provider name "${method.name}" is used twice (variables and providers file): each sign-in method needs its own name`);
    seen.add(method.name);
  }
  // Without any outside provider the built-in users are the sign-in; with one, only when asked for.
  if (!anyOutside || usersFile !== undefined || builtinInFile) {
    methods.unshift(Object.freeze({ kind: 'builtin', name: BUILTIN_METHOD_NAME, label: builtinLabel ?? 'Local account', usersFile }));
  }
  if (methods.length > MAX_METHODS) problems.push(`${methods.length} sign-in methods are configured; at most ${MAX_METHODS} are supported`);

  const defaultAllow = parsePolicyList(config.GATEHOUSE_DEFAULT_ALLOW);
  if (!defaultAllow.ok) problems.push(`GATEHOUSE_DEFAULT_ALLOW="${config.GATEHOUSE_DEFAULT_ALLOW}": ${defaultAllow.problem}`);

  if (config.GATEHOUSE_SESSION_TTL < MIN_SESSION_TTL_MS) {
    problems.push(`GATEHOUSE_SESSION_TTL: a session must last at least 1s (the default is 14h)`);
  }

  if (problems.length > 0 || authUrl === null || !defaultAllow.ok) {
    throw new GatehouseError('CONFIG_INVALID', `invalid sign-in configuration:\n  ${problems.join('\n  ')}`);
  }
  return Object.freeze({
    authUrl: authUrl.origin,
    authHost: authUrl.hostname.toLowerCase().replace(/\.$/, ''),
    authSecure: authUrl.protocol === 'https:',
    sessionTtlMs: config.GATEHOUSE_SESSION_TTL,
    defaultAllow: Object.freeze(defaultAllow.value),
    dataDir: config.GATEHOUSE_DATA_DIR,
    ...bearerAudiences(config.GATEHOUSE_BEARER_AUDIENCES),
    methods: Object.freeze(methods),
  });
}

function bearerAudiences(value: string | undefined): { bearerAudiences?: readonly string[] } {
  const list = (value ?? '').split(/[\s,]+/).filter((item) => item !== '');
  return list.length === 0 ? {} : { bearerAudiences: Object.freeze(list) };
}

function readUtf8(path: string): string {
  return readFileSync(path, 'utf8');
}
