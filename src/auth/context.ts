import type { IdentitySettings } from './options.ts';
import type { AuditSink, Logger } from '../observability/index.ts';
import type { GateRequest } from '../http/index.ts';
import type { RouteTable } from '../routes/index.ts';
import type { AssertionSigner } from './assertion.ts';
import type { Secrets } from './keys.ts';
import type { UsedHandoffs } from './handoff.ts';
import type { SignInMethods } from './methods.ts';
import type { FrontDoor } from './origins.ts';
import type { ProviderSessions } from './provider-sessions.ts';
import type { CredentialServices } from './request-credentials.ts';
import type { RevocationList } from './revocation.ts';
import type { UserSessions } from './user-sessions.ts';
import { readSession, type Session } from './session.ts';

/** Everything the sign-in endpoints and the identity check share, for the life of the process. */
export interface IdentityServices {
  readonly settings: IdentitySettings;
  readonly secrets: Secrets;
  readonly signer: AssertionSigner;
  /** Every configured sign-in method, each with its own OpenID client. */
  readonly methods: SignInMethods;
  readonly revocation: RevocationList;
  /** The origins users reach Gatehouse at (exact-origin redirects and handoffs). */
  readonly frontDoor: FrontDoor;
  /** Ids of handoff tokens already used, kept across restarts until the tokens expire. */
  readonly usedHandoffs: UsedHandoffs;
  /** Ends the provider's own session on sign-out (built-in provider: server side). */
  readonly providerSessions: ProviderSessions;
  /** Each user's sessions and their "sign out everywhere" cut-off. */
  readonly userSessions: UserSessions;
  /** App passwords and bearer tokens on routes that accept them. */
  readonly credentials: CredentialServices;
  readonly logger: Logger;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Set when several replicas share Redis: false while it cannot be reached (new sign-ins are refused). */
  readonly sharedStateAvailable?: () => boolean;
  /** Sign-ins, failures and sign-outs, apart from the log; absent in tests that build services by hand. */
  readonly audit?: AuditSink;
}

/**
 * The services plus the route table generation the proxy read for this request: every answer
 * about hosts (known redirect targets, cookie security, the portal's list) comes from it, never
 * from a later table.
 */
export interface IdentityContext extends IdentityServices {
  readonly table: RouteTable;
}

/**
 * Whether cookies on this route host are `Secure` with the `__Host-` prefix: when the user sees
 * https (the listener, or X-Forwarded-Proto from a trusted proxy), or when any route on the host
 * is published as https (so a plain-http request to an https host never downgrades the cookie).
 */
export function routeHostSecure(table: RouteTable, req: Pick<GateRequest, 'host' | 'scheme'>): boolean {
  if (req.scheme === 'https') return true;
  const routes = table.byHost.get(req.host);
  return routes !== undefined && routes.some((route) => route.fromScheme === 'https');
}

/** The scheme the user sees for a route host: https when either the request or the route says so. */
export function routeHostScheme(req: GateRequest, secure: boolean): 'http' | 'https' {
  return req.scheme === 'https' || secure ? 'https' : 'http';
}

/** The session in this request's cookies, unless it is absent, invalid, expired, for another host or signed out. */
export function liveSession(ctx: IdentityServices, req: Pick<GateRequest, 'headers' | 'host'>, secure: boolean): Session | null {
  const cookie = req.headers.cookie;
  if (cookie === undefined) return null;
  const session = readSession(cookie, { secure, keys: ctx.secrets.session, now: ctx.now(), host: req.host });
  if (session === null || ctx.revocation.isRevoked(session.sid) || ctx.userSessions.isCut(session)) return null;
  return session;
}

export function queryParams(req: GateRequest): URLSearchParams {
  return new URLSearchParams(req.query.startsWith('?') ? req.query.slice(1) : req.query);
}

/** `https://host[:port]` as the browser addressed this request. */
export function requestOrigin(req: GateRequest, scheme: 'http' | 'https'): string {
  return `${scheme}://${req.publicHost}`;
}

/** The route host's own sign-in start, which ties the sign-in to this browser (browser-binding.ts). */
export const START_PATH = '/.iap/start';

/**
 * Where a route host sends a browser to sign in: its own `/.iap/start` (which sets the binding
 * nonce on this host and goes on to the sign-in host), not the sign-in host's `/oauth2/start`,
 * which would only bounce back here first.
 */
export function routeHostStartUrl(origin: string, returnTo: string): string {
  return `${origin}${START_PATH}?rd=${encodeURIComponent(returnTo)}`;
}

/** The URL to the sign-in host's start for `returnTo`. */
export function signInUrl(ctx: IdentityServices, returnTo: string): string {
  return `${ctx.settings.authUrl}/oauth2/start?rd=${encodeURIComponent(returnTo)}`;
}

export function portalUrl(ctx: IdentityContext): string {
  return `${ctx.settings.authUrl}/`;
}

/** Who the logs and pages name: the address when known, else the subject. */
export function displayName(session: Pick<Session, 'email' | 'sub'>): string {
  return session.email ?? session.sub;
}
