import { describe, expect, it } from 'vitest';
import { CookieJar } from '../../helpers/cookie-jar.ts';

const u = (href: string) => new URL(href);

describe('test cookie jar', () => {
  it('keeps host-only cookies on their host and Domain cookies on subdomains', () => {
    const jar = new CookieJar();
    jar.store(u('http://auth.gh.localhost/cb'), ['host=1; Path=/', 'shared=2; Domain=gh.localhost; Path=/']);
    expect(jar.header(u('http://auth.gh.localhost/x'))).toBe('host=1; shared=2');
    expect(jar.header(u('http://app.gh.localhost/'))).toBe('shared=2');
    expect(jar.header(u('http://other.localhost/'))).toBeUndefined();
  });

  it('rejects a Domain the host does not belong to', () => {
    const jar = new CookieJar();
    expect(jar.store(u('http://app.gh.localhost/'), ['evil=1; Domain=other.localhost'])).toEqual(['evil']);
    expect(jar.all()).toEqual([]);
  });

  it('ignores ports, like browsers', () => {
    const jar = new CookieJar();
    jar.store(u('http://127.0.0.1:1111/'), ['a=1; Path=/']);
    expect(jar.header(u('http://127.0.0.1:2222/'))).toBe('a=1');
  });

  it('matches paths on segment boundaries and uses the default path', () => {
    const jar = new CookieJar();
    jar.store(u('http://h.localhost/a/b/page'), ['dflt=1', 'explicit=2; Path=/a']);
    expect(jar.header(u('http://h.localhost/a/b/other'))).toBe('dflt=1; explicit=2');
    expect(jar.header(u('http://h.localhost/a/bc'))).toBe('explicit=2');
    expect(jar.header(u('http://h.localhost/ab'))).toBeUndefined();
  });

  it('treats localhost names and loopback as secure contexts, other http hosts not', () => {
    const jar = new CookieJar();
    expect(jar.store(u('http://app.gh.localhost/'), ['s=1; Secure; Path=/'])).toEqual([]);
    expect(jar.header(u('http://app.gh.localhost/'))).toBe('s=1');
    expect(jar.store(u('http://example.test/'), ['s=1; Secure'])).toEqual(['s']);
    jar.store(u('https://example.test/'), ['t=1; Secure; Path=/']);
    expect(jar.header(u('http://example.test/'))).toBeUndefined();
    expect(jar.header(u('https://example.test/'))).toBe('t=1');
  });

  it('enforces the __Host- and __Secure- prefixes', () => {
    const jar = new CookieJar();
    const rejected = jar.store(u('http://app.gh.localhost/x/y'), [
      '__Host-ok=1; Secure; Path=/',
      '__Host-nosecure=1; Path=/',
      '__Host-domain=1; Secure; Path=/; Domain=gh.localhost',
      '__Host-path=1; Secure; Path=/x',
      '__Host-defaultpath=1; Secure',
      '__Secure-ok=1; Secure; Path=/',
      '__Secure-no=1; Path=/',
    ]);
    expect(rejected).toEqual(['__Host-nosecure', '__Host-domain', '__Host-path', '__Host-defaultpath', '__Secure-no']);
    expect(jar.header(u('http://app.gh.localhost/'))).toBe('__Host-ok=1; __Secure-ok=1');
  });

  it('replaces and deletes cookies by name, domain and path, and honours expiry', () => {
    let now = 0;
    const jar = new CookieJar(() => now);
    jar.store(u('http://h.localhost/'), ['a=1; Path=/', 'b=1; Path=/; Max-Age=10']);
    jar.store(u('http://h.localhost/'), ['a=2; Path=/']);
    expect(jar.header(u('http://h.localhost/'))).toBe('a=2; b=1');
    now = 11_000;
    expect(jar.header(u('http://h.localhost/'))).toBe('a=2');
    jar.store(u('http://h.localhost/'), ['a=; Path=/; Max-Age=0']);
    expect(jar.header(u('http://h.localhost/'))).toBeUndefined();
    jar.store(u('http://h.localhost/'), ['c=1; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT']);
    expect(jar.get('c')).toBeUndefined();
  });
});
