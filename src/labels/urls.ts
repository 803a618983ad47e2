import { fail, ok, type Parsed, splitList } from './parsed.ts';
import { forbiddenTargetReason } from './targets.ts';

import type { FromValue } from '../routes/index.ts';

export type { FromValue };

const ABSOLUTE_HTTP = /^https?:\/\//i;

/** Problems do not repeat the text: callers show it once, next to the label or list item. */
function parseHttpUrl(text: string): Parsed<URL> {
  if (!ABSOLUTE_HTTP.test(text)) return fail('expected an http(s) URL such as https://app.example.com');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('not a valid URL');
  }
  if (url.username !== '' || url.password !== '') return fail('user info (user@) is not allowed');
  if (url.search !== '' || text.includes('?')) return fail('a query (?) is not allowed');
  if (url.hash !== '' || text.includes('#')) return fail('a fragment (#) is not allowed');
  if (url.hostname.includes('*')) return fail('wildcard hosts are not supported; list each host');
  return ok(url);
}

/**
 * `https://host`, `http://host:port/`: lowercase letters, digits and inner hyphens in dot-separated
 * labels, the last starting with a letter (else the URL parser reads the host as an IPv4 number),
 * no `xn--` label (the URL parser checks punycode), a port of at most 65535, no user info, path,
 * query or fragment. For these the URL parser gives the host exactly as written, so they are read
 * by this scan (no allocation but the host); everything else goes through the URL parser.
 * Returns where the host ends, or -1 when the text is not of this plain form.
 */
function plainHostEnd(text: string, start: number): number {
  let end = text.length;
  if (end > start && text.charCodeAt(end - 1) === SLASH) end--;
  let hostEnd = end;
  const colon = text.indexOf(':', start);
  if (colon !== -1) {
    const digits = end - colon - 1;
    if (digits < 1 || digits > 5) return -1;
    let port = 0;
    for (let i = colon + 1; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c < DIGIT_0 || c > DIGIT_9) return -1;
      port = port * 10 + (c - DIGIT_0);
    }
    if (port > 65535) return -1;
    hostEnd = colon;
  }
  if (hostEnd === start) return -1;
  let labelStart = start;
  for (let i = start; i <= hostEnd; i++) {
    const c = i === hostEnd ? DOT : text.charCodeAt(i);
    if (c === DOT) {
      // A label: not empty, not ending in a hyphen (its first character was checked below).
      if (i === labelStart || text.charCodeAt(i - 1) === HYPHEN) return -1;
      labelStart = i + 1;
      continue;
    }
    const lower = c >= LOWER_A && c <= LOWER_Z;
    if (i === labelStart ? !lower && !(c >= DIGIT_0 && c <= DIGIT_9) : !lower && !(c >= DIGIT_0 && c <= DIGIT_9) && c !== HYPHEN) return -1;
  }
  // The last label starts with a letter: a number there makes the URL parser read an IPv4 address.
  const last = text.lastIndexOf('.', hostEnd - 1);
  const first = text.charCodeAt(last < start ? start : last + 1);
  if (first < LOWER_A || first > LOWER_Z) return -1;
  const punycode = text.indexOf('xn--', start);
  if (punycode !== -1 && punycode < hostEnd) return -1;
  return hostEnd;
}

const SLASH = 47;
const DOT = 46;
const HYPHEN = 45;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const LOWER_A = 97;
const LOWER_Z = 122;

/** Where the host of a plain `http://` or `https://` URL starts; -1 for any other text. */
function plainHostStart(text: string): number {
  if (text.startsWith('https://')) return 8;
  if (text.startsWith('http://')) return 7;
  return -1;
}

/** The scheme and host of a plain URL (see plainHostEnd) as the URL parser would give them; null for any other text. */
export function plainHttpUrl(text: string): { scheme: 'http' | 'https'; host: string } | null {
  const start = plainHostStart(text);
  const end = start === -1 ? -1 : plainHostEnd(text, start);
  return end === -1 ? null : { scheme: start === 8 ? 'https' : 'http', host: text.slice(start, end) };
}

/** `https://wiki.example.com, https://w.example.com`: the hosts a route answers on. */
export function parseFrom(raw: string): Parsed<FromValue> {
  // One plain URL, as nearly every container writes it: what the loop below would give for it.
  if (!raw.includes(',')) {
    const item = raw.trim();
    const start = plainHostStart(item);
    const end = start === -1 ? -1 : plainHostEnd(item, start);
    if (end !== -1) return ok({ hosts: [item.slice(start, end)], scheme: start === 8 ? 'https' : 'http' });
  }
  const items = splitList(raw);
  if (items.length === 0) return fail('expected one or more URLs such as https://app.example.com, comma-separated');
  const hosts: string[] = [];
  let scheme: FromValue['scheme'] | null = null;
  const where = (item: string) => (items.length > 1 ? `"${item}": ` : '');
  for (const item of items) {
    const plain = plainHttpUrl(item);
    if (plain !== null) {
      if (scheme !== null && plain.scheme !== scheme) return fail('all from URLs of a route must use the same scheme');
      scheme = plain.scheme;
      if (!hosts.includes(plain.host)) hosts.push(plain.host);
      continue;
    }
    const parsed = parseHttpUrl(item);
    if (!parsed.ok) return fail(`${where(item)}${parsed.problem}`);
    const url = parsed.value;
    if (url.pathname !== '/') return fail(`${where(item)}from takes no path; set the path key for a path prefix`);
    const itemScheme = url.protocol === 'https:' ? 'https' : 'http';
    if (scheme !== null && itemScheme !== scheme) return fail('all from URLs of a route must use the same scheme');
    scheme = itemScheme;
    // Requests are matched by Host without its trailing dot, so the route must be keyed the same way.
    const host = url.hostname.replace(/\.$/, '');
    if (!hosts.includes(host)) hosts.push(host);
  }
  return ok({ hosts, scheme: scheme ?? 'https' });
}

/**
 * An upstream origin such as `http://192.168.1.20:32400`. Container labels may not point at
 * loopback, link-local or cloud-metadata addresses: whoever can start a container would
 * otherwise reach Gatehouse's own host services through it. The operator's routes file may.
 */
export function parseTarget(raw: string, options: { allowLocal: boolean }): Parsed<string> {
  const text = raw.trim();
  const parsed = parseHttpUrl(text);
  if (!parsed.ok) return parsed;
  const url = parsed.value;
  if (url.pathname !== '/') return fail('the target is an origin only (scheme, host, port), without a path');
  if (!options.allowLocal) {
    const reason = forbiddenTargetReason(url.hostname);
    if (reason !== null) return { ok: false, problem: `points at ${reason}, which container labels may not target`, forbidden: true };
  }
  return ok(url.origin);
}

/**
 * `https://app.example.com, http://app.local:8080`: exact origins (scheme, host, port), as a
 * browser sends them in `Origin`. Kept in the browser's serialisation, so comparing is `===`.
 */
export function parseOriginList(raw: string): Parsed<string[]> {
  const origins: string[] = [];
  for (const item of splitList(raw)) {
    const parsed = parseHttpUrl(item);
    if (!parsed.ok) return fail(`"${item}": ${parsed.problem}`);
    if (parsed.value.pathname !== '/') {
      return fail(`"${item}": an origin is scheme, host and port only, without a path`);
    }
    if (!origins.includes(parsed.value.origin)) origins.push(parsed.value.origin);
  }
  return ok(origins);
}
