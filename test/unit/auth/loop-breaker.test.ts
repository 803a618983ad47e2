import { describe, expect, it } from 'vitest';
import { countRoundTrip, LOOP_COOKIE, MAX_ROUND_TRIPS } from '../../../src/auth/loop-breaker.ts';

function cookieValue(setCookie: string): string {
  return setCookie.slice(LOOP_COOKIE.length + 1, setCookie.indexOf(';'));
}

describe('countRoundTrip', () => {
  it('lets MAX_ROUND_TRIPS trips through for one URL, then says stop and resets', () => {
    let header: string | undefined;
    for (let i = 1; i <= MAX_ROUND_TRIPS; i += 1) {
      const trip = countRoundTrip(header, 'https://app.example.com/x');
      expect(trip.exceeded).toBe(false);
      expect(trip.setCookie).toMatch(/^gatehouse_loop=[A-Za-z0-9_-]{12}\.\d; Path=\/; Max-Age=120; HttpOnly; SameSite=Lax$/);
      header = `other=1; ${LOOP_COOKIE}=${cookieValue(trip.setCookie)}`;
    }
    const stop = countRoundTrip(header, 'https://app.example.com/x');
    expect(stop.exceeded).toBe(true);
    expect(stop.setCookie).toMatch(/Max-Age=0/);
  });

  it('starts afresh for another URL', () => {
    const first = countRoundTrip(undefined, 'https://app.example.com/a');
    const header = `${LOOP_COOKIE}=${cookieValue(first.setCookie)}`;
    const other = countRoundTrip(header, 'https://app.example.com/b');
    expect(cookieValue(other.setCookie)).toMatch(/\.1$/);
  });

  it('is never Secure and never __Host-, so it survives the mistakes that drop the session cookie', () => {
    const trip = countRoundTrip(undefined, 'https://app.example.com/');
    expect(trip.setCookie).not.toMatch(/Secure|__Host-/);
  });

  it.each(['garbage', 'abc.def', `${'a'.repeat(12)}.999`, ''])('treats a malformed counter %j as none', (value) => {
    const trip = countRoundTrip(`${LOOP_COOKIE}=${value}`, 'https://app.example.com/');
    expect(trip.exceeded).toBe(false);
    expect(cookieValue(trip.setCookie)).toMatch(/\.1$/);
  });
});
