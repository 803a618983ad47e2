import type { IncomingMessage } from 'node:http';

/**
 * An `application/x-www-form-urlencoded` body, read whole; null for another content type or a
 * body past `maxBytes` (reading stops there, so an endless body costs no more than the limit).
 */
export async function readUrlEncodedForm(req: IncomingMessage, maxBytes: number): Promise<URLSearchParams | null> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return null;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
