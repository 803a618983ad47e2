import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/**
 * A request as the proxy's first pass describes it, and a response Gatehouse answers itself:
 * the plain-data language the proxy and the identity layer speak across their seam.
 */

export interface GateRequest {
  readonly method: string;
  /** Lowercase, no port, no trailing dot. */
  readonly host: string;
  /** `Host` as sent, with port. */
  readonly hostHeader: string;
  /**
   * The host and port the browser addressed: `X-Forwarded-Host` from a trusted proxy when it
   * names the same host (a proxy in front may listen on another port), else `hostHeader`.
   * Used to rebuild the URL the user sees, never for routing.
   */
  readonly publicHost: string;
  /** The scheme the user sees: the socket's, or X-Forwarded-Proto from a trusted proxy. */
  readonly scheme: 'http' | 'https';
  /** Normalised path (what was matched and what is forwarded, before strip_path). */
  readonly path: string;
  /** The query string with its leading `?`, or empty. */
  readonly query: string;
  /** The client's headers as received (before any stripping); never modify them. */
  readonly headers: Readonly<IncomingHttpHeaders>;
  /** Client IP after trusted-proxy processing. */
  readonly remoteAddress: string;
  readonly isUpgrade: boolean;
  readonly requestId: string;
}

export type GateResponse = {
  kind: 'respond';
  status: number;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
};

/**
 * A server Gatehouse hosts on one of its own hosts and hands requests to untouched (the built-in
 * identity provider under `/idp` on the sign-in host). Asked after the request is described and
 * before any route or gate; the body is left unread for it.
 */
export interface RawHandler {
  /** `host` is lowercase without port; `path` is normalised. */
  handles(host: string, path: string): boolean;
  /** `clientIp` is the client address after trusted-proxy processing. */
  handle(req: IncomingMessage, res: ServerResponse, clientIp: string): void;
}
