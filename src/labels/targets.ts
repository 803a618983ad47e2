/**
 * Upstream addresses a container label must never reach. Two checks share one deny-list:
 * `forbiddenTargetReason` reads a URL's host name as the label wrote it (names and literals, as
 * the WHATWG URL parser leaves them), and `targetAddressReason` reads every address a name
 * resolves to, both when the table is built and again when Gatehouse connects, since DNS can
 * change in between. Pure: resolving names and knowing Gatehouse's own endpoints is the
 * caller's job.
 */

/** Names that always mean a cloud metadata service, whatever they resolve to here. */
const METADATA_HOSTS = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
  'metadata.azure.internal',
]);

const LOOPBACK = 'the loopback interface';
const UNSPECIFIED = 'the unspecified address (the local host)';
const METADATA = 'a cloud metadata service';
const LINK_LOCAL = 'a link-local address';

export function forbiddenTargetReason(hostname: string): string | null {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return LOOPBACK;
  if (METADATA_HOSTS.has(host)) return METADATA;
  const bytes = parseIpAddress(host);
  return bytes === null ? null : builtInReason(bytes);
}

/** An address as bytes: 4 for IPv4, 16 for IPv6. */
export type AddressBytes = readonly number[];

/**
 * `192.0.2.1`, `::1`, `[::1]`, `::ffff:192.0.2.1` → bytes; null for anything else (names, zone
 * ids, shorthand IPv4 such as `127.1`, which resolvers and the URL parser never hand over).
 */
export function parseIpAddress(text: string): AddressBytes | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  return bare.includes(':') ? parseIpv6(bare) : parseIpv4(bare);
}

function parseIpv4(text: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const octets = m.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

function parseIpv6(text: string): number[] | null {
  let head = text;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === null) return null;
    tail = v4;
    // `::1.2.3.4` keeps its `::`; `::ffff:1.2.3.4` drops the colon before the dotted part.
    head = text.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const wanted = 8 - tail.length / 2;
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (part: string | undefined) => (part === undefined || part === '' ? [] : part.split(':'));
  const first = groupsOf(halves[0]);
  const second = groupsOf(halves[1]);
  const missing = wanted - first.length - second.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...first, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...second];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  const bytes: number[] = [];
  for (const group of groups) {
    const value = Number.parseInt(group, 16);
    bytes.push(value >> 8, value & 0xff);
  }
  return [...bytes, ...tail];
}

/** The IPv4 address an IPv6 address carries, in every form that reaches it; null when none. */
export function embeddedIpv4(bytes: AddressBytes): AddressBytes | null {
  if (bytes.length !== 16) return null;
  const zero = (from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);
  const at = (...indexes: number[]) => indexes.map((i) => bytes[i] as number);
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (the old compatible form).
  if (zero(0, 10) && ((bytes[10] === 0xff && bytes[11] === 0xff) || (bytes[10] === 0 && bytes[11] === 0))) return at(12, 13, 14, 15);
  // ::ffff:0:a.b.c.d (SIIT, IPv4-translated).
  if (zero(0, 8) && bytes[8] === 0xff && bytes[9] === 0xff && zero(10, 12)) return at(12, 13, 14, 15);
  // 64:ff9b::/96 (NAT64, well-known prefix).
  if (bytes[0] === 0 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && zero(4, 12)) return at(12, 13, 14, 15);
  // 64:ff9b:1::/48 (NAT64, local use): RFC 6052 puts the address around the reserved octet 8.
  if (bytes[0] === 0 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && bytes[4] === 0 && bytes[5] === 1) return at(6, 7, 9, 10);
  // 2002:a.b.c.d::/48 (6to4).
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return at(2, 3, 4, 5);
  return null;
}

/** The built-in deny-list, on bytes: loopback, unspecified, link-local, metadata, in any embedded form. */
export function builtInReason(bytes: AddressBytes): string | null {
  if (bytes.length === 4) return ipv4Reason(bytes);
  const v4 = embeddedIpv4(bytes);
  const own = ipv6Reason(bytes);
  if (own !== null) return own;
  return v4 === null ? null : ipv4Reason(v4);
}

function ipv4Reason([a, b, c, d]: AddressBytes): string | null {
  if (a === 127) return LOOPBACK;
  if (a === 0) return UNSPECIFIED;
  if (a === 169 && b === 254 && c === 169 && d === 254) return METADATA;
  // AWS ECS task metadata.
  if (a === 169 && b === 254 && c === 170 && d === 2) return METADATA;
  if (a === 169 && b === 254) return LINK_LOCAL;
  // Alibaba Cloud.
  if (a === 100 && b === 100 && c === 100 && d === 200) return METADATA;
  // Azure's WireServer.
  if (a === 168 && b === 63 && c === 129 && d === 16) return METADATA;
  return null;
}

