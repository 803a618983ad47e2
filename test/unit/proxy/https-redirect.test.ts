import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createHttpsRedirect, redirectStatus } from '../../../src/proxy/https-redirect.ts';
import { createTrustedProxies } from '../../../src/proxy/trusted-proxies.ts';

function raw(url: string, host: string, extra: { encrypted?: boolean; peer?: string; headers?: Record<string, string> } = {}): IncomingMessage {
  const headers = { host, ...extra.headers };
  return {
    url,
    method: 'GET',
    httpVersionMajor: 1,
    headers,
    rawHeaders: Object.entries(headers).flat(),
    socket: { remoteAddress: extra.peer ?? '192.0.2.1', encrypted: extra.encrypted ?? false },
  } as unknown as IncomingMessage;
}

const trusted = createTrustedProxies(['10.0.0.1']);
const redirect = createHttpsRedirect({ trusted, publicPort: undefined });
const location = (req: IncomingMessage, r = redirect) => r.redirectFor(req)?.location ?? null;

describe('HTTP → HTTPS redirect target', () => {
  it('keeps the host (lowercased, without the port), the normalised path and the query', () => {
    expect(location(raw('/a/../b/%7Ex?q=1', 'Wiki.Example.com:8080'))).toBe('https://wiki.example.com/b/~x?q=1');
    expect(location(raw('/', '[::1]:8080'))).toBe('https://[::1]/');
    expect(location(raw('/', '192.0.2.10'))).toBe('https://192.0.2.10/');
  });

  it('adds GATEHOUSE_HTTPS_PUBLIC_PORT unless it is 443', () => {
    expect(location(raw('/x', 'app.test:8080'), createHttpsRedirect({ trusted, publicPort: 8443 }))).toBe('https://app.test:8443/x');
    expect(location(raw('/x', 'app.test:8080'), createHttpsRedirect({ trusted, publicPort: 443 }))).toBe('https://app.test/x');
  });

  it('leaves alone what is already https, ACME challenges and requests the handler must refuse', () => {
    expect(location(raw('/', 'app.test', { encrypted: true }))).toBeNull();
    expect(location(raw('/', 'app.test', { peer: '10.0.0.1', headers: { 'x-forwarded-proto': 'https' } }))).toBeNull();
    expect(location(raw('/', 'app.test', { peer: '192.0.2.9', headers: { 'x-forwarded-proto': 'https' } }))).toBe('https://app.test/');
    expect(location(raw('/.well-known/acme-challenge/abc', 'app.test'))).toBeNull();
    expect(location(raw('/.well-known/acme-challengeX', 'app.test'))).toBe('https://app.test/.well-known/acme-challengeX');
    expect(location(raw('/', 'bad host'))).toBeNull();
    expect(location(raw('http://evil.test/', 'app.test'))).toBeNull();
  });

  it('uses 301 for page loads and 308 where the method and body must survive', () => {
    expect([redirectStatus('GET'), redirectStatus('HEAD'), redirectStatus('POST'), redirectStatus('PUT')]).toEqual([301, 301, 308, 308]);
  });
});
