import type { UpstreamGuard } from './upstream-guard.ts';
import type { IncomingMessage } from 'node:http';
import { http } from '../util/node-http.ts';

const httpRequest = http.request;
import { request as httpsRequest } from 'node:https';
import type { ClientResponse, Forwarding, UpstreamCall } from './forward.ts';
import { cleanResponseHeaders } from './headers.ts';

/**
 * Upstreams whose responses end header lines with LF alone (busybox httpd's CGI, many NAS and
 * embedded apps). nginx and Caddy relay them; undici's parser refuses them, and offers no
 * switch for it. So an origin that answers this way is remembered, and its requests go through
 * Node's own client with its lenient parser instead, on a fresh connection each time, closed
 * after the one response: a lenient parse can never mis-frame a response for anyone else.
 * Every other origin keeps the strict, pooled undici path untouched.
 *
 * Client requests are never parsed leniently: this is about upstream responses only.
 */

/** undici's words for a header line that ends in LF without the CR before it. */
const BARE_LF = /expected CR/i;

export function isBareLfError(error: unknown): boolean {
  return error instanceof Error && error.name === 'HTTPParserError' && BARE_LF.test(error.message);
}

/** Methods that may be sent again after a failure (RFC 9110 §9.2.2 lets a proxy retry safe ones). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether a request that failed on a bare LF can be sent again through the lenient path. */
export function canResend(call: UpstreamCall): boolean {
  return call.body === undefined && SAFE_METHODS.has(call.method);
}

/** A bounded record of origins that answer with LF-only header lines; the oldest is forgotten first. */
export class LfOnlyOrigins {
  readonly #origins = new Set<string>();
  readonly #limit: number;

  constructor(limit = 256) {
    this.#limit = limit;
  }

  has(origin: string): boolean {
    return this.#origins.has(origin);
  }

  remember(origin: string): void {
    this.#origins.delete(origin);
    this.#origins.add(origin);
    if (this.#origins.size > this.#limit) this.#origins.delete(this.#origins.values().next().value as string);
  }

  get size(): number {
    return this.#origins.size;
  }
}

function framingError(message: string): Error {
  return Object.assign(new Error(message), { code: 'GATEHOUSE_AMBIGUOUS_FRAMING' });
}

function timeoutError(code: 'UND_ERR_HEADERS_TIMEOUT' | 'UND_ERR_BODY_TIMEOUT' | 'UND_ERR_CONNECT_TIMEOUT'): Error {
  return Object.assign(new Error('the upstream did not answer in time'), { code });
}

/**
 * The lenient parser would also accept framing that two parsers could read two ways; such a
 * response is refused rather than relayed (a single Content-Length, or chunked alone).
 */
function ambiguousFraming(response: IncomingMessage): string | null {
  let lengths = 0;
  let encodings = 0;
  for (let i = 0; i < response.rawHeaders.length; i += 2) {
    const name = (response.rawHeaders[i] as string).toLowerCase();
    if (name === 'content-length') lengths++;
    else if (name === 'transfer-encoding') encodings++;
  }
  if (lengths > 1 || encodings > 1 || (lengths > 0 && encodings > 0)) return 'the upstream response has conflicting length headers';
  const encoding = response.headers['transfer-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'chunked') return 'the upstream response has an unsupported Transfer-Encoding';
  return null;
}

export function forwardLeniently(res: ClientResponse, call: UpstreamCall, connectTimeoutMs: number, guard?: UpstreamGuard): Forwarding {
  const url = new URL(call.origin);
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  // The same connect-time address check as the regular path: this connection resolves the name itself.
  const checked = guard !== undefined && call.trustedTarget !== true ? guard : undefined;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  const fail = (error: Error) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    req.destroy(error);
    if (res.headersSent) res.destroy(error);
    else call.onError(error);
  };
  const req = send({
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port,
    method: call.method,
    path: call.path,
    headers: { ...call.headers, connection: 'close' },
    agent: false,
    insecureHTTPParser: true,
    rejectUnauthorized: !call.tlsSkipVerify,
    ...(checked === undefined ? {} : { lookup: checked.lookupFor(port) }),
  });
  const refused = checked?.refuseLiteral(url.hostname.replace(/^\[|\]$/g, ''), port) ?? null;
  if (refused !== null) queueMicrotask(() => fail(refused));
  const arm = (ms: number, code: Parameters<typeof timeoutError>[0]) => {
    clearTimeout(timer);
    if (ms > 0) timer = setTimeout(() => fail(timeoutError(code)), ms);
  };
  arm(connectTimeoutMs, 'UND_ERR_CONNECT_TIMEOUT');
  req.once('socket', (socket) => {
    socket.once('connect', () => arm(call.headersTimeout, 'UND_ERR_HEADERS_TIMEOUT'));
  });
  req.on('error', fail);
  req.on('response', (response) => {
    // Informational responses are not relayed (Node's client skips them, except 101).
    const problem = ambiguousFraming(response);
    if (problem !== null) return fail(framingError(problem));
    arm(call.bodyTimeout, 'UND_ERR_BODY_TIMEOUT');
    const out = cleanResponseHeaders(response.headers as Record<string, string | string[]>);
    Object.assign(out, call.responseHeaders);
    try {
      res.writeHead(response.statusCode ?? 502, out);
    } catch (error) {
      // A header Node refuses to send (a control character in a value): the app's answer cannot be relayed.
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      return fail(error as Error);
    }
    response.on('data', (chunk: Buffer) => {
      arm(call.bodyTimeout, 'UND_ERR_BODY_TIMEOUT');
      if (finished || res.write(chunk)) return;
      response.pause();
      res.once('drain', () => response.resume());
    });
    response.on('end', () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      res.end();
    });
    response.on('error', fail);
  });
  if (call.body === undefined) req.end();
  else call.body.pipe(req);
  return {
    abort() {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      req.destroy(new Error('the client closed the connection'));
    },
  };
}
