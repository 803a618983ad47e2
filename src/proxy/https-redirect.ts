import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { GateRequest } from '../http/index.ts';
import { describeRequest } from './request-info.ts';
import type { TrustedProxies } from './trusted-proxies.ts';

/** Where HTTP-01 validators look; these must reach a route that serves them, not a redirect. */
const ACME_CHALLENGE = '/.well-known/acme-challenge/';

export interface HttpsRedirect {
  /**
   * For a request the user sent as plain http: where the https address is. Null when it is
   * served as it is: it came over TLS, a trusted proxy says the user sees https, it is an
   * ACME challenge, or it is malformed (the normal handler then answers 400).
   */
  redirectFor(raw: IncomingMessage): { location: string; request: GateRequest } | null;
}

/**
 * `https://<host><path>`: the host without its port, because behind a port mapping the port
 * Gatehouse listens on is not the one users type. GATEHOUSE_HTTPS_PUBLIC_PORT adds the port
 * users do see when it is not 443.
 */
export function createHttpsRedirect(options: { trusted: TrustedProxies; publicPort: number | undefined }): HttpsRedirect {
  const port = options.publicPort !== undefined && options.publicPort !== 443 ? `:${options.publicPort}` : '';
  return {
    redirectFor(raw) {
      if ((raw.socket as TLSSocket).encrypted) return null;
      const described = describeRequest(raw, '-', options.trusted, false);
      if (!described.ok) return null;
      const request = described.request;
      if (request.scheme === 'https' || request.path.startsWith(ACME_CHALLENGE)) return null;
      const host = request.host.includes(':') ? `[${request.host.replace(/^\[|\]$/g, '')}]` : request.host;
      return { location: `https://${host}${port}${request.path}${request.query}`, request };
    },
  };
}

/** 301 keeps old clients happy for page loads; 308 keeps the method and body of anything else. */
export function redirectStatus(method: string | undefined): 301 | 308 {
  return method === 'GET' || method === 'HEAD' ? 301 : 308;
}
