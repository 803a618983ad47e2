import { describe, expect, it } from 'vitest';
import { safeRedirectTarget } from '../../../src/auth/redirect.ts';
import { OPEN_REDIRECT_CORPUS } from '../../fixtures/open-redirects.ts';

const KNOWN = new Set(['app.example.com', 'auth.example.com', 'files.example.net', 'xn--bcher-kva.example', '[::1]']);
const isKnownHost = (host: string): boolean => KNOWN.has(host);
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

  it('asks about the host without port, userinfo or trailing dot, lowercased', () => {
    const asked: string[] = [];
    safeRedirectTarget('https://App.Example.COM.:8443/x', (host) => (asked.push(host), true), FALLBACK);
    expect(asked).toEqual(['app.example.com']);
  });

  it('falls back for undefined, empty and very long input', () => {
    expect(safeRedirectTarget(undefined, isKnownHost, FALLBACK)).toBe(FALLBACK);
    expect(safeRedirectTarget('', isKnownHost, FALLBACK)).toBe(FALLBACK);
    expect(safeRedirectTarget(`https://app.example.com/${'a'.repeat(5000)}`, isKnownHost, FALLBACK)).toBe(FALLBACK);
  });

  it('a host that stops being routed stops being a valid target', () => {
    const routed = new Set(['app.example.com']);
    const check = (host: string) => routed.has(host);
    expect(safeRedirectTarget('https://app.example.com/', check, FALLBACK)).toBe('https://app.example.com/');
    routed.delete('app.example.com');
    expect(safeRedirectTarget('https://app.example.com/', check, FALLBACK)).toBe(FALLBACK);
  });
});
