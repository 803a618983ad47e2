import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forEachCookie, getCookie, stripGatehouseCookies } from '../../../src/auth/cookie.ts';
import { stripGatehouseCookies as reexported } from '../../../src/auth/session.ts';

describe('stripGatehouseCookies', () => {
  it.each([
    ['only other cookies', 'a=1; b=2', 'a=1; b=2'],
    ['session in the middle', 'a=1; __Host-gatehouse_session=v1.x.y.z; b=2', 'a=1; b=2'],
    ['session first', '__Host-gatehouse_session=v1.x; b=2', 'b=2'],
    ['session last', 'a=1; gatehouse_session=v1.x', 'a=1'],
    ['chunks', 'a=1; __Host-gatehouse_session.0=x; __Host-gatehouse_session.1=y; b=2', 'a=1; b=2'],
    ['flow cookies', '__Host-gatehouse_flow_0a1b2c3d=x; a=1; gatehouse_flow_deadbeef=y', 'a=1'],
    ['any gatehouse_ name', 'gatehouse_csrf=1; a=1; __Secure-gatehouse_x=2', 'a=1'],
    ['prefix case variants', '__HOST-gatehouse_session=x; GATEHOUSE_session=y; a=1', 'a=1'],
    ['only Gatehouse cookies', '__Host-gatehouse_session=x; gatehouse_flow_00000000=y', undefined],
    ['values kept byte-for-byte', 'a="quoted value"; gatehouse_session=x; b=ä%20=b==; c=', 'a="quoted value"; b=ä%20=b==; c='],
    ['separators without spaces', 'a=1;gatehouse_session=x;b=2', 'a=1;b=2'],
    ['a name that only contains gatehouse_ is kept', 'my_gatehouse_pref=1; gatehouse_session=x', 'my_gatehouse_pref=1'],
    ['a value that mentions gatehouse_ is kept', 'a=gatehouse_session; gatehouse_session=x', 'a=gatehouse_session'],
    ['empty header', '', undefined],
  ])('%s', (_name, header, expected) => {
    expect(stripGatehouseCookies(header)).toBe(expected);
  });

  it('is undefined for no header', () => {
    expect(stripGatehouseCookies(undefined)).toBeUndefined();
  });

  it('is re-exported from session.ts', () => {
    expect(reexported).toBe(stripGatehouseCookies);
  });

  it('property: keeps every other cookie exactly and in order, drops every Gatehouse cookie', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,12}$/);
    const value = fc.stringMatching(/^[A-Za-z0-9!#$%&'()*+\-./:<=>?@[\]^_`{|}~"]{0,20}$/);
    const other = fc.tuple(token, value).filter(([n]) => !/^(__host-|__secure-)?gatehouse_/i.test(n)).map(([n, v]) => `${n}=${v}`);
    const ours = fc
      .tuple(fc.constantFrom('__Host-gatehouse_session', 'gatehouse_session.3', '__Host-gatehouse_flow_0a0b0c0d', 'gatehouse_x'), value)
      .map(([n, v]) => `${n}=${v}`);
    const item = fc.oneof(other.map((text) => ({ text, keep: true })), ours.map((text) => ({ text, keep: false })));
    fc.assert(
      fc.property(fc.array(item, { maxLength: 8 }), (items) => {
        const header = items.map((i) => i.text).join('; ');
        const kept = items.filter((i) => i.keep).map((i) => i.text);
        expect(stripGatehouseCookies(header)).toBe(kept.length === 0 ? undefined : kept.join('; '));
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('cookie parsing', () => {
  it('visits name=value pairs in order, trimming around them', () => {
    const seen: [string, string][] = [];
    forEachCookie(' a=1 ;b = 2;; noequals; c=x=y', (name, value) => seen.push([name, value]));
    expect(seen).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', 'x=y'],
    ]);
  });

  it('getCookie takes the first cookie with that exact name', () => {
    expect(getCookie('A=0; a=1; a=2', 'a')).toBe('1');
    expect(getCookie('a=1', 'b')).toBeUndefined();
  });
});
