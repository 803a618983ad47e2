import { http } from '../util/node-http.ts';

const { STATUS_CODES } = http;
import type { Duplex } from 'node:stream';
import { sanitizeHeaderValue } from '../http/index.ts';

/**
 * Responses written straight to a socket, for upgrade requests (which never get a
 * ServerResponse). Always `Connection: close`: after a refused upgrade the socket is done.
 */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'x-request-id']);

export type HeaderBag = Record<string, string | string[] | number | undefined>;

export function serializeHead(status: number, headers: HeaderBag, requestId: string, extraLines: readonly string[] = []): string {
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}`];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || !TOKEN.test(name) || FRAMING.has(name.toLowerCase())) continue;
    for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${sanitizeHeaderValue(String(item))}`);
  }
  lines.push(...extraLines, `x-request-id: ${requestId}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export function writeRawResponse(
  socket: Duplex,
  status: number,
  headers: HeaderBag,
  body: string | Buffer | undefined,
  requestId: string,
): void {
  if (socket.destroyed) return;
  const payload = body === undefined ? Buffer.alloc(0) : typeof body === 'string' ? Buffer.from(body) : body;
  const head = serializeHead(status, headers, requestId, [`content-length: ${payload.length}`, 'connection: close']);
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), payload]));
}
