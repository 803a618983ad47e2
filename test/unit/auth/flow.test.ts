import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FLOW_LIFETIME_SECONDS, flowCookieName, MAX_FLOWS, startFlow, takeFlow } from '../../../src/auth/flow.ts';
import { seal } from '../../../src/auth/seal.ts';
import { NOW, NOW_S, testKeys } from './fixtures.ts';

const keys = testKeys('flow');

function input(state: string) {
  return { returnTo: 'https://app.example.com/x', binding: 'b'.repeat(43), codeVerifier: `verifier-${state}`, state, nonce: `nonce-${state}`, provider: 'oidc', requireMfa: false, maxAge: null };
}

/** Applies Set-Cookie values to a cookie jar the way a browser would. */
function apply(jar: Map<string, string>, setCookies: readonly string[]): Map<string, string> {
  const next = new Map(jar);
  for (const cookie of setCookies) {
    const pair = cookie.slice(0, cookie.indexOf(';'));
    const name = pair.slice(0, pair.indexOf('='));
    if (/Max-Age=0/.test(cookie)) next.delete(name);
    else next.set(name, pair.slice(pair.indexOf('=') + 1));
  }
  return next;
}
const header = (jar: Map<string, string>) => [...jar].map(([n, v]) => `${n}=${v}`).join('; ');

describe('sign-in flow cookies', () => {
  it('name: __Host- prefix on https, plain on http, 8 hex of the state hash', () => {
    const hash = createHash('sha256').update('abc').digest('hex').slice(0, 8);
    expect(flowCookieName('abc', true)).toBe(`__Host-gatehouse_flow_${hash}`);
    expect(flowCookieName('abc', false)).toBe(`gatehouse_flow_${hash}`);
  });

  it('sets one sealed cookie for 10 minutes with the safe attributes', () => {
    const { setCookies } = startFlow(keys, input('s1'), NOW, undefined, true);
    expect(setCookies).toHaveLength(1);
    expect(setCookies[0]).toMatch(
      new RegExp(`^${flowCookieName('s1', true)}=v1\\.[^;]+; Path=/; Max-Age=${FLOW_LIFETIME_SECONDS}; HttpOnly; SameSite=Lax; Secure$`),
    );
    expect(setCookies[0]).not.toContain('verifier-s1');
  });

  it('takeFlow returns the flow and a cookie that clears it', () => {
    const jar = apply(new Map([['app', '1']]), startFlow(keys, input('s1'), NOW, undefined, true).setCookies);
    const taken = takeFlow(keys, 's1', header(jar), NOW + 1_000, true);
    expect(taken?.flow).toEqual({ ...input('s1'), createdAt: NOW });
    expect(taken?.clearCookie).toMatch(new RegExp(`^${flowCookieName('s1', true)}=; Path=/; Max-Age=0`));
    const after = apply(jar, [taken?.clearCookie as string]);
    expect(takeFlow(keys, 's1', header(after), NOW + 2_000, true)).toBeNull();
    expect(after.get('app')).toBe('1');
  });

  it('works on http with the plain name, and the schemes do not mix', () => {
    const jar = apply(new Map(), startFlow(keys, input('s1'), NOW, undefined, false).setCookies);
    expect(takeFlow(keys, 's1', header(jar), NOW, true)).toBeNull();
    expect(takeFlow(keys, 's1', header(jar), NOW, false)?.flow.state).toBe('s1');
  });

  it('refuses an unknown, empty or oversized state, and a missing cookie', () => {
    const jar = apply(new Map(), startFlow(keys, input('s1'), NOW, undefined, true).setCookies);
    expect(takeFlow(keys, 's2', header(jar), NOW, true)).toBeNull();
    expect(takeFlow(keys, '', header(jar), NOW, true)).toBeNull();
    expect(takeFlow(keys, 'x'.repeat(10_000), header(jar), NOW, true)).toBeNull();
    expect(takeFlow(keys, 's1', undefined, NOW, true)).toBeNull();
  });

  it('refuses a tampered cookie, one sealed with another key, and an expired one', () => {
    const name = flowCookieName('s1', true);
    const [cookie] = startFlow(keys, input('s1'), NOW, undefined, true).setCookies;
    const value = (cookie as string).slice(name.length + 1, (cookie as string).indexOf(';'));
    const tampered = value.slice(0, 40) + (value[40] === 'A' ? 'B' : 'A') + value.slice(41);
    expect(takeFlow(keys, 's1', `${name}=${tampered}`, NOW, true)).toBeNull();
    const [foreign] = startFlow(testKeys('flow'), input('s1'), NOW, undefined, true).setCookies;
    expect(takeFlow(keys, 's1', (foreign as string).split(';')[0], NOW, true)).toBeNull();
    expect(takeFlow(keys, 's1', `${name}=${value}`, NOW + FLOW_LIFETIME_SECONDS * 1000, true)).toBeNull();
  });

  it('refuses a valid flow cookie moved under the name of another state', () => {
    const [cookie] = startFlow(keys, input('s1'), NOW, undefined, true).setCookies;
    const value = (cookie as string).slice((cookie as string).indexOf('=') + 1, (cookie as string).indexOf(';'));
    expect(takeFlow(keys, 's2', `${flowCookieName('s2', true)}=${value}`, NOW, true)).toBeNull();
  });

  it('refuses a sealed payload that is not a flow', () => {
    const fake = seal(keys, { exp: NOW_S + 60, state: 's1' }, NOW);
    expect(takeFlow(keys, 's1', `${flowCookieName('s1', true)}=${fake}`, NOW, true)).toBeNull();
  });

  it(`several tabs: up to ${MAX_FLOWS} flows coexist, the oldest is expired beyond that`, () => {
    let jar = new Map<string, string>([['app', '1']]);
    for (let i = 1; i <= MAX_FLOWS + 2; i++) {
      jar = apply(jar, startFlow(keys, input(`s${i}`), NOW + i * 1000, header(jar), true).setCookies);
    }
    const flowNames = [...jar.keys()].filter((n) => n.startsWith('__Host-gatehouse_flow_'));
    expect(flowNames).toHaveLength(MAX_FLOWS);
    expect(jar.has(flowCookieName('s1', true))).toBe(false);
    expect(jar.has(flowCookieName('s2', true))).toBe(false);
    for (let i = 3; i <= MAX_FLOWS + 2; i++) {
      expect(takeFlow(keys, `s${i}`, header(jar), NOW + 10_000, true)?.flow.codeVerifier).toBe(`verifier-s${i}`);
    }
    expect(jar.get('app')).toBe('1');
  });

  it('expires flow cookies that no longer open when starting a new flow', () => {
    const stale = `${flowCookieName('old', true)}=garbage`;
    const { setCookies } = startFlow(keys, input('s1'), NOW, `${stale}; app=1`, true);
    expect(setCookies).toHaveLength(2);
    expect(setCookies[1]).toMatch(new RegExp(`^${flowCookieName('old', true)}=; .*Max-Age=0`));
  });

  it('does not touch cookies that only look like flow cookies', () => {
    const { setCookies } = startFlow(keys, input('s1'), NOW, '__Host-gatehouse_flow_nothex00=1; __Host-gatehouse_flow_=2', true);
    expect(setCookies).toHaveLength(1);
  });
});
