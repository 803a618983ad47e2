/**
 * Upstream addresses a container label must never name. Hostnames are checked as the WHATWG URL
 * parser leaves them: IPv4 in dotted decimal (it already rewrote 0x7f.1 and 2130706433) and
 * IPv6 in brackets, compressed, in hex.
 */

const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata.goog', 'instance-data.ec2.internal']);

export function forbiddenTargetReason(hostname: string): string | null {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return 'the loopback interface';
  if (METADATA_HOSTS.has(host)) return 'a cloud metadata service';
  if (host.startsWith('[') && host.endsWith(']')) {
    const hextets = expandIpv6(host.slice(1, -1));
    return hextets === null ? null : ipv6Reason(hextets);
  }
  const v4 = parseIpv4(host);
  return v4 === null ? null : ipv4Reason(v4);
}

function parseIpv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const octets = m.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

function ipv4Reason([a, b, c, d]: number[]): string | null {
  if (a === 127) return 'the loopback interface';
  if (a === 0) return 'the unspecified address (the local host)';
  if (a === 169 && b === 254 && c === 169 && d === 254) return 'a cloud metadata service';
  if (a === 169 && b === 254) return 'a link-local address';
  if (a === 100 && b === 100 && c === 100 && d === 200) return 'a cloud metadata service';
  return null;
}

function ipv6Reason(h: number[]): string | null {
  const zeros = (n: number) => h.slice(0, n).every((x) => x === 0);
  if (zeros(7) && h[7] === 1) return 'the loopback interface';
  if (zeros(8)) return 'the unspecified address (the local host)';
  if (h[0] === 0xfd00 && h[1] === 0x0ec2 && h.slice(2, 7).every((x) => x === 0) && h[7] === 0x254) return 'a cloud metadata service';
  if (((h[0] as number) & 0xffc0) === 0xfe80) return 'a link-local address';
  // IPv4-mapped (::ffff:a.b.c.d) and the old IPv4-compatible form (::a.b.c.d) reach the IPv4 address.
  if (zeros(5) && (h[5] === 0xffff || h[5] === 0)) {
    const v4 = [(h[6] as number) >> 8, (h[6] as number) & 0xff, (h[7] as number) >> 8, (h[7] as number) & 0xff];
    return ipv4Reason(v4);
  }
  return null;
}

/** Eight 16-bit groups, or null when the text is not plain hex IPv6 (the URL parser's form). */
function expandIpv6(text: string): number[] | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string | undefined) => (part === undefined || part === '' ? [] : part.split(':'));
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  return groups.map((g) => Number.parseInt(g, 16));
}
