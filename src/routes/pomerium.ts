import { RE2JS } from 're2js';
import { z } from 'zod';
import { startsWithFolded } from './fold.ts';

/**
 * What a route read from a Pomerium file keeps of Pomerium's semantics beyond Gatehouse's own
 * keys: how its path matches, how the upstream request is rewritten, which headers it adds, and
 * its upstream TLS. Label routes never have it. Pure: compiling and running RE2 patterns only.
 *
 * Regular expressions run on re2js (RE2 semantics, as Pomerium's Envoy uses): matching time is
 * linear in the input whatever the pattern, so a hostile or careless pattern cannot stall the
 * proxy with catastrophic backtracking, and RE2 has no backreferences or lookarounds to refuse.
 */

const Rewrite = z.object({ pattern: z.string(), substitution: z.string() }).strict();

export const PomeriumUpstreamTls = z
  .object({
    /** `tls_server_name`: SNI and the name the certificate must carry. */
    serverName: z.string().nullable(),
    /** `tls_custom_ca` (PEM) or `tls_custom_ca_file` (path): trusted instead of the system roots. */
    ca: z.string().nullable(),
    caFile: z.string().nullable(),
    /** `tls_client_cert` (PEM) or its file, with `tls_client_key_file`: the client certificate Gatehouse presents. */
    clientCert: z.string().nullable(),
    clientCertFile: z.string().nullable(),
    clientKeyFile: z.string().nullable(),
  })
  .strict();
export type PomeriumUpstreamTls = z.infer<typeof PomeriumUpstreamTls>;

export const PomeriumRoute = z
  .object({
    /** `prefix`: a string prefix (`/app` takes `/apple`); `path`: one exact path; `regex`: RE2, full match. */
    match: z.enum(['prefix', 'path', 'regex']),
    /** The RE2 pattern of a `regex` route. */
    regex: z.string().nullable(),
    /** `regex_priority_order`: higher first among regex routes of a host. */
    regexPriority: z.number().int(),
    /** `from` with an explicit port: only that authority matches. */
    port: z.number().int().nullable(),
    prefixRewrite: z.string().nullable(),
    regexRewrite: Rewrite.nullable(),
    hostRewriteHeader: z.string().nullable(),
    hostPathRewrite: Rewrite.nullable(),
    responseHeaders: z.record(z.string(), z.string()),
    /** `pass_identity_headers`: X-Pomerium-Jwt-Assertion and the claim headers. */
    identityHeaders: z.boolean(),
    /** Header name → claim (`jwt_claims_headers`), sent with the identity headers. */
    claimHeaders: z.record(z.string(), z.string()),
    /** Upstream origin → weight (`to: http://a,3`); absent origins weigh 1. */
    weights: z.record(z.string(), z.number().int().positive()),
    tls: PomeriumUpstreamTls.nullable(),
  })
  .strict();
export type PomeriumRoute = z.infer<typeof PomeriumRoute>;

/** A route's Pomerium settings before any option is read: Pomerium's documented defaults. */
export function defaultPomeriumRoute(): PomeriumRoute {
  return {
    match: 'prefix',
    regex: null,
    regexPriority: 0,
    port: null,
    prefixRewrite: null,
    regexRewrite: null,
    hostRewriteHeader: null,
    hostPathRewrite: null,
    responseHeaders: {},
    identityHeaders: false,
    claimHeaders: {},
    weights: {},
    tls: null,
  };
}

const compiled = new Map<string, RE2JS>();
const COMPILED_LIMIT = 1000;

/** The RE2 program for a pattern already accepted by `checkRe2`; kept per pattern text. */
export function re2(pattern: string): RE2JS {
  let program = compiled.get(pattern);
  if (program === undefined) {
    if (compiled.size >= COMPILED_LIMIT) compiled.clear();
    program = RE2JS.compile(pattern);
    compiled.set(pattern, program);
  }
  return program;
}

/** Null when `pattern` is valid RE2, else the parser's reason (e.g. for `(?=…)` or `\1`). */
export function checkRe2(pattern: string): string | null {
  try {
    re2(pattern);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Whether the route's path rule takes `path` (normalised); `routePath` is its `prefix` or `path`. */
export function pomeriumPathMatches(route: PomeriumRoute, routePath: string, path: string): boolean {
  switch (route.match) {
    case 'prefix':
      return startsWithFolded(path, routePath);
    case 'path':
      return path.length === routePath.length && startsWithFolded(path, routePath);
    case 'regex':
      return route.regex !== null && regexTakes(re2(route.regex), path);
  }
}

/**
 * RE2 is case-sensitive, but many apps are not: a pattern also takes a path whose ASCII-lowercased
 * form it matches, so `/ADMIN/x` meets a stricter `^/admin/.*$` route rather than the broader one,
 * as prefixes fold case (see match.ts).
 */
function regexTakes(program: RE2JS, path: string): boolean {
  if (program.matches(path)) return true;
  const lower = path.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
  return lower !== path && program.matches(lower);
}

/**
 * Envoy's `regex_rewrite`: every non-overlapping match of `pattern` in `input` is replaced by
 * `substitution`, where `\0`–`\9` stand for the capture groups.
 */
export function regexSubstitute(rewrite: { readonly pattern: string; readonly substitution: string }, input: string): string {
  const program = re2(rewrite.pattern);
  const groups = program.groupCount();
  return program.matcher(input).replaceAll((...args: unknown[]) => expand(rewrite.substitution, (n) => (n <= groups ? ((args[n] as string | null) ?? '') : '')));
}

function expand(substitution: string, group: (n: number) => string): string {
  return substitution.replace(/\\(\d|\\)/g, (_, what: string) => (what === '\\' ? '\\' : group(Number(what))));
}

/** Specificity among a host's claims: exact paths, then regexes (by priority), then prefixes by length. */
export function pomeriumRank(route: PomeriumRoute | undefined): number {
  if (route === undefined) return 2;
  return route.match === 'path' ? 0 : route.match === 'regex' ? 1 : 2;
}
