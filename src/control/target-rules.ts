import { NO_TARGET_RULES, parseCidr, type Cidr, type OwnEndpoint, type TargetRules } from '../labels/index.ts';

/**
 * The one current set of target rules, shared by the table build and the proxy's connect-time
 * check: the operator's CIDR lists, plus Gatehouse's own endpoints as they become known (its
 * listeners once they listen, its container's addresses from each listing).
 */
export interface TargetRulesHolder {
  current(): TargetRules;
  /** Replaces the endpoints of one kind (`listeners`, `container`, `docker`). */
  setOwn(kind: string, endpoints: readonly OwnEndpoint[]): void;
}

export function createTargetRules(options: { allow?: readonly string[]; deny?: readonly string[] } = {}): TargetRulesHolder {
  const allow = cidrsOf(options.allow ?? []);
  const deny = cidrsOf(options.deny ?? []);
  const own = new Map<string, readonly OwnEndpoint[]>();
  let current: TargetRules = allow.length === 0 && deny.length === 0 ? NO_TARGET_RULES : Object.freeze({ allow, deny, own: [] });
  return {
    current: () => current,
    setOwn(kind, endpoints) {
      own.set(kind, Object.freeze([...endpoints]));
      current = Object.freeze({ allow, deny, own: Object.freeze([...own.values()].flat()) });
    },
  };
}

function cidrsOf(texts: readonly string[]): Cidr[] {
  return texts.map((text) => {
    const cidr = parseCidr(text);
    // config/ has validated every item already.
    if (cidr === null) throw new TypeError(`not a CIDR: ${text}`);
    return cidr;
  });
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/**
 * Gatehouse's listeners as endpoints: a wildcard listener is reachable on every address of the
 * machine, so each of those with the listener's port; a specific one on its own address.
 * Whole addresses are never refused here, so the Docker bridge gateway stays usable for apps
 * on the host network.
 */
export function listenerEndpoints(
  listeners: readonly { host: string; port: number; what: string }[],
  interfaceAddresses: readonly string[],
): OwnEndpoint[] {
  const endpoints: OwnEndpoint[] = [];
  for (const listener of listeners) {
    const addresses = WILDCARDS.has(listener.host) ? interfaceAddresses : [listener.host];
    for (const address of addresses) endpoints.push({ address, port: listener.port, what: listener.what });
  }
  return endpoints;
}
