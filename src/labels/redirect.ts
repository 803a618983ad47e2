import { type UpstreamTarget, upstreamTarget } from '../routes/index.ts';
import { fail, ok, type Parsed } from './parsed.ts';

/**
 * `redirect`: the route answers every request it admits with a temporary redirect (307, the
 * method kept) instead of forwarding, and needs no port or target. An origin alone
 * (`https://new.example`) keeps the request's path and query; a URL with a path sends every
 * request to exactly that URL. The container's owner writes it for their own host, which is no
 * open redirect: nothing in the request chooses the destination host. Only absolute http(s)
 * URLs without user info or fragment are taken.
 */
export function parseRedirectTarget(raw: string): Parsed<string> {
  const text = raw.trim();
  if (!/^https?:\/\//i.test(text)) return fail('expected an absolute http(s) URL such as https://new.example.com');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('not a valid URL');
  }
  if (url.username !== '' || url.password !== '') return fail('user info (user@) is not allowed');
  if (url.hash !== '' || text.includes('#')) return fail('a fragment (#) is not allowed');
  return ok(url.href);
}

/** What a redirect route has in place of an upstream: nothing to connect to, always ready. */
export function redirectUpstream(containerId: string): UpstreamTarget {
  return upstreamTarget('redirect:', containerId, true, 'redirect');
}
