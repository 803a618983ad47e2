import type { GateRequest } from '../http/index.ts';
import type { Logger } from '../observability/index.ts';
import type { Identity } from '../policy/index.ts';
import type { Route } from '../routes/index.ts';
import type { AppPasswordRecord, AppPasswords } from './app-passwords.ts';
import type { BearerJwtVerifier } from './bearer-jwt.ts';
import type { CredentialThrottle } from './credential-throttle.ts';

/**
 * Who is calling, from the `Authorization` header, on routes that accept it: an app password
 * over HTTP Basic (`iap.basic_auth`), or a bearer token (`iap.bearer`): an app password again
 * (Gatehouse's own API token) or a JWT from the sign-in provider. Every failure counts towards
 * the throttle, and a locked address or account is refused before any password is checked.
 */

export type Presented = { scheme: 'basic'; username: string; password: string } | { scheme: 'bearer'; token: string };

/** The credential in the header, `malformed` when it names a scheme but cannot be read, or null. */
export function readAuthorization(header: string | string[] | undefined): Presented | { scheme: 'basic' | 'bearer'; malformed: true } | null {
  if (typeof header !== 'string') return null;
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const value = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme === 'bearer') return /^[A-Za-z0-9._~+/-]+=*$/.test(value) ? { scheme, token: value } : { scheme, malformed: true };
  if (scheme !== 'basic') return null;
  if (!/^[A-Za-z0-9+/]+=*$/.test(value)) return { scheme, malformed: true };
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { scheme, malformed: true };
  return { scheme, username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** An identity proven by a credential, with what an identity JWT for the upstream needs. */
export interface CredentialIdentity extends Identity {
  /** Stands in for a session id: `app:<id>` or `jwt:<sub>`. */
  readonly sid: string;
  readonly iat: number;
  readonly via: 'app_password' | 'bearer_jwt';
}

export type CredentialOutcome =
  | { kind: 'none' }
  | { kind: 'ok'; identity: CredentialIdentity }
  | { kind: 'refused'; scheme: 'basic' | 'bearer'; retryAfterMs: number | null };

export interface CredentialServices {
  readonly appPasswords: AppPasswords;
  readonly throttle: CredentialThrottle;
  /** Null when bearer JWTs cannot be checked (no provider keys configured). */
  readonly bearerJwt: BearerJwtVerifier | null;
  /** The built-in user by name as the users file has them now; null when removed or disabled. Absent without the built-in provider. */
  readonly builtinUser: ((username: string) => Identity | null) | null;
  readonly logger: Logger;
}

export function acceptsCredentials(route: Route): boolean {
  return route.basicAuth || route.bearer;
}

export async function identifyByCredentials(services: CredentialServices, req: GateRequest, route: Route): Promise<CredentialOutcome> {
  const presented = readAuthorization(req.headers.authorization);
  if (presented === null) return { kind: 'none' };
  const accepted = presented.scheme === 'basic' ? route.basicAuth : route.bearer;
  if (!accepted) return { kind: 'none' };
  const account = 'username' in presented ? presented.username : null;
  const status = services.throttle.status(req.remoteAddress, account);
  const refuse = (reason: string, user: string | null): CredentialOutcome => {
    services.throttle.failure(req.remoteAddress, account);
    services.logger.warn({ event: 'credential', outcome: 'failure', scheme: presented.scheme, user: user?.slice(0, 64) ?? null, ip: req.remoteAddress, host: req.host, reason, requestId: req.requestId }, `${presented.scheme} credential refused (${reason})`);
    return { kind: 'refused', scheme: presented.scheme, retryAfterMs: null };
  };
  if (status.locked) {
    services.logger.warn({ event: 'credential', outcome: 'locked', scheme: presented.scheme, user: account?.slice(0, 64) ?? null, ip: req.remoteAddress, host: req.host, requestId: req.requestId }, 'too many failed credentials; refused without checking');
    return { kind: 'refused', scheme: presented.scheme, retryAfterMs: status.retryAfterMs };
  }
  if ('malformed' in presented) return refuse('malformed Authorization header', null);

  if (presented.scheme === 'basic' || services.appPasswords.looksLike(presented.token)) {
    const secret = presented.scheme === 'basic' ? presented.password : presented.token;
    const record = await services.appPasswords.verify(secret);
    if (record === null) return refuse('unknown or wrong app password', account);
    if (account !== null && !namesOwner(account, record)) return refuse('app password of another user', account);
    if (record.hosts.length > 0 && !record.hosts.includes(req.host)) return refuse(`app password "${record.name}" is limited to other apps`, account);
    const identity = ownerIdentity(services, record);
    if (identity === null) return refuse('the account is removed or disabled', account);
    return { kind: 'ok', identity: { ...identity, sid: `app:${record.id}`, iat: Math.floor(record.created / 1000), via: 'app_password' } };
  }

  if (services.bearerJwt === null) return refuse('bearer JWTs are not accepted', null);
  const result = await services.bearerJwt.verify(presented.token);
  if (!result.ok) return refuse(result.reason, null);
  const { exp: _exp, ...identity } = result.identity;
  return { kind: 'ok', identity: { ...identity, sid: `jwt:${identity.sub}`, iat: 0, via: 'bearer_jwt' } };
}

/** The Basic user name must name the password's owner: their subject, user name or email. */
function namesOwner(login: string, record: AppPasswordRecord): boolean {
  const typed = login.trim().toLowerCase();
  const { owner } = record;
  return typed === owner.sub.toLowerCase() || (owner.email !== null && typed === owner.email.toLowerCase());
}

/** Built-in users as the users file has them now (removed or disabled: nobody); others as they were when the password was made. */
function ownerIdentity(services: CredentialServices, record: AppPasswordRecord): Identity | null {
  const { owner } = record;
  if (!owner.builtin) return { sub: owner.sub, email: owner.email, emailVerified: owner.emailVerified, name: owner.name, groups: owner.groups, claims: owner.claims };
  const current = services.builtinUser?.(owner.sub) ?? null;
  // A user removed and later re-created under the same name is someone else unless the email is the same too.
  return current !== null && current.email?.toLowerCase() === owner.email?.toLowerCase() ? current : null;
}
