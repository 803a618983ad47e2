/**
 * A small RFC 6265 cookie jar for HTTP-level tests, following browser behaviour closely enough
 * to catch scoping mistakes: host-only vs Domain cookies, Path, expiry, `Secure`, and the
 * `__Host-` / `__Secure-` prefixes. Like Chromium, it treats http://localhost, *.localhost and
 * loopback addresses as secure contexts, so `Secure` cookies set there over plain http are kept
 * and sent back. Ports do not isolate cookies (they never do in browsers). SameSite is not enforced.
 */

export interface StoredCookie {
  name: string;
  value: string;
  domain: string;
  hostOnly: boolean;
  path: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite: string | null;
  /** Epoch milliseconds; null for a session cookie. */
  expires: number | null;
}

export function isSecureContext(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  const host = url.hostname;
  return host === 'localhost' || host.endsWith('.localhost') || host === '127.0.0.1' || host.startsWith('127.') || host === '[::1]';
}

function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.startsWith('[');
}

function domainMatches(host: string, domain: string): boolean {
  return host === domain || (!isIpAddress(host) && host.endsWith(`.${domain}`));
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

function defaultPath(url: URL): string {
  const path = url.pathname;
  const lastSlash = path.lastIndexOf('/');
  return lastSlash <= 0 ? '/' : path.slice(0, lastSlash);
}

export class CookieJar {
  #cookies: StoredCookie[] = [];
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** Stores the cookies of one response; returns the names that were rejected. */
  store(url: URL, setCookieHeaders: readonly string[]): string[] {
    const rejected: string[] = [];
    for (const header of setCookieHeaders) {
      const cookie = this.#parse(url, header);
      if (cookie === null) {
        rejected.push(header.split('=')[0]?.trim() ?? header);
        continue;
      }
      const index = this.#cookies.findIndex((c) => c.name === cookie.name && c.domain === cookie.domain && c.path === cookie.path);
      const live = cookie.expires === null || cookie.expires > this.now();
      // A replaced cookie keeps its place (its creation time, RFC 6265 §5.3 step 11).
      if (index >= 0 && live) this.#cookies[index] = cookie;
      else if (index >= 0) this.#cookies.splice(index, 1);
      else if (live) this.#cookies.push(cookie);
    }
    return rejected;
  }

  /** The cookies a browser would send to `url`, longest path first. */
  matching(url: URL): StoredCookie[] {
    const host = url.hostname.toLowerCase();
    const now = this.now();
    this.#cookies = this.#cookies.filter((c) => c.expires === null || c.expires > now);
    return this.#cookies
      .filter((c) => (c.hostOnly ? c.domain === host : domainMatches(host, c.domain)))
      .filter((c) => pathMatches(url.pathname, c.path))
      .filter((c) => !c.secure || isSecureContext(url))
      .sort((a, b) => b.path.length - a.path.length);
  }

  header(url: URL): string | undefined {
    const cookies = this.matching(url);
    return cookies.length === 0 ? undefined : cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  get(name: string, url?: URL): StoredCookie | undefined {
    const candidates = url === undefined ? this.#cookies : this.matching(url);
    return candidates.find((c) => c.name === name);
  }

  all(): StoredCookie[] {
    return [...this.#cookies];
  }

  clear(): void {
    this.#cookies = [];
  }

  #parse(url: URL, header: string): StoredCookie | null {
    const [pair = '', ...attributes] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq < 0) return null;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (name === '') return null;
    const host = url.hostname.toLowerCase();
    const cookie: StoredCookie = { name, value, domain: host, hostOnly: true, path: defaultPath(url), secure: false, httpOnly: false, sameSite: null, expires: null };
    let maxAge: number | null = null;
    let domainAttribute = false;
    let pathAttribute: string | null = null;
    for (const attribute of attributes) {
      const index = attribute.indexOf('=');
      const key = (index < 0 ? attribute : attribute.slice(0, index)).trim().toLowerCase();
      const raw = index < 0 ? '' : attribute.slice(index + 1).trim();
      if (key === 'domain' && raw !== '') {
        const domain = raw.replace(/^\./, '').toLowerCase();
        if (!domainMatches(host, domain)) return null;
        cookie.domain = domain;
        cookie.hostOnly = false;
        domainAttribute = true;
      } else if (key === 'path' && raw.startsWith('/')) {
        pathAttribute = raw;
      } else if (key === 'max-age' && /^-?\d+$/.test(raw)) {
        maxAge = Number(raw);
      } else if (key === 'expires') {
        const time = Date.parse(raw);
        if (!Number.isNaN(time)) cookie.expires = time;
      } else if (key === 'secure') {
        cookie.secure = true;
      } else if (key === 'httponly') {
        cookie.httpOnly = true;
      } else if (key === 'samesite') {
        cookie.sameSite = raw.toLowerCase();
      }
    }
    if (pathAttribute !== null) cookie.path = pathAttribute;
    if (maxAge !== null) cookie.expires = this.now() + maxAge * 1000;
    if (cookie.secure && !isSecureContext(url)) return null;
    if (name.startsWith('__Secure-') && !cookie.secure) return null;
    if (name.startsWith('__Host-') && (!cookie.secure || domainAttribute || cookie.path !== '/')) return null;
    return cookie;
  }
}
