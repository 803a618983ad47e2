import type { Route, RouteTable } from './table.ts';
import type { Claim } from './claims.ts';
import { pomeriumPathMatches } from './pomerium.ts';
import { startsWithFolded } from './fold.ts';

const BRACKET = 0x5b;
const SLASH = 0x2f;
const DOT = 0x2e;
const SEMICOLON = 0x3b;

/** `Host` header → table key: port removed (`[::1]:8080` → `[::1]`), trailing dot removed, lowercased. */
export function normalizeHost(rawHost: string): string {
  let host = rawHost;
  if (host.charCodeAt(0) === BRACKET) {
    const end = host.indexOf(']');
    if (end !== -1) host = host.slice(0, end + 1);
  } else {
    const colon = host.indexOf(':');
    // More than one colon is an unbracketed IPv6 literal, which has no port to strip.
    if (colon !== -1 && host.indexOf(':', colon + 1) === -1) host = host.slice(0, colon);
  }
  if (host.charCodeAt(host.length - 1) === DOT) host = host.slice(0, -1);
  return host.toLowerCase();
}

/**
 * Longest route path that is a prefix of `path` on a segment boundary: `/admin` takes `/admin`,
 * `/admin/`, `/admin/x` and `/admin;x=1` but not `/administrator`; `/` takes everything.
 * `path` must already be normalised (see normalizeRequestPath): this compares strings, it
 * does not decode.
 */
export function matchRoute(table: RouteTable, host: string, path: string): Route | undefined {
  return matchClaim(table, host, path)?.route ?? undefined;
}

/**
 * The most specific claim on `host` covering `path`, live or closed; undefined when nothing
 * claims it (404). A closed claim answers for its path itself: the lookup never goes on to a
 * broader live route, which is what keeps a stopped or rejected `/admin` from falling to `/`.
 */
export function matchClaim(table: RouteTable, host: string, path: string, port: number | null = null): Claim | undefined {
  const claims = table.claims.get(normalizeHost(host));
  if (claims === undefined) return undefined;
  // Sorted most specific first (exact paths, patterns, then longest path), so the first hit wins.
  for (let i = 0; i < claims.length; i++) {
    const claim = claims[i] as Claim;
    const pomerium = claim.route?.pomerium;
    if (claim.route === null && claim.closed.stringPrefix === true) {
      if (startsWithFolded(path, claim.path)) return claim;
    } else if (pomerium === undefined) {
      if (isSegmentPrefix(claim.path, path)) return claim;
    } else if ((pomerium.port === null || pomerium.port === port) && pomeriumPathMatches(pomerium, claim.path, path)) {
      // A Pomerium route matches as Pomerium documents: a string prefix, an exact path or an RE2 pattern, on its port.
      return claim;
    }
  }
  return undefined;
}

/**
 * A `;` also ends the prefix: servlet containers read `/admin;x=1` as `/admin`, so the request
 * must meet the `/admin` route's policy rather than slip through to a broader route.
 * ASCII letters compare without case: Windows and macOS file systems, Express and ASP.NET
 * routing read `/ADMIN` as `/admin`, so `/ADMIN` meets the `/admin` route's policy too (and a
 * case-sensitive upstream merely answers 404 under the stricter policy).
 */
export function isSegmentPrefix(prefix: string, path: string): boolean {
  if (!startsWithFolded(path, prefix)) return false;
  if (path.length === prefix.length || prefix.charCodeAt(prefix.length - 1) === SLASH) return true;
  const next = path.charCodeAt(prefix.length);
  return next === SLASH || next === SEMICOLON;
}
