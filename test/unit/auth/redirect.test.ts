import { describe, expect, it } from 'vitest';
import { frontDoor, isKnownOrigin, type Target } from '../../../src/auth/origins.ts';
import { safeRedirectTarget } from '../../../src/auth/redirect.ts';
import type { Route, RouteTable } from '../../../src/routes/table.ts';
import { OPEN_REDIRECT_CORPUS } from '../../fixtures/open-redirects.ts';

const KNOWN = new Set(['app.example.com', 'auth.example.com', 'files.example.net', 'xn--bcher-kva.example', '[::1]']);
const isKnownHost = ({ host }: Target): boolean => KNOWN.has(host);
const FALLBACK = 'https://auth.example.com/.gatehouse/';

const corpus = OPEN_REDIRECT_CORPUS;

describe('safeRedirectTarget: open-redirect corpus', () => {
  it('has at least 60 payloads, all distinct', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    expect(new Set(corpus).size).toBe(corpus.length);
  });

  it.each(corpus.map((payload) => [JSON.stringify(payload), payload]))('%s falls back', (_label, payload) => {
    expect(safeRedirectTarget(payload, isKnownHost, FALLBACK)).toBe(FALLBACK);
  });
});

describe('safeRedirectTarget: legitimate targets', () => {
  it.each([
    'https://app.example.com/',
    'https://app.example.com/dashboard',
    'https://app.example.com/dashboard?tab=1&next=%2F#section',
    'http://app.example.com/',
    'https://app.example.com:8443/admin',
    'https://files.example.net/a/b/c.txt',
    'https://auth.example.com/.gatehouse/sign_out?rd=%2F',
    'https://xn--bcher-kva.example/',
    'https://app.example.com/search?q=a%20b',
    'https://app.example.com/users/@alice',
    'https://app.example.com/?next=//evil.com',
    'https://app.example.com/caf%C3%A9',
    'http://[::1]:8080/',
  ])('%s passes unchanged', (target) => {
    expect(safeRedirectTarget(target, isKnownHost, FALLBACK)).toBe(target);
  });

  it.each([
    ['HTTPS://APP.EXAMPLE.COM/Dash', 'https://app.example.com/Dash'],
    ['https://app.example.com', 'https://app.example.com/'],
    ['https://app.example.com./x?y=1', 'https://app.example.com/x?y=1'],
    ['https://app.example.com:443/', 'https://app.example.com/'],
    ['https://bücher.example/', 'https://xn--bcher-kva.example/'],
    ['https://app.example.com/café', 'https://app.example.com/caf%C3%A9'],
  ])('%s is normalised to %s', (target, expected) => {
    expect(safeRedirectTarget(target, isKnownHost, FALLBACK)).toBe(expected);
  });

  it('asks about the scheme, the port, and the host without userinfo or trailing dot, lowercased', () => {
    const asked: Target[] = [];
    safeRedirectTarget('https://App.Example.COM.:8443/x', (target) => (asked.push(target), true), FALLBACK);
    expect(asked).toEqual([{ scheme: 'https', host: 'app.example.com', port: 8443 }]);
    safeRedirectTarget('http://app.example.com/x', (target) => (asked.push(target), true), FALLBACK);
    expect(asked.at(-1)).toEqual({ scheme: 'http', host: 'app.example.com', port: 80 });
  });

  it('falls back for undefined, empty and very long input', () => {
    expect(safeRedirectTarget(undefined, isKnownHost, FALLBACK)).toBe(FALLBACK);
    expect(safeRedirectTarget('', isKnownHost, FALLBACK)).toBe(FALLBACK);
    expect(safeRedirectTarget(`https://app.example.com/${'a'.repeat(5000)}`, isKnownHost, FALLBACK)).toBe(FALLBACK);
  });

  it('a host that stops being routed stops being a valid target', () => {
    const routed = new Set(['app.example.com']);
    const check = ({ host }: Target) => routed.has(host);
    expect(safeRedirectTarget('https://app.example.com/', check, FALLBACK)).toBe('https://app.example.com/');
    routed.delete('app.example.com');
    expect(safeRedirectTarget('https://app.example.com/', check, FALLBACK)).toBe(FALLBACK);
  });
});

/** A table with these hosts; `https` hosts carry an https route. */
function table(hosts: Record<string, 'http' | 'https'>): RouteTable {
  const byHost = new Map<string, Route[]>(Object.entries(hosts).map(([host, scheme]) => [host, [{ fromScheme: scheme } as Route]]));
  return { byHost } as unknown as RouteTable;
}

describe('exact origins (scheme, host and port)', () => {
  const routes = table({ 'app.example.com': 'http', 'secure.example.com': 'https' });
  const httpDoor = frontDoor('http://auth.example.com:8080', null);
  const pass = (door: ReturnType<typeof frontDoor>, url: string) => safeRedirectTarget(url, (target) => isKnownOrigin(door, routes, target), FALLBACK) === url;

  it.each([
    'http://app.example.com:8080/',
    'http://auth.example.com:8080/',
    'https://secure.example.com:8080/x',
  ])('%s is where Gatehouse answers', (url) => {
    expect(pass(httpDoor, url)).toBe(true);
  });

  it.each([
    ['another port of a route host', 'http://app.example.com:9999/'],
    ['the default port of a route host', 'http://app.example.com/'],
    ['another port of the sign-in host', 'http://auth.example.com:9999/'],
    ['another scheme of the sign-in host', 'https://auth.example.com:8080/'],
    ['plain http to a host with an https route', 'http://secure.example.com:8080/'],
    ['a host that only ends like the sign-in host', 'http://evilauth.example.com:8080/'],
    ['a subdomain of the sign-in host', 'http://x.auth.example.com:8080/'],
    ['a host that only ends like a route host', 'http://evilapp.example.com:8080/'],
  ])('refuses %s', (_label, url) => {
    expect(pass(httpDoor, url)).toBe(false);
  });

  it('with an https sign-in URL, plain http is never a target and https uses its port', () => {
    const door = frontDoor('https://auth.example.com', null);
    expect(pass(door, 'https://app.example.com/')).toBe(true);
    expect(pass(door, 'http://app.example.com/')).toBe(false);
    expect(pass(door, 'http://app.example.com:8080/')).toBe(false);
    expect(pass(door, 'https://app.example.com:8443/')).toBe(false);
  });

  it("with Gatehouse's own TLS beside an http sign-in URL, https is on the public https port only", () => {
    const door = frontDoor('http://auth.example.com:8080', 443);
    expect(pass(door, 'https://app.example.com/')).toBe(true);
    expect(pass(door, 'https://app.example.com:8080/')).toBe(false);
  });
});
