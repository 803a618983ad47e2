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
 * no `xn--` label (the URL parser checks punycode), no user info, query or fragment. For these the
 * URL parser returns the host exactly as written; everything else goes through it.
 */
const PLAIN_HTTP_URL = /^(https?):\/\/((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z](?:[a-z0-9-]*[a-z0-9])?)(?::(\d{1,5}))?\/?$/;

/** The scheme and host of a plain URL (see PLAIN_HTTP_URL) as the URL parser would give them; null for any other text. */
export function plainHttpUrl(text: string): { scheme: 'http' | 'https'; host: string } | null {
  const m = PLAIN_HTTP_URL.exec(text);
  if (m === null) return null;
  const host = m[2] as string;
  if (host.includes('xn--') || (m[3] !== undefined && Number(m[3]) > 65535)) return null;
  return { scheme: m[1] === 'https' ? 'https' : 'http', host };
}

/** `https://wiki.example.com, https://w.example.com`: the hosts a route answers on. */
export function parseFrom(raw: string): Parsed<FromValue> {
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
