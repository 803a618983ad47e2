import type { Target } from './origins.ts';

/**
 * Where a browser may be sent after sign-in or sign-out. Only absolute http(s) URLs whose exact
 * origin (scheme, host and port) `isKnown` accepts pass; everything else becomes the fallback.
 *
 * The check is two-sided on purpose. The raw text must look like a plain URL (an explicit
 * `http://` or `https://`, no whitespace or controls, no backslash, no userinfo, no percent
 * escapes in the authority), because browsers forgive what a parser might read differently.
 * Then the WHATWG parser, the one browsers use, decides the host that is checked, so IDN
 * mappings and numeric hosts are judged by what the browser will actually connect to.
 */

const MAX_LENGTH = 4_096;
// Any C0 control, space, DEL, the C1 controls, and the Unicode spaces, separators and BOM.
const UNSAFE_CHARS = /[\u0000-\u0020\u007f-\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]/;
const SCHEME = /^https?:\/\//i;

export function safeRedirectTarget(raw: string | undefined, isKnown: (target: Target) => boolean, fallback: string): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_LENGTH) return fallback;
  if (UNSAFE_CHARS.test(raw) || raw.includes('\\')) return fallback;
  if (!SCHEME.test(raw)) return fallback;
  const rest = raw.slice(raw.indexOf('//') + 2);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  // Empty authority covers `https:///evil.com`, which parsers resolve to evil.com.
  if (authority === '' || /[@%]/.test(authority)) return fallback;

  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fallback;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fallback;
  if (url.username !== '' || url.password !== '') return fallback;
  let host = url.hostname;
  if (host.endsWith('.')) {
    host = host.slice(0, -1);
    if (host === '' || host.endsWith('.')) return fallback;
    url.hostname = host;
    if (url.hostname !== host) return fallback;
  }
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  const port = url.port === '' ? (scheme === 'https' ? 443 : 80) : Number(url.port);
  if (!isKnown({ scheme, host, port })) return fallback;
  return url.href;
}
