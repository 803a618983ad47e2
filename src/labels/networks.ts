import { cidrContains, parseCidr, parseIpAddress, type AddressBytes, type Cidr } from './targets.ts';

/**
 * Client networks as written in `ip:` policy entries, `networks` and `trusted_networks`:
 * `192.168.1.0/24`, `10.0.0.5`, `fd00::/8`, `::1`. Parsing reuses the upstream target rules'
 * CIDR grammar; this adds what a client condition needs on top: host bits must be zero
 * (`192.168.1.7/24` is a typo for either the network or the one address), one canonical text
 * per network, and IPv4-mapped IPv6 written as the IPv4 network it means.
 */

/** The canonical text of the network, or null when it is not one. */
export function parseNetworkText(raw: string): string | null {
  const cidr = parseCidr(raw);
  if (cidr === null) return null;
  const { bytes, bits } = unmapped(cidr);
  for (let bit = bits; bit < bytes.length * 8; bit++) {
    if (((bytes[bit >> 3] as number) >> (7 - (bit & 7))) & 1) return null;
  }
  const address = bytes.length === 4 ? bytes.join('.') : formatIpv6(bytes);
  return bits === bytes.length * 8 ? address : `${address}/${bits}`;
}

/** A network text from parseNetworkText, ready to match; null for anything else. */
export function compileNetwork(text: string): Cidr | null {
  const cidr = parseCidr(text);
  return cidr === null ? null : unmapped(cidr);
}

/**
 * Whether the client address (as the proxy reports it: IPv4-mapped already unwrapped, but
 * accepted here in either form) lies in the network. Families never mix.
 */
export function networkContains(network: Cidr, address: string): boolean {
  const bytes = clientAddressBytes(address);
  return bytes !== null && cidrContains(network, bytes);
}

/**
 * The client address as bytes, IPv4-mapped IPv6 unwrapped; null for anything else. Parse once
 * per request and test each network with `cidrContains`.
 */
export function clientAddressBytes(address: string): AddressBytes | null {
  let bytes = recent.get(address);
  if (bytes !== undefined) return bytes;
  const parsed = parseIpAddress(address);
  bytes = parsed === null ? null : Object.freeze(unmapped({ bytes: parsed, bits: parsed.length * 8 }).bytes);
  // The same few client addresses come back request after request; a bounded memo keeps the
  // parse off the hot path without letting many addresses grow it.
  if (recent.size >= RECENT_LIMIT) recent.clear();
  recent.set(address, bytes);
  return bytes;
}

const RECENT_LIMIT = 4_096;
const recent = new Map<string, AddressBytes | null>();

export { cidrContains };

/** `::ffff:10.0.0.0/104` is `10.0.0.0/8`: a dual-stack socket reports IPv4 clients in that form. */
function unmapped(cidr: Cidr): Cidr {
  const b = cidr.bytes;
  if (b.length === 16 && cidr.bits >= 96 && b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    return { bytes: b.slice(12), bits: cidr.bits - 96 };
  }
  return cidr;
}

/** RFC 5952: lowercase, no leading zeros, the longest run of two or more zero groups as `::`. */
function formatIpv6(bytes: readonly number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

