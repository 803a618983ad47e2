import { describe, expect, it } from 'vitest';
import { bindingCookieName, clearBinding, holdsBinding, startBinding } from '../../../src/auth/browser-binding.ts';

/** The nonce cookie behind a sign-in, as `Cookie` headers a browser would send. */
const cookieOf = (setCookie: string) => setCookie.split(';')[0]!;

describe('browser binding', () => {
  it('is held by the browser that got the cookie, and by no other', () => {
    const mine = startBinding(false);
    const theirs = startBinding(false);
    expect(holdsBinding(cookieOf(mine.setCookie), false, mine.binding)).toBe(true);
    expect(holdsBinding(cookieOf(theirs.setCookie), false, mine.binding)).toBe(false);
    expect(holdsBinding(undefined, false, mine.binding)).toBe(false);
    expect(holdsBinding('other=1', false, mine.binding)).toBe(false);
  });

  it('makes a new nonce at every start', () => {
    const one = startBinding(false);
    const two = startBinding(false);
    expect(one.binding).not.toBe(two.binding);
    expect(cookieOf(one.setCookie)).not.toBe(cookieOf(two.setCookie));
  });

  it('sets a host-only cookie, __Host- and Secure on https hosts', () => {
    expect(startBinding(true).setCookie).toMatch(/^__Host-gatehouse_bind=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/);
    expect(startBinding(false).setCookie).toMatch(/^gatehouse_bind=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax$/);
    expect(startBinding(false).setCookie).not.toMatch(/Domain=/i);
    expect(clearBinding(true)).toMatch(/^__Host-gatehouse_bind=; .*Max-Age=0/);
  });

  it('refuses when a second nonce cookie was planted beside the own one (a Domain cookie from a sibling host)', () => {
    const mine = startBinding(false);
    const planted = startBinding(false);
    for (const header of [`${cookieOf(planted.setCookie)}; ${cookieOf(mine.setCookie)}`, `${cookieOf(mine.setCookie)}; ${cookieOf(planted.setCookie)}`]) {
      expect(holdsBinding(header, false, mine.binding)).toBe(false);
      expect(holdsBinding(header, false, planted.binding)).toBe(false);
    }
  });

  it('does not count the cookie of the other scheme, nor malformed values', () => {
    const mine = startBinding(true);
    expect(holdsBinding(cookieOf(mine.setCookie).replace('__Host-', ''), true, mine.binding)).toBe(false);
    expect(holdsBinding(`${bindingCookieName(false)}=short`, false, mine.binding)).toBe(false);
    expect(holdsBinding(cookieOf(mine.setCookie), true, 'not-a-binding')).toBe(false);
  });
});
