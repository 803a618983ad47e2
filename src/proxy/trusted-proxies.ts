import { BlockList, isIP } from 'node:net';

/**
 * Which peers may speak for the client in `X-Forwarded-*`. Default: nobody. A peer outside
 * the list is the client, whatever headers it sends.
 */
export interface TrustedProxies {
  readonly isEmpty: boolean;
  isTrusted(address: string): boolean;
}

/** `10.0.0.0/8`, `172.18.0.2`, `fd00::/8`, `::1`: the formats GATEHOUSE_TRUSTED_PROXIES accepts. */
export function createTrustedProxies(cidrs: readonly string[]): TrustedProxies {
  const list = new BlockList();
  for (const entry of cidrs) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address);
    if (family === 0) throw new Error(`"${entry}" is not an IP address or CIDR`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  const isEmpty = cidrs.length === 0;
  return {
    isEmpty,
    isTrusted(address: string): boolean {
      if (isEmpty) return false;
      const ip = normalizeIp(address);
      const family = isIP(ip);
      if (family === 0) return false;
      // BlockList matches IPv4 rules against IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) itself.
      return list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/** Strips brackets and an IPv6 zone id, and unwraps IPv4-mapped addresses to dotted form. */
export function normalizeIp(address: string): string {
  let ip = address.trim();
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  const zone = ip.indexOf('%');
  if (zone !== -1) ip = ip.slice(0, zone);
  const mapped = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.exec(ip);
  return mapped ? (mapped[1] as string) : ip;
}

/**
 * The client address: the socket peer, unless that peer is a trusted proxy, in which case
 * `X-Forwarded-For` is read right to left, skipping trusted hops, and the first untrusted hop
 * is the client. The leftmost entries are whatever the client chose to send, so they are only
 * reached when every hop to their right is trusted.
 */
export function resolveClientIp(peer: string, forwardedFor: string | undefined, trusted: TrustedProxies): string {
  let client = normalizeIp(peer);
  if (forwardedFor === undefined || !trusted.isTrusted(client)) return client;
  const hops = forwardedFor.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeIp(hops[i] as string);
    // Garbage in the chain came from the untrusted side: stop at the last hop we could vouch for.
    if (isIP(hop) === 0) return client;
    client = hop;
    if (!trusted.isTrusted(hop)) return client;
  }
  return client;
}
