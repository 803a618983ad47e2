import { signInShortfall, type Shortfall } from '../policy/index.ts';
import { matchRoute, normalizeHost, normalizeRequestPath, type RouteAccess, type RouteTable } from '../routes/index.ts';
import { signInFacts, type Session } from './session.ts';

/**
 * Which sign-in methods a sign-in may use, decided on the sign-in host from the route the user
 * is going back to (found in the route table, never taken from the request), and which one to
 * use now. Pure: the table, the names and the cookie value come in, a choice comes out.
 *
 * A request may name a method (`provider=` on /oauth2/start, the chooser's own links), and the
 * last choice is remembered in a cookie, but either only counts when the route offers that
 * method: a page elsewhere can link a user to a sign-in, never to a method the route refuses.
 */

/** What the target route asks of a sign-in; NO_REQUIREMENTS for the sign-in host itself or an unknown target. */
export const NO_REQUIREMENTS: RouteAccess = Object.freeze({ providers: [], mfa: false, maxAgeMs: null, networks: [], trustedNetworks: [] });

export function requirementsFor(table: RouteTable, target: URL, authHost: string): RouteAccess {
  const host = normalizeHost(target.host);
  if (host === authHost) return NO_REQUIREMENTS;
  const path = normalizeRequestPath(target.pathname);
  if (!path.ok) return NO_REQUIREMENTS;
  return matchRoute(table, host, path.path)?.access ?? NO_REQUIREMENTS;
}

/** The configured method names the route offers, in the configured order (the route's order is not a preference). */
export function offeredMethods(configured: readonly string[], access: RouteAccess): string[] {
  if (access.providers.length === 0) return [...configured];
  return configured.filter((name) => access.providers.includes(name));
}

export type Choice =
  | { readonly kind: 'use'; readonly method: string }
  | { readonly kind: 'choose'; readonly methods: readonly string[]; readonly last: string | null }
  | { readonly kind: 'none' };

/**
 * `requested` is the `provider` parameter, `last` the remembered choice. One offered method is
 * used straight away; a requested one that is offered is used; otherwise the user chooses, with
 * the remembered method (if offered) first.
 */
export function chooseMethod(offered: readonly string[], requested: string | null, last: string | null): Choice {
  if (offered.length === 0) return { kind: 'none' };
  if (offered.length === 1) return { kind: 'use', method: offered[0] as string };
  if (requested !== null && offered.includes(requested)) return { kind: 'use', method: requested };
  const remembered = last !== null && offered.includes(last) ? last : null;
  const methods = remembered === null ? [...offered] : [remembered, ...offered.filter((name) => name !== remembered)];
  return { kind: 'choose', methods, last: remembered };
}

/** What the session in hand lacks for the route, or null when it will do (now in seconds). */
export function sessionShortfall(session: Pick<Session, 'provider' | 'mfa' | 'authTime'>, access: RouteAccess, nowSeconds: number): Shortfall | null {
  return signInShortfall(access, signInFacts(session), nowSeconds);
}

/** The cookie on the sign-in host that remembers the last method chosen (not a secret: only a name). */
export const LAST_METHOD_COOKIE = 'gatehouse_method';
const LAST_METHOD_SECONDS = 400 * 24 * 3600;

export function lastMethodCookie(name: string, secure: boolean): string {
  return `${LAST_METHOD_COOKIE}=${name}; Path=/; Max-Age=${LAST_METHOD_SECONDS}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}
