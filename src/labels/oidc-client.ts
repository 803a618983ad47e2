import { fail, ok, splitList, type Parsed } from './parsed.ts';

/**
 * The label grammar of an OpenID client of Gatehouse's provider for apps:
 * `oidc.redirect_uris`, `oidc.client_id` and `oidc.client_secret`. Which redirect URIs a
 * container may register is decided by the translator (redirectUriProblem): a code must only
 * ever travel to a host the same container serves.
 */

const MAX_REDIRECT_URIS = 10;
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Gatehouse's own client at the built-in provider; a label client by that name would only confuse logs. */
const RESERVED_CLIENT_IDS = new Set(['gatehouse']);
const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `https://grafana.example.com/login/generic_oauth, …`: exact URIs, compared as written. */
export function parseRedirectUris(raw: string): Parsed<string[]> {
  const items = splitList(raw);
  if (items.length === 0) return fail('expected one or more redirect URIs such as https://app.example.com/oauth/callback, comma-separated');
  if (items.length > MAX_REDIRECT_URIS) return fail(`at most ${MAX_REDIRECT_URIS} redirect URIs`);
  const uris: string[] = [];
  for (const item of items) {
    const where = items.length > 1 ? `"${item}": ` : '';
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      return fail(`${where}not a valid URL; write an absolute URL such as https://app.example.com/oauth/callback`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return fail(`${where}expected an https URL`);
    if (url.username !== '' || url.password !== '') return fail(`${where}user info (user@) is not allowed`);
    if (url.hash !== '' || item.includes('#')) return fail(`${where}a fragment (#) is not allowed in a redirect URI`);
    if (url.hostname.includes('*')) return fail(`${where}wildcards are not allowed; list each URI`);
    // Compared byte for byte at the provider: keep what the app will send, normalised as URL does.
    if (!uris.includes(url.href)) uris.push(url.href);
  }
  return ok(uris);
}

export function parseClientId(raw: string): Parsed<string> {
  const id = raw.trim();
  if (!CLIENT_ID.test(id)) return fail('expected a client id of letters, digits, ".", "_" and "-", at most 64 characters, starting with a letter or digit');
  if (RESERVED_CLIENT_IDS.has(id.toLowerCase())) return fail(`"${id}" is Gatehouse's own client id; choose another`);
  return ok(id);
}

/** Only `secret:NAME`: a secret written in a label is readable by anyone who can inspect the container. */
export function parseClientSecretRef(raw: string): Parsed<string> {
  const text = raw.trim();
  if (!text.toLowerCase().startsWith('secret:')) {
    return fail('write secret:NAME (a file in GATEHOUSE_LABEL_SECRETS_DIR), or leave the label out for a generated secret; a secret written in a label can be read by anyone who can inspect the container');
  }
  const name = text.slice('secret:'.length).trim();
  if (!SECRET_NAME.test(name) || name.includes('..')) return fail('secret:NAME takes a plain file name: letters, digits, ".", "_" and "-", not starting with "."');
  return ok(name);
}

/**
 * Why a redirect URI may not be registered by a route with these hosts and scheme, or null. The
 * URI's host must be one the same route serves, so a container can never have codes sent to
 * another container's host, to the sign-in host or anywhere else; and its scheme must be the
 * route's (https, unless the route itself is plain http, as on a local test machine).
 */
export function redirectUriProblem(uri: string, hosts: readonly string[], scheme: 'http' | 'https'): string | null {
  const url = new URL(uri);
  const host = url.hostname.replace(/\.$/, '');
  if (!hosts.includes(host)) return `its host ${host} is not one this container serves (${hosts.join(', ')}); an app can only receive codes on its own host`;
  if (url.protocol !== `${scheme}:`) return `expected ${scheme}:, the scheme of the container's own route`;
  return null;
}
