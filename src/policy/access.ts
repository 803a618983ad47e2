import { cidrContains, clientAddressBytes, compileNetwork, type Cidr } from '../labels/index.ts';
import type { RouteAccess } from '../routes/index.ts';
import type { Decision } from './index.ts';

/**
 * A route's network conditions and sign-in requirements, decided apart from its allow and deny
 * lists because they are about the request and the sign-in, not about who the user is:
 *
 * - `networks`: clients outside them are refused before any sign-in (403, never a redirect);
 * - `trusted_networks`: clients inside them pass without signing in, as nobody in particular;
 * - `providers`, `mfa`, `max_age`: a session that was not made the way the route asks for is
 *   not refused but sent to sign in again (auth/ does the step-up).
 *
 * Pure: the caller passes the client address and the time.
 */

const compiled = new WeakMap<readonly string[], readonly Cidr[]>();

function networksOf(list: readonly string[]): readonly Cidr[] {
  let networks = compiled.get(list);
  if (networks === undefined) {
    networks = list.flatMap((text) => {
      const network = compileNetwork(text);
      return network === null ? [] : [network];
    });
    compiled.set(list, networks);
  }
  return networks;
}

/** The first listed network (in the order written) that holds the client, or null. */
function matching(list: readonly string[], clientIp: string | null): string | null {
  if (clientIp === null || list.length === 0) return null;
  const bytes = clientAddressBytes(clientIp);
  if (bytes === null) return null;
  const networks = networksOf(list);
  for (let i = 0; i < networks.length; i++) if (cidrContains(networks[i] as Cidr, bytes)) return list[i] as string;
  return null;
}

/**
 * The decision the client's address alone makes, or null when it makes none. A route limited to
 * networks refuses everyone else, even a listed trusted network never widens that limit.
 */
export function networkAccess(access: RouteAccess, clientIp: string | null): Decision | null {
  if (access.networks.length > 0 && matching(access.networks, clientIp) === null) {
    return { allow: false, reason: 'network', entry: `networks: ${access.networks.join(', ')}` };
  }
  const trusted = matching(access.trustedNetworks, clientIp);
  return trusted === null ? null : { allow: true, reason: 'trusted_network', entry: `trusted_networks: ${trusted}` };
}

/** How the session in hand was made. Times in seconds since the epoch. */
export interface SignInFacts {
  /** The sign-in method (`local`, `google`, …); empty for sessions from before methods were recorded. */
  readonly provider: string;
  /** Whether the sign-in used a second factor, as the provider's amr/acr mapping judged it. */
  readonly mfa: boolean;
  /** When the user last authenticated at the provider (`auth_time`, else the sign-in time). */
  readonly authTime: number;
}

/** What a session lacks for this route, the first that applies; null when it is good enough. */
export type Shortfall = 'provider' | 'mfa' | 'max_age';

export function signInShortfall(access: RouteAccess, facts: SignInFacts, nowSeconds: number): Shortfall | null {
  if (access.providers.length > 0 && !access.providers.includes(facts.provider)) return 'provider';
  if (access.mfa && !facts.mfa) return 'mfa';
  if (access.maxAgeMs !== null && nowSeconds - facts.authTime > Math.floor(access.maxAgeMs / 1000)) return 'max_age';
  return null;
}
