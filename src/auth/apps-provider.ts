import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RawHandler } from '../http/index.ts';
import type { AppProvider } from '../idp/index.ts';
import type { RouteTable } from '../routes/index.ts';
import type { SecretReader } from '../util/secrets.ts';
import type { IdentityServices } from './context.ts';
import { readSession, signInFacts } from './session.ts';
import type { SignedInUser } from '../idp/index.ts';

/**
 * Wires the OpenID provider for apps (idp/app-provider.ts) to Gatehouse's sign-in: its users
 * are whoever holds a live session on the sign-in host, and its sign-in is Gatehouse's own
 * (`/oauth2/start`), whichever provider that uses. Started on the first request under `/oidc`,
 * so a Gatehouse without label clients never loads it.
 */

const PREFIX = '/oidc';

export interface AppsProviderOptions {
  currentTable: () => RouteTable;
  readSecret: SecretReader;
}

export function appsProviderHandler(services: IdentityServices, options: AppsProviderOptions): RawHandler {
  const { settings, logger } = services;
  let started: Promise<AppProvider> | null = null;

  function signedIn(req: IncomingMessage): SignedInUser | null {
    const session = readSession(req.headers.cookie, { secure: settings.authSecure, keys: services.secrets.session, now: services.now(), host: settings.authHost });
    // The same checks as every route host: signed out, or signed out everywhere, is nobody.
    if (session === null || services.revocation.isRevoked(session.sid) || services.userSessions.isCut(session)) return null;
    return {
      identity: { sub: session.sub, email: session.email, emailVerified: session.emailVerified, name: session.name, groups: session.groups, claims: session.claims, ...(session.provider === undefined ? {} : { provider: session.provider }) },
      facts: signInFacts(session),
    };
  }

  async function start(): Promise<AppProvider> {
    const { createAppProvider } = await import('../idp/index.ts');
    return createAppProvider({
      authUrl: settings.authUrl,
      dataDir: settings.dataDir,
      logger: logger.child({ mod: 'apps-idp' }),
      currentTable: options.currentTable,
      signedIn,
      signInUrl: (returnTo) => `${settings.authUrl}/oauth2/start?rd=${encodeURIComponent(returnTo)}`,
      readSecret: options.readSecret,
      defaultAllow: settings.defaultAllow,
      sessionTtlMs: settings.sessionTtlMs,
      now: services.now,
    });
  }

  return {
    handles: (host, path) => host === settings.authHost && (path === PREFIX || path.startsWith(`${PREFIX}/`)),
    handle(req: IncomingMessage, res: ServerResponse, clientIp: string) {
      started ??= start();
      started.then(
        (provider) => provider.handle(req, res, clientIp),
        (error: unknown) => {
          started = null;
          logger.error({ err: error }, 'the OpenID provider for apps could not start');
          res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
          res.end('The OpenID provider for apps is unavailable; see the Gatehouse log.\n');
        },
      );
    },
  };
}

/**
 * The built-in provider's handler (under `/idp`) and the apps' (under `/oidc`) as one: both
 * live on the sign-in host, so the raw path tells them apart.
 */
export function withAppsProvider(builtin: RawHandler | null, apps: RawHandler, authHost: string): RawHandler {
  if (builtin === null) return apps;
  return {
    handles: (host, path) => apps.handles(host, path) || builtin.handles(host, path),
    handle: (req, res, clientIp) => (apps.handles(authHost, (req.url ?? '/').split('?')[0]!) ? apps.handle(req, res, clientIp) : builtin.handle(req, res, clientIp)),
  };
}
