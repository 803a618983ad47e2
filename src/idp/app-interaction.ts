import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { Logger } from '../observability/index.ts';
import { evaluate, networkAccess, signInShortfall, type Decision, type Identity, type SignInFacts } from '../policy/index.ts';
import type { PolicyEntry, Route, RouteTable } from '../routes/index.ts';
import type { AppAccounts } from './app-accounts.ts';
import { messagePage, type HtmlPage } from './pages.ts';

/**
 * The interaction of the provider for apps: no form of its own. Gatehouse federates: the user
 * is whoever the Gatehouse session on the sign-in host says (signed in through the built-in
 * users or an outside provider); without one, the browser goes through Gatehouse's ordinary
 * sign-in and comes back here. Then the app's own access rules (`iap.allow`/`iap.deny` on the
 * client's container) decide: a refused user gets `error=access_denied` at the app's redirect
 * URI and no code. Consent is implicit: these clients are the operator's own apps.
 *
 * Every authorization request comes through here (see appLoginPolicy): a provider session
 * never stands in for the Gatehouse session, so signing out of Gatehouse, or losing access,
 * takes effect at the app's next sign-in.
 */

export interface AppInteractionOptions {
  provider: Provider;
  accounts: AppAccounts;
  logger: Logger;
  authOrigin: string;
  prefix: string;
  scopes: readonly string[];
  /** The table generation of the request in progress. */
  table: () => RouteTable;
  /** The Gatehouse session's identity in this request's cookies, or null. */
  signedIn: (req: IncomingMessage) => SignedInUser | null;
  /** The client address Gatehouse saw (after trusted proxies), for the route's network conditions. */
  clientIpOf: (req: IncomingMessage) => string | null;
  /** Gatehouse's sign-in, returning to `returnTo` (on the sign-in host) afterwards. */
  signInUrl: (returnTo: string) => string;
  defaultAllow: readonly PolicyEntry[];
}

const UID = /^\/interaction\/([A-Za-z0-9_-]{1,128})$/;

/** Who holds the Gatehouse session, and how they signed in (for `iap.mfa`, `iap.max_age`, `iap.providers`). */
export interface SignedInUser {
  readonly identity: Identity;
  readonly facts: SignInFacts;
}

/** What the app's sign-in knows of the request besides the user. */
export interface AppSignInContext {
  readonly clientIp: string | null;
  readonly now: number;
}

/**
 * The route's rules for a signed-in user, as at the app's own address: its networks, the way the
 * user must have signed in, then its allow and deny lists. Bypass rules, CORS preflights and
 * trusted networks open paths to nobody in particular, never the app's sign-in; a session that
 * falls short of `mfa`, `max_age` or `providers` is refused here (the app asks again after the
 * user signs in anew at Gatehouse).
 */
export function appAccess(route: Route, user: SignedInUser, defaultAllow: readonly PolicyEntry[], context: AppSignInContext = { clientIp: null, now: Date.now() }): Decision {
  const network = networkAccess(route.access, context.clientIp);
  if (network !== null && !network.allow) return network;
  const shortfall = signInShortfall(route.access, user.facts, Math.floor(context.now / 1000));
  if (shortfall !== null) return { allow: false, reason: 'not_allowed', entry: `sign-in does not meet ${shortfall === 'max_age' ? 'max_age' : shortfall === 'mfa' ? 'mfa' : 'providers'}` };
  const policy = { ...route.policy, bypass: [], corsPreflight: false };
  return evaluate(policy, user.identity, { method: 'GET', path: route.path, headers: {}, now: context.now, ...(context.clientIp === null ? {} : { clientIp: context.clientIp }) }, defaultAllow);
}

export function createAppInteractionHandler(options: AppInteractionOptions) {
  const { provider, logger, prefix } = options;

  function expired(): HtmlPage {
    return messagePage(400, 'Sign-in expired', 'This sign-in is no longer valid (it expired or was opened in another browser). Go back to the application and sign in again.');
  }

  async function run(req: IncomingMessage, res: ServerResponse, path: string): Promise<HtmlPage | null> {
    const match = UID.exec(path);
    if (match === null) return messagePage(404, 'Not found', 'There is nothing at this address.');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const refused = messagePage(405, 'Method not allowed', 'Go back to the application and sign in again.');
      refused.headers['allow'] = 'GET, HEAD';
      return refused;
    }
    let details: Awaited<ReturnType<Provider['interactionDetails']>>;
    try {
      details = await provider.interactionDetails(req, res);
    } catch (error) {
      if (error instanceof errors.SessionNotFound) return expired();
      throw error;
    }
    if (details.uid !== match[1]) return expired();
    const clientId = String(details.params['client_id'] ?? '');
    const route = options.table().oidcClients.get(clientId);
    // Removed while the user was signing in: its redirect URIs may belong to someone else by now.
    if (route === undefined) return messagePage(400, 'Sign-in cannot continue', 'This app is no longer published. Go back to the application and try again later.');

    const signed = options.signedIn(req);
    if (signed === null) {
      res.writeHead(303, { location: options.signInUrl(`${options.authOrigin}${prefix}/interaction/${details.uid}`), 'cache-control': 'no-store' });
      res.end();
      return null;
    }
    const user = signed.identity;
    const decision = appAccess(route, signed, options.defaultAllow, { clientIp: options.clientIpOf(req), now: Date.now() });
    const who = { client: clientId, route: route.id, user: user.email ?? user.sub, sub: user.sub, reason: decision.reason, entry: decision.entry };
    if (!decision.allow) {
      logger.info({ event: 'app_sign_in', outcome: 'refused', ...who }, "an app's sign-in was refused by its access rules; the app gets access_denied");
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: `${user.email ?? user.sub} may not use ${route.display.name}` }, { mergeWithLastSubmission: false });
      return null;
    }
    options.accounts.remember(user);
    const grant = new provider.Grant({ accountId: user.sub, clientId });
    grant.addOIDCScope(allowedScopes(String(details.params['scope'] ?? 'openid'), options.scopes));
    const grantId = await grant.save();
    logger.info({ event: 'app_sign_in', outcome: 'allowed', ...who }, 'signed in to an app through Gatehouse');
    // Not remembered: the provider's own session never outlives this authorization request.
    await provider.interactionFinished(req, res, { login: { accountId: user.sub, remember: false }, consent: { grantId } }, { mergeWithLastSubmission: false });
    return null;
  }

  return async function handleAppInteraction(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    try {
      const page = await run(req, res, path);
      if (page !== null) send(res, req.method === 'HEAD', page);
    } catch (error) {
      logger.error({ err: error, path }, "an app's sign-in failed");
      if (res.headersSent) res.destroy();
      else send(res, false, messagePage(500, 'Something went wrong', 'The sign-in failed. Try again in a moment.'));
    }
  };
}

function allowedScopes(requested: string, supported: readonly string[]): string {
  return requested.split(/\s+/).filter((scope) => supported.includes(scope)).join(' ');
}

function send(res: ServerResponse, head: boolean, page: HtmlPage): void {
  res.writeHead(page.status, page.headers);
  res.end(head ? undefined : page.body);
}
