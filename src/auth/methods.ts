import type { AuditSink, Logger } from '../observability/index.ts';
import type { RawHandler } from '../http/index.ts';
import type { SharedDocuments, StateStore } from '../state/index.ts';
import type { BuiltinAccounts } from '../idp/index.ts';
import { createOidcClient, type OidcClient } from './oidc.ts';
import type { RetryOptions } from './oidc-discovery.ts';
import type { IdentitySettings, SignInMethodSettings } from './options.ts';
import { connectBuiltinProvider } from './provider.ts';
import type { EndProviderSession } from './provider-sessions.ts';

/**
 * The sign-in methods of this Gatehouse, each with its own OpenID client (its own discovery,
 * issuer and keys), its own callback path, and its own rules for reading a second factor. A
 * sign-in is bound to one method from start to finish: the flow cookie names it, the callback
 * must arrive on that method's path, and only that method's client redeems the code, so an ID
 * token from one provider is checked against that provider's issuer and keys and can never pass
 * as another's.
 */
export interface SignInMethod {
  readonly name: string;
  readonly kind: 'oidc' | 'builtin';
  readonly label: string;
  readonly oidc: OidcClient;
  readonly issuer: string;
  readonly clientId: string;
  /** The path on the sign-in host this method's provider redirects back to. */
  readonly callbackPath: string;
  readonly emailVerifiedRequired: boolean;
  readonly mfa: { readonly amr: readonly string[]; readonly acr: readonly string[] };
  /** The claim groups are read from. */
  readonly groupsClaim: string;
  /** How to reach the provider: the built-in one over loopback; undefined for outside providers. */
  readonly fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

export interface SignInMethods {
  /** In the chooser's order; never empty. */
  readonly list: readonly SignInMethod[];
  get(name: string): SignInMethod | undefined;
  /** The built-in provider's pages under `/idp`, when the built-in users are on. */
  readonly rawHandler: RawHandler | null;
  /** Ends a built-in provider session on the server; null without the built-in users. */
  readonly endSession: EndProviderSession | null;
  /** The built-in users' own settings (password, TOTP, passkeys) for the self-service page; null without them. */
  readonly accounts: BuiltinAccounts | null;
  start(): void;
  stop(): void;
  close(): Promise<void>;
}

/** What the built-in provider's sign-in counts as a second factor: TOTP (`otp`), a passkey (`hwk`), or `mfa`. */
const BUILTIN_MFA = Object.freeze({ amr: Object.freeze(['otp', 'hwk', 'mfa']), acr: Object.freeze([] as string[]) });

export async function connectMethods(
  settings: IdentitySettings,
  options: { logger: Logger; state: StateStore; audit?: AuditSink; sharedDocuments?: SharedDocuments; retry?: RetryOptions },
): Promise<SignInMethods> {
  const methods: SignInMethod[] = [];
  const closers: Array<() => Promise<void>> = [];
  let rawHandler: RawHandler | null = null;
  let endSession: EndProviderSession | null = null;
  let accounts: BuiltinAccounts | null = null;
  const closeAll = async () => {
    for (const method of methods) method.oidc.stop();
    await Promise.all(closers.map((close) => close()));
  };
  try {
    for (const method of settings.methods) methods.push(await connect(method));
  } catch (error) {
    await closeAll();
    throw error;
  }

  async function connect(method: SignInMethodSettings): Promise<SignInMethod> {
    const logger = options.logger.child({ mod: 'auth', method: method.name });
    const retry = options.retry ? { retry: options.retry } : {};
    if (method.kind === 'builtin') {
      const provider = await connectBuiltinProvider(settings, method, options.logger, options.state, options.sharedDocuments, options.audit);
      closers.push(() => provider.close());
      rawHandler = provider.rawHandler;
      endSession = provider.endSession;
      accounts = provider.accounts;
      return {
        name: method.name,
        kind: 'builtin',
        label: method.label,
        oidc: createOidcClient({ ...provider.client, logger, ...retry }),
        issuer: provider.client.issuer,
        clientId: provider.client.clientId,
        callbackPath: new URL(provider.client.redirectUri).pathname,
        // The built-in provider marks every address verified: the users file is the operator's word.
        emailVerifiedRequired: true,
        mfa: BUILTIN_MFA,
        groupsClaim: provider.client.groupsClaim,
        ...(provider.client.fetch === undefined ? {} : { fetch: provider.client.fetch as (url: string, init: RequestInit) => Promise<Response> }),
      };
    }
    return {
      name: method.name,
      kind: 'oidc',
      label: method.label,
      oidc: createOidcClient({
        issuer: method.issuer,
        clientId: method.clientId,
        ...(method.clientSecret === undefined ? {} : { clientSecret: method.clientSecret }),
        redirectUri: `${settings.authUrl}${method.callbackPath}`,
        scopes: method.scopes,
        groupsClaim: method.groupsClaim,
        allowHttp: method.allowHttpIssuer,
        logger,
        ...retry,
      }),
      issuer: method.issuer,
      clientId: method.clientId,
      callbackPath: method.callbackPath,
      emailVerifiedRequired: method.emailVerifiedRequired,
      mfa: { amr: method.mfaAmr, acr: method.mfaAcr },
      groupsClaim: method.groupsClaim,
    };
  }

  const byName = new Map(methods.map((method) => [method.name, method]));
  return {
    list: Object.freeze(methods),
    get: (name) => byName.get(name),
    rawHandler,
    endSession,
    accounts,
    start: () => methods.forEach((method) => method.oidc.start()),
    stop: () => methods.forEach((method) => method.oidc.stop()),
    close: closeAll,
  };
}