function ipv6Reason(bytes: AddressBytes): string | null {
  const zero = (from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);
  if (zero(0, 15) && bytes[15] === 1) return LOOPBACK;
  // `::` needs no line of its own: it is the IPv4-compatible form of 0.0.0.0, unspecified too.
  // fd00:ec2::254, AWS's IPv6 metadata endpoint.
  if (bytes[0] === 0xfd && bytes[1] === 0x00 && bytes[2] === 0x0e && bytes[3] === 0xc2 && zero(4, 14) && bytes[14] === 0x02 && bytes[15] === 0x54) {
    return METADATA;
  }
  if (bytes[0] === 0xfe && ((bytes[1] as number) & 0xc0) === 0x80) return LINK_LOCAL;
  return null;
}

/** A CIDR block (`10.0.0.0/8`, `fd00::/8`) or one address (a /32 or /128). */
export interface Cidr {
  readonly bytes: AddressBytes;
  readonly bits: number;
}

export function parseCidr(text: string): Cidr | null {
  const [address = '', bits, extra] = text.trim().split('/');
  if (extra !== undefined) return null;
  const bytes = parseIpAddress(address);
  if (bytes === null) return null;
  const max = bytes.length * 8;
  if (bits === undefined) return { bytes, bits: max };
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return null;
  return { bytes, bits: Number(bits) };
}

export function cidrContains(cidr: Cidr, bytes: AddressBytes): boolean {
  if (cidr.bytes.length !== bytes.length) return false;
  let left = cidr.bits;
  for (let i = 0; left > 0; i++, left -= 8) {
    const mask = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
    if (((cidr.bytes[i] as number) & mask) !== ((bytes[i] as number) & mask)) return false;
  }
  return true;
}

/** One of Gatehouse's own endpoints: a listener, its container's address, the Docker API. */
export interface OwnEndpoint {
  readonly address: string;
  /** null: every port of the address. */
  readonly port: number | null;
  /** What it is, for the refusal: `Gatehouse's admin listener`. */
  readonly what: string;
}

/** What a label route may connect to, beyond the built-in deny-list. */
export interface TargetRules {
  /** GATEHOUSE_UPSTREAM_ALLOW: lifts the built-in deny-list for these blocks, and only there. */
  readonly allow: readonly Cidr[];
  /** GATEHOUSE_UPSTREAM_DENY: refused on top of the built-in deny-list. */
  readonly deny: readonly Cidr[];
  /** Gatehouse's own endpoints: refused always, whatever `allow` says. */
  readonly own: readonly OwnEndpoint[];
}

export const NO_TARGET_RULES: TargetRules = Object.freeze({ allow: [], deny: [], own: [] });

/**
 * Why a label route may not connect to `address` on `port`, or null when it may. The address
 * is read with every IPv4 address it embeds, so `::ffff:127.0.0.1` and `64:ff9b::7f00:1` meet
 * the same rules as `127.0.0.1`. An address that is not an IP address at all is refused: this
 * is called with resolver answers, which always are.
 */
export function targetAddressReason(rules: TargetRules, address: string, port: number): string | null {
  const bytes = parseIpAddress(address);
  if (bytes === null) return 'an address that is not an IP address';
  return targetBytesReason(rules, bytes, port);
}

/** targetAddressReason for an address already read as bytes. */
export function targetBytesReason(rules: TargetRules, bytes: AddressBytes, port: number): string | null {
  const v4 = embeddedIpv4(bytes);
  const own = ownAddresses(rules.own);
  for (let i = 0; i < own.length; i++) {
    const endpoint = rules.own[i] as OwnEndpoint;
    const address = own[i];
    if (address === null || address === undefined || (endpoint.port !== null && endpoint.port !== port)) continue;
    if (sameBytes(bytes, address) || (v4 !== null && sameBytes(v4, address))) return endpoint.what;
  }
  if (inAny(rules.deny, bytes, v4)) return 'a range GATEHOUSE_UPSTREAM_DENY refuses';
  if (inAny(rules.allow, bytes, v4)) return null;
  return builtInReason(bytes);
}

/** Whether the address, or the IPv4 address it embeds, is in one of the blocks. */
function inAny(blocks: readonly Cidr[], bytes: AddressBytes, v4: AddressBytes | null): boolean {
  for (const cidr of blocks) if (cidrContains(cidr, bytes) || (v4 !== null && cidrContains(cidr, v4))) return true;
  return false;
}

/**
 * Own endpoints' addresses as bytes, parsed once per list: this is asked for every label route
 * of every build and for every connection, and Gatehouse's listeners on each address of the
 * machine make a dozen endpoints or more. Only a frozen list is remembered (createTargetRules
 * makes a new frozen one whenever they change); any other is parsed on each call.
 */
const PARSED_OWN = new WeakMap<readonly OwnEndpoint[], readonly (AddressBytes | null)[]>();

function ownAddresses(own: readonly OwnEndpoint[]): readonly (AddressBytes | null)[] {
  if (!Object.isFrozen(own)) return own.map((endpoint) => parseIpAddress(endpoint.address));
  let parsed = PARSED_OWN.get(own);
  if (parsed === undefined) {
    parsed = Object.freeze(own.map((endpoint) => parseIpAddress(endpoint.address)));
    PARSED_OWN.set(own, parsed);
  }
  return parsed;
}

function sameBytes(a: AddressBytes, b: AddressBytes): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
