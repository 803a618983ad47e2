import { decodeJwt } from 'jose';
import type { ExpiringMap } from '../state/index.ts';

/**
 * Sign-out that ends the identity provider's own session on the server. With the built-in
 * provider Gatehouse can do it directly: each Gatehouse session remembers which provider session
 * it came from (the ID token's `sub` and `auth_time`, the provider session's account and sign-in
 * time), and signing out destroys that provider session and its grants, whether or not the browser ever reaches the provider afterwards. A copied
 * provider cookie then signs nobody in. Outside providers keep RP-initiated logout.
 */
export interface ProviderSessions {
  /** At sign-in: links the Gatehouse session to the provider session its ID token came from. */
  remember(gatehouseSid: string, idToken: string, expSeconds: number): void;
  /** At sign-out: true when the provider session was ended here (no browser hop needed). */
  end(gatehouseSid: string): Promise<boolean>;
}

/** Which provider session: its account and the time the user signed in there (seconds). */
export interface ProviderSessionRef {
  readonly sub: string;
  readonly authTime: number;
}

/** The built-in provider's side: ends one of its sessions and the grants made in it. */
export type EndProviderSession = (session: ProviderSessionRef) => Promise<boolean>;

export function createProviderSessions(endSession: EndProviderSession | null, links: ExpiringMap<string>): ProviderSessions {
  return {
    remember(gatehouseSid, idToken, expSeconds) {
      if (endSession === null) return;
      let claims: Record<string, unknown>;
      try {
        claims = decodeJwt(idToken);
      } catch {
        return;
      }
      const { sub, auth_time: authTime } = claims;
      if (typeof sub === 'string' && sub.length > 0 && sub.length <= 256 && typeof authTime === 'number') {
        links.set(gatehouseSid, JSON.stringify({ sub, authTime } satisfies ProviderSessionRef), expSeconds * 1000);
      }
    },
    async end(gatehouseSid) {
      if (endSession === null) return false;
      const link = links.get(gatehouseSid);
      // Unknown here (e.g. signed in before a restart): the browser hop to the provider does it.
      if (link === undefined) return false;
      if (link === ENDED) return true;
      const ended = await endSession(JSON.parse(link) as ProviderSessionRef);
      // Kept as ended, so the sign-in host's half of the same sign-out skips the provider hop too.
      if (ended) links.set(gatehouseSid, ENDED, Date.now() + ENDED_KEPT_MS);
      return ended;
    },
  };
}

const ENDED = '';
const ENDED_KEPT_MS = 10 * 60_000;

export const parseProviderLink = (stored: unknown): string | undefined => (typeof stored === 'string' ? stored : undefined);
