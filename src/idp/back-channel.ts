import type { IncomingMessage, ServerResponse } from 'node:http';
import { http } from '../util/node-http.ts';

const { createServer, request } = http;
import type { AddressInfo } from 'node:net';

/**
 * How Gatehouse's own OpenID client reaches the built-in provider: discovery, token,
 * UserInfo and JWKS requests for the issuer's origin go to a private listener on 127.0.0.1
 * that serves the same provider, with the sign-in host in the Host header. The sign-in host's
 * name need not resolve from inside Gatehouse (`auth.localhost` in a container, a split-horizon
 * DNS name, a TLS certificate only the browser trusts), and nothing leaves the process's
 * machine. Every other URL goes to the global fetch.
 */

/** Fetch as openid-client's `customFetch` calls it. */
export type ProviderFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: unknown; signal?: AbortSignal | undefined; redirect?: 'manual' },
) => Promise<Response>;

export interface BackChannel {
  readonly fetch: ProviderFetch;
  close(): Promise<void>;
}

const TIMEOUT_MS = 30_000;

export async function startBackChannel(options: {
  authOrigin: string;
  prefix: string;
  handler: (req: IncomingMessage, res: ServerResponse) => void;
}): Promise<BackChannel> {
  const server = createServer(options.handler);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const authHost = new URL(options.authOrigin).host;

  const fetch: ProviderFetch = async (url, init) => {
    const target = new URL(url);
    if (target.origin !== options.authOrigin || !(target.pathname === options.prefix || target.pathname.startsWith(`${options.prefix}/`))) {
      return globalThis.fetch(url, init as RequestInit);
    }
    const body = init.body === undefined || init.body === null ? undefined : Buffer.from(await new Response(init.body as ConstructorParameters<typeof Response>[0]).arrayBuffer());
    const headers: Record<string, string> = { ...init.headers, host: authHost };
    if (body !== undefined) headers['content-length'] = String(body.length);
    return new Promise<Response>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, method: init.method, path: `${target.pathname}${target.search}`, headers, signal: init.signal, timeout: TIMEOUT_MS },
        (res) => collect(res).then(resolve, reject),
      );
      req.on('timeout', () => req.destroy(new Error(`the built-in identity provider did not answer ${target.pathname} within ${TIMEOUT_MS / 1000}s`)));
      req.on('error', reject);
      req.end(body);
    });
  };

  return {
    fetch,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function collect(res: IncomingMessage): Promise<Response> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  const status = res.statusCode ?? 502;
  const body = [101, 204, 205, 304].includes(status) ? null : Buffer.concat(chunks);
  return new Response(body, { status, statusText: res.statusMessage ?? '', headers });
}
