import { describe, expect, it } from 'vitest';
import { createTrustedProxies, normalizeIp, resolveClientIp } from '../../../src/proxy/trusted-proxies.ts';

describe('createTrustedProxies', () => {
  const trusted = createTrustedProxies(['10.0.0.0/8', '172.18.0.5', 'fd00::/8', '::1']);

  it.each([
    ['10.1.2.3', true],
    ['11.0.0.1', false],
    ['172.18.0.5', true],
    ['172.18.0.6', false],
    ['::ffff:10.9.9.9', true],
    ['::FFFF:172.18.0.5', true],
    ['::ffff:192.168.1.1', false],
    ['fd12:3456::1', true],
    ['fe80::1', false],
    ['::1', true],
    ['[::1]', true],
    ['fd00::1%eth0', true],
    ['not-an-ip', false],
    ['', false],
  ])('%s → %s', (address, expected) => {
    expect(trusted.isTrusted(address)).toBe(expected);
  });

  it('trusts nobody by default', () => {
    const none = createTrustedProxies([]);
    expect(none.isEmpty).toBe(true);
    expect(none.isTrusted('127.0.0.1')).toBe(false);
  });

  it('rejects entries that are not addresses', () => {
    expect(() => createTrustedProxies(['example.com'])).toThrow(/not an IP address/);
  });
});

describe('normalizeIp', () => {
  it('unwraps IPv4-mapped addresses, brackets and zone ids', () => {
    expect(normalizeIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeIp('[2001:db8::1]')).toBe('2001:db8::1');
    expect(normalizeIp('fe80::1%lo')).toBe('fe80::1');
    expect(normalizeIp(' 10.0.0.1 ')).toBe('10.0.0.1');
  });
});

describe('resolveClientIp', () => {
  const trusted = createTrustedProxies(['10.0.0.0/8']);

  it('is the peer when the peer is not trusted, whatever X-Forwarded-For says', () => {
    expect(resolveClientIp('203.0.113.5', '10.0.0.1', trusted)).toBe('203.0.113.5');
  });

  it('reads right to left from a trusted peer, skipping trusted hops', () => {
    expect(resolveClientIp('10.0.0.2', '6.6.6.6, 198.51.100.7, 10.0.0.9', trusted)).toBe('198.51.100.7');
    expect(resolveClientIp('::ffff:10.0.0.2', '198.51.100.7', trusted)).toBe('198.51.100.7');
  });

  it('stops at the last trusted hop when the chain holds garbage or is all trusted', () => {
    expect(resolveClientIp('10.0.0.2', 'garbage, 10.0.0.3', trusted)).toBe('10.0.0.3');
    expect(resolveClientIp('10.0.0.2', '10.0.0.4, 10.0.0.3', trusted)).toBe('10.0.0.4');
    expect(resolveClientIp('10.0.0.2', undefined, trusted)).toBe('10.0.0.2');
  });
});
