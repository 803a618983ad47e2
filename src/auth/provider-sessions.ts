import { decodeJwt } from 'jose';
import type { ExpiringMap } from '../state/index.ts';

/**
 * Sign-out that ends the identity provider's own session on the server. With the built-in
 * provider Gatehouse can do it directly: each Gatehouse session remembers the provider session
 * id (`sid` in the ID token it came from), and signing out destroys that provider session and
 * its grants, whether or not the browser ever reaches the provider afterwards. A copied
 * provider cookie then signs nobody in. Outside providers keep RP-initiated logout.
 */
export interface ProviderSessions {
  /** At sign-in: links the Gatehouse session to the provider session its ID token names. */
  remember(gatehouseSid: string, idToken: string, expSeconds: number): void;
  /** At sign-out: true when the provider session was ended here (no browser hop needed). */
  end(gatehouseSid: string): Promise<boolean>;
}

/** The built-in provider's side: ends one of its sessions and the grants made in it. */
export type EndProviderSession = (providerSid: string) => Promise<boolean>;

export function createProviderSessions(endSession: EndProviderSession | null, links: ExpiringMap<string>): ProviderSessions {
  return {
    remember(gatehouseSid, idToken, expSeconds) {
      if (endSession === null) return;
      let sid: unknown;
      try {
        sid = decodeJwt(idToken)['sid'];
      } catch {
        return;
      }
      if (typeof sid === 'string' && sid.length > 0 && sid.length <= 256) links.set(gatehouseSid, sid, expSeconds * 1000);
    },
    async end(gatehouseSid) {
      if (endSession === null) return false;
      const providerSid = links.get(gatehouseSid);
      // Unknown here (e.g. signed in before a restart): the browser hop to the provider does it.
      if (providerSid === undefined) return false;
      if (providerSid === ENDED) return true;
      const ended = await endSession(providerSid);
      // Kept as ended, so the sign-in host's half of the same sign-out skips the provider hop too.
      if (ended) links.set(gatehouseSid, ENDED, Date.now() + ENDED_KEPT_MS);
      return ended;
    },
  };
}

const ENDED = '';
const ENDED_KEPT_MS = 10 * 60_000;

export const parseProviderLink = (stored: unknown): string | undefined => (typeof stored === 'string' ? stored : undefined);
