import { describe, expect, it } from 'vitest';
import { forwardAuthAnswer, forwardAuthStyle, originalRequest } from '../../../src/proxy/forward-auth.ts';
import { createTrustedProxies } from '../../../src/proxy/trusted-proxies.ts';
import type { Admission } from '../../../src/proxy/passes.ts';

const clients = createTrustedProxies(['10.0.0.0/8']);
const call = (headers: Record<string, string>, peerIp = '10.1.2.3') => ({ headers, hostHeader: 'gatehouse:8080', socketScheme: 'http' as const, peerIp, requestId: 'rid' });

describe('forward-auth: the original request', () => {
  it('reads Traefik’s X-Forwarded-* headers', () => {
    const result = originalRequest(
      call({ 'x-forwarded-method': 'POST', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'Wiki.Example.com', 'x-forwarded-uri': '/a/../b?q=1,2', 'x-forwarded-for': '203.0.113.9, 10.0.0.1' }),
      clients,
    );
    expect(result.ok && result.request).toMatchObject({ method: 'POST', scheme: 'https', host: 'wiki.example.com', publicHost: 'Wiki.Example.com', path: '/b', query: '?q=1,2', remoteAddress: '203.0.113.9' });
  });

  it('reads nginx’s X-Original-URI and -Method with the original Host', () => {
    const result = originalRequest({ ...call({ 'x-original-uri': '/x', 'x-original-method': 'DELETE' }), hostHeader: 'app.example.com:8443' }, clients);
    expect(result.ok && result.request).toMatchObject({ method: 'DELETE', host: 'app.example.com', path: '/x', scheme: 'http' });
  });

  it.each([
    ['an untrusted caller, whatever it forges', call({ 'x-forwarded-uri': '/', 'x-forwarded-host': 'wiki.example.com' }, '192.0.2.1'), 403, 'forward_auth_untrusted'],
    ['no original URI', call({ 'x-forwarded-host': 'wiki.example.com' }), 400, 'forward_auth_bad_request'],
    ['a URI that is not a path', call({ 'x-forwarded-uri': 'http://evil/' }), 400, 'forward_auth_bad_request'],
    ['a method that is not one', call({ 'x-forwarded-uri': '/', 'x-forwarded-method': 'GET /x' }), 400, 'forward_auth_bad_request'],
    ['a host that is not one', call({ 'x-forwarded-uri': '/', 'x-forwarded-host': 'a b' }), 400, 'forward_auth_bad_request'],
  ])('refuses %s', (_what, input, status, code) => {
    const result = originalRequest(input, clients);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.response.status).toBe(status);
      expect(JSON.parse(String(result.response.body)).error).toBe(code);
    }
  });

  it('nobody is a client when no proxy is trusted', () => {
    expect(originalRequest(call({ 'x-forwarded-uri': '/' }, '127.0.0.1'), createTrustedProxies([])).ok).toBe(false);
  });

  it('knows its two paths and nothing else', () => {
    expect(forwardAuthStyle('/.iap/forward_auth')).toBe('redirect');
    expect(forwardAuthStyle('/.iap/auth_request')).toBe('status_only');
    expect(forwardAuthStyle('/.iap/forward_auth/')).toBeNull();
    expect(forwardAuthStyle('/constructor')).toBeNull();
  });
});

describe('forward-auth: the answer', () => {
  const request = (originalRequest(call({ 'x-forwarded-uri': '/', 'x-forwarded-host': 'wiki.example.com' }), clients) as { ok: true; request: never }).request;
  const route = { id: 'r', identity: 'headers' } as never;

  it('passes identity headers, never the cookie', () => {
    const admission: Admission = { kind: 'forward', route, decision: { allow: true, reason: 'allowed', entry: '*' }, setHeaders: { 'x-iap-user': 'bob', cookie: 'a=b', 'x-app': '1' }, removeHeaders: [] };
    const answer = forwardAuthAnswer(admission, request, 'redirect');
    expect(answer.status).toBe(200);
    expect(answer.headers).toMatchObject({ 'x-iap-user': 'bob', 'x-iap-email': '', 'x-iap-jwt-assertion': '', 'x-app': '1' });
    expect(answer.headers).not.toHaveProperty('cookie');
  });

  it('turns a sign-in redirect into a 401 with its Location for nginx, and any other refusal into a 403', () => {
    const redirect: Admission = { kind: 'respond', route, response: { kind: 'respond', status: 302, headers: { location: 'https://wiki.example.com/.iap/start?rd=x' } } };
    expect(forwardAuthAnswer(redirect, request, 'redirect').status).toBe(302);
    expect(forwardAuthAnswer(redirect, request, 'status_only')).toMatchObject({ status: 401, headers: { location: 'https://wiki.example.com/.iap/start?rd=x' } });
    const missing: Admission = { kind: 'page', route: null, page: 'not_found' };
    expect(forwardAuthAnswer(missing, request, 'redirect').status).toBe(404);
    expect(forwardAuthAnswer(missing, request, 'status_only').status).toBe(403);
  });
});
