import { z } from 'zod';

/**
 * A rule of Pomerium's policy language (PPL) as a tree, already checked: the routes file's
 * reader builds it (config/routes-file-ppl.ts), policy/ppl.ts evaluates it. Every value is
 * normalised when it is read (methods upper-case, dates as epoch ms, times as seconds after
 * midnight), so evaluating a request does no parsing.
 */

/** Pomerium's string matcher: every operator given must hold. */
export const PplStringMatcher = z
  .object({
    is: z.string(),
    starts_with: z.string(),
    ends_with: z.string(),
    contains: z.string(),
    in: z.array(z.string()),
    not_in: z.array(z.string()),
  })
  .partial()
  .strict();
export type PplStringMatcher = z.infer<typeof PplStringMatcher>;

export const PPL_CRITERIA_WITHOUT_VALUE = ['accept', 'reject', 'authenticated_user', 'cors_preflight', 'pomerium_routes'] as const;

export const PplCriterion = z.discriminatedUnion('criterion', [
  z.object({ criterion: z.enum(PPL_CRITERIA_WITHOUT_VALUE) }).strict(),
  z.object({ criterion: z.enum(['email', 'domain', 'user', 'http_method', 'http_path']), match: PplStringMatcher }).strict(),
  z.object({ criterion: z.literal('groups'), has: z.string() }).strict(),
  /** The claim equals the value, or a list claim contains it. */
  z.object({ criterion: z.literal('claim'), claim: z.string(), value: z.string() }).strict(),
  /** The client address (after trusted proxies) lies in `network`: canonical text, as `ip:` entries have it. */
  z.object({ criterion: z.literal('source_ip'), network: z.string() }).strict(),
  /** Epoch ms; the request time must be after `after` and before `before`. */
  z.object({ criterion: z.literal('date'), after: z.number().nullable(), before: z.number().nullable() }).strict(),
  /** Days 0 (Sunday) to 6, in `timezone` (an IANA name). */
  z.object({ criterion: z.literal('day_of_week'), days: z.array(z.number().int()), timezone: z.string() }).strict(),
  /** Seconds after midnight in `timezone`. */
  z.object({ criterion: z.literal('time_of_day'), timezone: z.string(), after: z.number().nullable(), before: z.number().nullable() }).strict(),
]);
export type PplCriterion = z.infer<typeof PplCriterion>;

/**
 * `and`: all; `or`: any; `not`: none (¬A ∧ ¬B); `nor`: not all (¬A ∨ ¬B), as Pomerium
 * documents them (its `not` and `nor` are NOR and NAND).
 */
export type PplNode = PplCriterion | { readonly op: 'and' | 'or' | 'not' | 'nor'; readonly items: readonly PplNode[] };

export const PplNode: z.ZodType<PplNode> = z.lazy(() =>
  z.union([z.object({ op: z.enum(['and', 'or', 'not', 'nor']), items: z.array(PplNode).min(1) }).strict(), PplCriterion]),
);
