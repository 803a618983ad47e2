/**
 * The HTTP vocabulary Gatehouse shares between the rooms that read labels and the proxy that
 * forwards requests: which names are hop-by-hop, which carry identity, which claim to know the
 * client's address, and how a header name is compared. Defined once here, so that what a label
 * may set and what the proxy strips can never drift apart.
 */

/** RFC 9110 §7.6.1 plus the non-standard ones proxies agree on; never forwarded either way. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'http2-settings',
]);

/** Every header Gatehouse sets to describe the signed-in user starts with this (folded). */
export const IDENTITY_PREFIX = 'x-iap-';

/**
 * The name as CGI, WSGI, PHP and many frameworks see it: `X_Iap.User` and `x-iap-user` are the
 * same variable there, so they must be the same header here.
 */
export function foldHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return lower.includes('_') || lower.includes('.') ? lower.replace(/[_.]/g, '-') : lower;
}

/** The headers that tell an upstream who the signed-in user is. */
export const IDENTITY_HEADERS = {
  user: 'x-iap-user',
  email: 'x-iap-email',
  groups: 'x-iap-groups',
  name: 'x-iap-name',
  jwt: 'x-iap-jwt-assertion',
} as const;

export function isIdentityHeader(name: string): boolean {
  return foldHeaderName(name).startsWith(IDENTITY_PREFIX);
}

/**
 * Headers some app, framework or CDN reads as "the client's address" (folded). Only a trusted
 * proxy may send them; from anyone else they are forged, because the client chose them.
 * `X-Forwarded-*`, `Forwarded` and `X-Real-IP` are handled as forwarding headers (see
 * `isForwardingHeader`); this list is everything else in the wild.
 */
export const CLIENT_IP_HEADERS: ReadonlySet<string> = new Set([
  'x-client-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'cf-connecting-ipv6',
  'fastly-client-ip',
  'x-cluster-client-ip',
  'x-original-forwarded-for',
  'x-forwarded',
  'forwarded-for',
  'client-ip',
  'x-real-client-ip',
  'x-originating-ip',
  'x-remote-ip',
  'x-remote-addr',
  'remote-addr',
  'x-proxyuser-ip',
  'x-envoy-external-address',
  'x-appengine-user-ip',
  'x-azure-clientip',
  'x-azure-socketip',
  'akamai-client-ip',
  'x-akamai-client-ip',
  'x-true-client-ip',
  'x-client-ip-address',
]);

/** `X-Forwarded-*`, `Forwarded` and `X-Real-IP` (folded): rebuilt by Gatehouse for every request. */
export function isForwardingHeader(folded: string): boolean {
  return folded.startsWith('x-forwarded-') || folded === 'forwarded' || folded === 'x-real-ip';
}

/** Any header claiming to know where the request came from (folded). */
export function isClientAddressHeader(folded: string): boolean {
  return isForwardingHeader(folded) || CLIENT_IP_HEADERS.has(folded);
}

/** Lowercased, trimmed tokens of a `Connection` header (one string or several). */
export function connectionTokens(value: string | string[] | undefined): Set<string> {
  const tokens = new Set<string>();
  if (value === undefined) return tokens;
  for (const line of Array.isArray(value) ? value : [value]) {
    for (const token of line.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') tokens.add(name);
    }
  }
  return tokens;
}

/** RFC 9110 token characters: what a header name may be made of. */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Values derived from claims or labels must never split into a second header line. */
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/g;

export function hasControlCharacter(value: string): boolean {
  CONTROL.lastIndex = 0;
  return CONTROL.test(value);
}

export function sanitizeHeaderValue(value: string): string {
  return hasControlCharacter(value) ? value.replace(CONTROL, ' ') : value;
}
