import type { RouteTable } from '../routes/index.ts';

/**
 * The exact origins (scheme, host and port) Gatehouse answers for: the sign-in URL, and each
 * route host on the ports users reach Gatehouse at. A browser sent anywhere else after
 * sign-in (another port of the same host name, plain http for an https app) would carry a
 * handoff token to whatever listens there, so only these origins may receive one.
 *
 * Every host is served on the same front door as the sign-in URL: its scheme on its port. Beside
 * an http sign-in URL, https counts on Gatehouse's own https port when it serves TLS, else on the
 * sign-in URL's port (a TLS proxy in front); plain http beside an https sign-in URL never counts.
 */

export type Scheme = 'http' | 'https';

export interface Target {
  readonly scheme: Scheme;
  /** Lowercase, no port, no trailing dot. */
  readonly host: string;
  readonly port: number;
}

export interface FrontDoor {
  readonly authScheme: Scheme;
  readonly authHost: string;
  readonly authPort: number;
  /** With an http sign-in URL: the https port users see (Gatehouse's own TLS, or a proxy in front on the same port). */
  readonly httpsPublicPort: number | null;
}

export const DEFAULT_PORT: Readonly<Record<Scheme, number>> = Object.freeze({ http: 80, https: 443 });

export function frontDoor(authUrl: string, httpsPublicPort: number | null): FrontDoor {
  const url = new URL(authUrl);
  const authScheme: Scheme = url.protocol === 'https:' ? 'https' : 'http';
  return {
    authScheme,
    authHost: url.hostname.toLowerCase().replace(/\.$/, ''),
    authPort: url.port === '' ? DEFAULT_PORT[authScheme] : Number(url.port),
    httpsPublicPort: authScheme === 'https' ? null : (httpsPublicPort ?? (url.port === '' ? DEFAULT_PORT.http : Number(url.port))),
  };
}

/** The port users reach Gatehouse at for this scheme, or null when Gatehouse does not serve it. */
export function publicPort(door: FrontDoor, scheme: Scheme): number | null {
  if (scheme === door.authScheme) return door.authPort;
  return scheme === 'https' ? door.httpsPublicPort : null;
}

/** Whether a browser may be sent to this origin with a session (a handoff) or after sign-out. */
export function isKnownOrigin(door: FrontDoor, table: RouteTable, target: Target): boolean {
  if (target.host === door.authHost) return target.scheme === door.authScheme && target.port === door.authPort;
  const routes = table.byHost.get(target.host);
  if (routes === undefined) return false;
  // A host with an https route is never handed a session over plain http.
  if (target.scheme === 'http' && routes.some((route) => route.fromScheme === 'https')) return false;
  return publicPort(door, target.scheme) === target.port;
}

/** The origin of a URL as `scheme://host[:port]`, the default port left out; null when it does not parse. */
export function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.origin : null;
  } catch {
    return null;
  }
}
