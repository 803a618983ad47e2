import { describe, expect, it } from 'vitest';
import { parsePolicyEntry } from '../../../src/labels/index.ts';
import { parseMfa, parseNetworkList, parseProviderList } from '../../../src/labels/access.ts';
import { clientAddressBytes, compileNetwork, networkContains, parseNetworkText } from '../../../src/labels/networks.ts';

describe('network texts', () => {
  it.each([
    ['192.168.1.0/24', '192.168.1.0/24'],
    [' 10.0.0.5 ', '10.0.0.5'],
    ['10.0.0.5/32', '10.0.0.5'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['FD00::/8', 'fd00::/8'],
    ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8:0000:0000:1:0:0:0/125', '2001:db8:0:0:1::/125'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['::', '::'],
    ['::ffff:10.9.0.0/112', '10.9.0.0/16'],
    ['::ffff:192.168.1.5', '192.168.1.5'],
  ])('%s → %s', (raw, text) => {
    expect(parseNetworkText(raw)).toBe(text);
  });

  it.each(['192.168.1.7/24', '192.168.1.0/33', '256.1.1.1', '10.0.0', 'nas.lan', 'fe80::1%eth0', '::1/129', '1.2.3.4/', '', 'fd00::1/8'])('refuses %j', (raw) => {
    expect(parseNetworkText(raw)).toBeNull();
  });

  it('matches addresses of the same family only', () => {
    const lan = compileNetwork('192.168.1.0/24')!;
    expect(networkContains(lan, '192.168.1.255')).toBe(true);
    expect(networkContains(lan, '192.168.2.0')).toBe(false);
    expect(networkContains(lan, '::ffff:192.168.1.9')).toBe(true);
    expect(networkContains(lan, 'fd00::1')).toBe(false);
    expect(networkContains(lan, 'not an address')).toBe(false);
    expect(networkContains(lan, '192.168.1.0/24')).toBe(false);
    const v6 = compileNetwork('fd00::/8')!;
    expect(networkContains(v6, 'fdff:ffff::1')).toBe(true);
    expect(networkContains(v6, 'fe00::1')).toBe(false);
  });
});

describe('clientAddressBytes', () => {
  it('answers the same for an address seen before, and stays right past its memo bound', () => {
    const lan = compileNetwork('10.0.0.0/16')!;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 5_000; i++) {
        const address = `10.${i % 3}.${(i >> 8) & 255}.${i & 255}`;
        expect(networkContains(lan, address)).toBe(i % 3 === 0);
      }
    }
    expect(clientAddressBytes('::ffff:10.0.0.1')).toEqual([10, 0, 0, 1]);
    expect(clientAddressBytes('nonsense')).toBeNull();
    expect(clientAddressBytes('nonsense')).toBeNull();
  });
});

describe('policy entries provider: and ip:', () => {
  it.each([
    ['provider:google', { kind: 'provider', provider: 'google' }],
    ['provider: Google ', { kind: 'provider', provider: 'google' }],
    ['provider:local', { kind: 'provider', provider: 'local' }],
    ['ip:192.168.1.0/24', { kind: 'ip', network: '192.168.1.0/24' }],
    ['ip:FD00::/8', { kind: 'ip', network: 'fd00::/8' }],
    ['ip:10.0.0.1', { kind: 'ip', network: '10.0.0.1' }],
  ])('%s', (text, entry) => {
    expect(parsePolicyEntry(text)).toEqual(entry);
  });

  it.each(['provider:', 'provider:goo gle', 'provider:1st', 'provider:a_b', 'ip:', 'ip:192.168.1.7/24', 'ip:lan'])('refuses %j', (text) => {
    expect(parsePolicyEntry(text)).toBeNull();
  });
});

describe('route values', () => {
  it('providers: names, lowercased, once each', () => {
    expect(parseProviderList('Google, local, google')).toEqual({ ok: true, value: ['google', 'local'] });
    expect(parseProviderList('google workspace')).toMatchObject({ ok: false });
    expect(parseProviderList(' , ')).toMatchObject({ ok: false });
  });

  it('mfa: required or off', () => {
    expect(parseMfa('required')).toEqual({ ok: true, value: true });
    expect(parseMfa('Off')).toEqual({ ok: true, value: false });
    expect(parseMfa('sometimes')).toMatchObject({ ok: false, problem: expect.stringContaining('required') });
  });

  it('networks: every bad item named at once', () => {
    expect(parseNetworkList('10.0.0.0/8, 10.0.0.0/8, ::1')).toEqual({ ok: true, value: ['10.0.0.0/8', '::1'] });
    const bad = parseNetworkList('10.0.0.1/8, lan, 10.0.0.0/8');
    expect(bad).toMatchObject({ ok: false });
    expect(bad.ok ? '' : bad.problem).toContain('"10.0.0.1/8", "lan"');
  });
});
