import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ExpiringMap } from '../state/index.ts';
import type { PurposeKeys } from './keys.ts';
import { originOf } from './origins.ts';
import { openSealed, seal } from './seal.ts';
import { Session } from './session.ts';

/**
 * One-time tokens that carry a signed-in session from the sign-in host to a route host (in a
 * redirect URL), so each route host sets its own host-only cookie and no cookie is ever
 * shared between sibling domains. Valid 60 seconds, usable once (the record of used tokens
 * survives a restart), and only at one exact origin by the browser that started the sign-in
 * (see browser-binding.ts).
 */

export const HANDOFF_LIFETIME_SECONDS = 60;

const HandoffPayload = z.object({
  jti: z.string().min(1),
  exp: z.number(),
  /** `scheme://host[:port]` of the route host, exactly as the browser addresses it. */
  origin: z.string(),
  /** Hash of the nonce the starting browser holds on that origin. */
  binding: z.string(),
  returnTo: z.string(),
  session: Session.omit({ host: true }),
});

export interface HandoffInput {
  /** The session being handed over; the route host's copy is bound to the origin's host. */
  session: Omit<Session, 'host'>;
  /** Already validated (safeRedirectTarget) where the token is created; its origin is where the token may be used. */
  returnTo: string;
  /** From the route host's sign-in start (browser-binding.ts). */
  binding: string;
}

/** Where the token is presented. */
export interface HandoffPlace {
  /** The request's origin as the browser addressed it. */
  origin: string;
  /** Lowercase, no port. */
  host: string;
  /** Whether this browser holds the nonce behind `binding`. */
  holds: (binding: string) => boolean;
}

export type HandoffRefusal = 'invalid' | 'expired' | 'wrong_host' | 'wrong_origin' | 'other_browser' | 'replayed';

export type HandoffResult = { ok: true; session: Session; returnTo: string } | { ok: false; reason: HandoffRefusal };

/** Value kept per used token id; the map holds ids until their token expires. */
export type UsedHandoffs = ExpiringMap<1>;
export const parseUsedHandoff = (stored: unknown): 1 | undefined => (stored === 1 ? 1 : undefined);

/** `now` in milliseconds. Throws for a return URL that has no origin (a caller bug). */
export function createHandoff(keys: PurposeKeys, input: HandoffInput, now: number): string {
  const origin = originOf(input.returnTo);
  if (origin === null) throw new Error(`internal: handoff return URL without an origin: ${input.returnTo}`);
  return seal(
    keys,
    {
      jti: randomBytes(16).toString('base64url'),
      exp: Math.floor(now / 1000) + HANDOFF_LIFETIME_SECONDS,
      origin,
      binding: input.binding,
      returnTo: input.returnTo,
      session: input.session,
    } satisfies z.infer<typeof HandoffPayload>,
    now,
  );
}

/**
 * Checks the token where it is presented, then records its id as used. Every refusal before
 * the last leaves the token unused, so a wrong place cannot burn a user's link.
 */
export function consumeHandoff(keys: PurposeKeys, token: string, place: HandoffPlace, used: UsedHandoffs, now: number): HandoffResult {
  const opened = openSealed(keys, token, now);
  if (!opened.ok) return { ok: false, reason: opened.reason };
  const parsed = HandoffPayload.safeParse(opened.payload);
  if (!parsed.success) return { ok: false, reason: 'invalid' };
  const payload = parsed.data;
  const host = new URL(payload.origin).hostname;
  if (host !== place.host) return { ok: false, reason: 'wrong_host' };
  if (payload.origin !== place.origin) return { ok: false, reason: 'wrong_origin' };
  if (!place.holds(payload.binding)) return { ok: false, reason: 'other_browser' };
  if (!used.add(payload.jti, 1, payload.exp * 1000)) return { ok: false, reason: 'replayed' };
  return { ok: true, session: { ...payload.session, host }, returnTo: payload.returnTo };
}
