import { describe, expect, it } from 'vitest';
import {
  checkCsrfToken,
  CSRF_LIFETIME_SECONDS,
  createCsrfToken,
  createSignOutToken,
  idTokenHintCookie,
  readIdTokenHint,
  readSignOutToken,
  SIGN_OUT_HANDOFF_SECONDS,
} from '../../../src/auth/tokens.ts';
import { NOW, testKeys } from './fixtures.ts';

const csrf = testKeys('csrf');
const signout = testKeys('signout');

describe('CSRF tokens', () => {
  const token = createCsrfToken(csrf, 'sid-1', 'app.example.com', NOW);

  it('pass for the same session and host before they expire', () => {
    expect(checkCsrfToken(csrf, token, 'sid-1', 'app.example.com', NOW + 1000)).toBe(true);
  });

  it.each([
    ['another session', () => checkCsrfToken(csrf, token, 'sid-2', 'app.example.com', NOW)],
    ['another host', () => checkCsrfToken(csrf, token, 'sid-1', 'other.example.com', NOW)],
    ['after expiry', () => checkCsrfToken(csrf, token, 'sid-1', 'app.example.com', NOW + CSRF_LIFETIME_SECONDS * 1000)],
    ['another key', () => checkCsrfToken(testKeys('csrf'), token, 'sid-1', 'app.example.com', NOW)],
    ['a sign-out token', () => checkCsrfToken(csrf, createSignOutToken(csrf, 'sid-1', NOW), 'sid-1', 'app.example.com', NOW)],
    ['no token', () => checkCsrfToken(csrf, null, 'sid-1', 'app.example.com', NOW)],
    ['a tampered token', () => checkCsrfToken(csrf, `${token.slice(0, -2)}AA`, 'sid-1', 'app.example.com', NOW)],
  ])('fail for %s', (_label, check) => {
    expect(check()).toBe(false);
  });
});

describe('sign-out handoff tokens', () => {
  it('name the signed-out session for a short while', () => {
    const token = createSignOutToken(signout, 'sid-9', NOW);
    expect(readSignOutToken(signout, token, NOW)).toBe('sid-9');
    expect(readSignOutToken(signout, token, NOW + SIGN_OUT_HANDOFF_SECONDS * 1000)).toBeNull();
    expect(readSignOutToken(signout, createCsrfToken(signout, 'sid-9', 'h', NOW), NOW)).toBeNull();
  });
});

describe('the ID token hint cookie', () => {
  it('returns the ID token only for its own session', () => {
    const exp = Math.floor(NOW / 1000) + 3600;
    const cookie = idTokenHintCookie(signout, { sid: 'sid-3', idToken: 'eyJ.id.token', exp }, NOW, true)!;
    expect(cookie).toMatch(/^__Host-gatehouse_idt=v1\..+; Path=\/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure$/);
    const header = cookie.split(';')[0]!;
    expect(readIdTokenHint(signout, header, 'sid-3', NOW, true)).toBe('eyJ.id.token');
    expect(readIdTokenHint(signout, header, 'sid-4', NOW, true)).toBeNull();
    expect(readIdTokenHint(signout, header, 'sid-3', NOW, false)).toBeNull();
  });

  it('is skipped for an ID token too large for a cookie', () => {
    expect(idTokenHintCookie(signout, { sid: 's', idToken: 'x'.repeat(4_000), exp: Math.floor(NOW / 1000) + 60 }, NOW, false)).toBeNull();
  });
});
