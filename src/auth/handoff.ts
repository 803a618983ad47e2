import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { PurposeKeys } from './keys.ts';
import { openSealed, seal } from './seal.ts';
import { Session } from './session.ts';

/**
 * One-time tokens that carry a signed-in session from the sign-in host to a route host (in a
 * redirect URL), so each route host sets its own host-only cookie and no cookie is ever
 * shared between sibling domains. Valid 60 seconds, bound to one host, usable once.
 */

export const HANDOFF_LIFETIME_SECONDS = 60;

const HandoffPayload = z.object({
  jti: z.string().min(1),
  exp: z.number(),
  host: z.string(),
  returnTo: z.string(),
  session: Session.omit({ host: true }),
});

export interface HandoffInput {
  /** The session being handed over; the route host's copy is bound to `host`. */
  session: Omit<Session, 'host'>;
  /** Route host (lowercase, no port) that may consume the token. */
  host: string;
  /** Already validated (safeRedirectTarget) where the token is created. */
  returnTo: string;
}

export type HandoffResult =
  | { ok: true; session: Session; returnTo: string }
  | { ok: false; reason: 'invalid' | 'expired' | 'wrong_host' | 'replayed' };

/** `now` in milliseconds. */
export function createHandoff(keys: PurposeKeys, input: HandoffInput, now: number): string {
  return seal(
    keys,
    {
      jti: randomBytes(16).toString('base64url'),
      exp: Math.floor(now / 1000) + HANDOFF_LIFETIME_SECONDS,
      host: input.host,
      returnTo: input.returnTo,
      session: input.session,
    } satisfies z.infer<typeof HandoffPayload>,
    now,
  );
}

// jti → exp (seconds), per key set. Tokens live 60 s, so this stays as small as the sign-in rate.
const seen = new WeakMap<PurposeKeys, Map<string, number>>();

export function consumeHandoff(keys: PurposeKeys, token: string, expectedHost: string, now: number): HandoffResult {
  const opened = openSealed(keys, token, now);
  if (!opened.ok) return { ok: false, reason: opened.reason };
  const parsed = HandoffPayload.safeParse(opened.payload);
  if (!parsed.success) return { ok: false, reason: 'invalid' };
  const payload = parsed.data;
  if (payload.host !== expectedHost) return { ok: false, reason: 'wrong_host' };

  let used = seen.get(keys);
  if (used === undefined) {
    used = new Map();
    seen.set(keys, used);
  }
  forgetExpired(used, now / 1000);
  if (used.has(payload.jti)) return { ok: false, reason: 'replayed' };
  used.set(payload.jti, payload.exp);
  return { ok: true, session: { ...payload.session, host: payload.host }, returnTo: payload.returnTo };
}

function forgetExpired(used: Map<string, number>, nowSeconds: number): void {
  for (const [jti, exp] of used) if (exp <= nowSeconds) used.delete(jti);
}
