import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { normalizeHost, normalizeRequestPath } from '../routes/index.ts';
import type { GateRequest } from '../http/index.ts';
import type { ForwardingFacts } from './headers.ts';
import { normalizeIp, resolveClientIp, type TrustedProxies } from './trusted-proxies.ts';

/**
 * Everything the proxy needs to know about a request before routing it, computed once and
 * shared by the HTTP and the websocket path so both treat a request the same way.
 */
export type DescribedRequest =
  | { ok: true; request: GateRequest; forwarding: ForwardingFacts }
  | { ok: false; reason: string };

/** reg-name (letters, digits, `-`, `.`, `_`) or a bracketed IPv6 literal, then an optional port. */
const HOST_HEADER = /^(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function describeRequest(
  raw: IncomingMessage,
  requestId: string,
  trusted: TrustedProxies,
  isUpgrade: boolean,
): DescribedRequest {
  const url = raw.url ?? '';
  if (url.charCodeAt(0) !== 0x2f) {
    return { ok: false, reason: 'the request target must be a path starting with "/" (absolute URLs and "*" are not accepted)' };
  }
  const hostHeader = raw.httpVersionMajor === 2 ? http2Authority(raw.rawHeaders) : singleHost(raw.rawHeaders);
  if (typeof hostHeader !== 'string') return { ok: false, reason: hostHeader.reason };
  const target = normalizeRequestPath(url);
  if (!target.ok) return { ok: false, reason: target.reason };

  const peerIp = normalizeIp(raw.socket.remoteAddress ?? '');
  const peerTrusted = trusted.isTrusted(peerIp);
  const headers = raw.headers;
  const forwardedFor = peerTrusted ? joined(headers['x-forwarded-for']) : undefined;
  const clientIp = resolveClientIp(peerIp, forwardedFor, trusted);
  const socketScheme = (raw.socket as TLSSocket).encrypted ? 'https' : 'http';
  const scheme = peerTrusted ? (forwardedProto(headers['x-forwarded-proto']) ?? socketScheme) : socketScheme;

  const request: GateRequest = {
    method: raw.method ?? 'GET',
    host: normalizeHost(hostHeader),
    hostHeader,
    publicHost: peerTrusted ? (forwardedHost(headers['x-forwarded-host'], hostHeader) ?? hostHeader) : hostHeader,
    scheme,
    path: target.path,
    query: target.query,
    headers,
    remoteAddress: clientIp,
    isUpgrade,
    requestId,
  };
  return { ok: true, request, forwarding: { peerTrusted, peerIp, clientIp, scheme, hostHeader } };
}

/** A trusted proxy's `X-Forwarded-Host` (its first value), when valid and naming the host routed on. */
function forwardedHost(value: string | string[] | undefined, hostHeader: string): string | undefined {
  const first = (Array.isArray(value) ? value[0] : value)?.split(',', 1)[0]?.trim();
  if (!first || !HOST_HEADER.test(first)) return undefined;
  return normalizeHost(first) === normalizeHost(hostHeader) ? first : undefined;
}

/** `X-Request-Id` from a trusted proxy (when well-formed), else a new random id. */
export function requestIdFor(raw: IncomingMessage, trusted: TrustedProxies): string {
  const incoming = raw.headers['x-request-id'];
  if (typeof incoming === 'string' && REQUEST_ID.test(incoming) && trusted.isTrusted(normalizeIp(raw.socket.remoteAddress ?? ''))) {
    return incoming;
  }
  return randomUUID();
}

/** Node keeps only the first of duplicate `Host` headers; a second one is an ambiguity we refuse. */
function singleHost(rawHeaders: readonly string[]): string | { reason: string } {
  let found: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length !== 4 || name.toLowerCase() !== 'host') continue;
    if (found !== undefined) return { reason: 'the request has more than one Host header' };
    found = rawHeaders[i + 1] as string;
  }
  if (found === undefined || found === '') return { reason: 'the request has no Host header' };
  if (!HOST_HEADER.test(found)) return { reason: 'the Host header is not a valid host name' };
  return found;
}

/**
 * HTTP/2 names the host in `:authority` (RFC 9113 §8.3.1); a `Host` field may stand in for it,
 * and when both are sent they must agree, or the request is ambiguous in the same way two
 * `Host` headers are.
 */
function http2Authority(rawHeaders: readonly string[]): string | { reason: string } {
  let authority: string | undefined;
  let host: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name === ':authority') authority = rawHeaders[i + 1] as string;
    else if (name === 'host') {
      if (host !== undefined) return { reason: 'the request has more than one Host header' };
      host = rawHeaders[i + 1] as string;
    }
  }
  if (authority !== undefined && host !== undefined && authority.toLowerCase() !== host.toLowerCase()) {
    return { reason: 'the :authority and Host of the request name different hosts' };
  }
  const found = authority ?? host;
  if (found === undefined || found === '') return { reason: 'the request has no :authority or Host' };
  if (!HOST_HEADER.test(found)) return { reason: 'the :authority of the request is not a valid host name' };
  return found;
}

function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The first hop's claim (the one nearest the client wins only because every later hop is trusted). */
function forwardedProto(value: string | string[] | undefined): 'http' | 'https' | undefined {
  const first = joined(value)?.split(',')[0]?.trim().toLowerCase();
  return first === 'http' || first === 'https' ? first : undefined;
}
