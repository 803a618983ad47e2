import { z } from 'zod';
import { PplNode } from './ppl.ts';

/**
 * The shapes of the values a route holds, below the route itself. A leaf module: the key table
^ * (key-fields.ts) names them for its keys, and RouteSpec (spec.ts) is derived from that.
 */

export const PolicyEntry = z.discriminatedUnion('kind', [
  /** Exact address, compared case-insensitively; exactly one `@`. */
  z.object({ kind: z.literal('email'), email: z.string() }),
  /** `@example.com`: that domain exactly, no subdomains. Stored lowercased without the `@`. */
  z.object({ kind: z.literal('domain'), domain: z.string() }),
  z.object({ kind: z.literal('group'), group: z.string() }),
  /** Claim equals value, or a list claim contains it. */
  z.object({ kind: z.literal('claim'), claim: z.string(), value: z.string() }),
  z.object({ kind: z.literal('user'), sub: z.string() }),
  /** `*`: any signed-in user. */
  z.object({ kind: z.literal('any') }),
  /** One rule of Pomerium's policy language (routes file only): matches when the tree is true. */
  z.object({ kind: z.literal('ppl'), rule: PplNode }),
  /** `provider:google`: signed in through that sign-in method (`local` for the built-in users). */
  z.object({ kind: z.literal('provider'), provider: z.string() }),
  /** `ip:192.168.1.0/24`: the client address (after trusted proxies) lies in the network; canonical text. */
  z.object({ kind: z.literal('ip'), network: z.string() }),
]);
export type PolicyEntry = z.infer<typeof PolicyEntry>;

/** An unauthenticated exception: `GET /healthz` or `/share/` (a trailing `/` means a prefix). */
export const BypassRule = z.object({
  /** Upper-case method, or null for any method. */
  method: z.string().nullable(),
  /** Normalised path; ends with `/` for a prefix rule, otherwise exact. */
  path: z.string(),
});
export type BypassRule = z.infer<typeof BypassRule>;

export const IdentityMode = z.enum(['headers', 'jwt', 'none']);
export type IdentityMode = z.infer<typeof IdentityMode>;

export const HostHeaderMode = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('preserve') }),
  z.object({ mode: z.literal('upstream') }),
  z.object({ mode: z.literal('literal'), host: z.string() }),
]);
export type HostHeaderMode = z.infer<typeof HostHeaderMode>;
