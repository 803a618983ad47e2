import { describe, expect, it } from 'vitest';
import {
  cidrContains,
  embeddedIpv4,
  forbiddenTargetReason,
  parseCidr,
  parseIpAddress,
  targetAddressReason,
  type TargetRules,
} from '../../../src/labels/targets.ts';

const NONE: TargetRules = { allow: [], deny: [], own: [] };
const reason = (address: string, rules: TargetRules = NONE, port = 80) => targetAddressReason(rules, address, port);
const cidrs = (...texts: string[]) => texts.map((text) => parseCidr(text) ?? expect.fail(`bad CIDR ${text}`));

describe('forbiddenTargetReason: names', () => {
  it.each([
    'metadata.google.internal',
    'metadata.goog',
    'metadata',
    'instance-data',
    'instance-data.ec2.internal',
    'metadata.tencentyun.com',
    'metadata.azure.internal',
  ])('refuses the metadata name %s, in any case and with a trailing dot', (name) => {
    expect(forbiddenTargetReason(name)).toBe('a cloud metadata service');
    expect(forbiddenTargetReason(`${name.toUpperCase()}.`)).toBe('a cloud metadata service');
    expect(forbiddenTargetReason(`x${name}`)).toBeNull();
  });

  it('refuses localhost and its subdomains, and nothing that merely starts with it', () => {
    expect(forbiddenTargetReason('localhost')).toBe('the loopback interface');
    expect(forbiddenTargetReason('a.localhost')).toBe('the loopback interface');
    expect(forbiddenTargetReason('localhost.example')).toBeNull();
    expect(forbiddenTargetReason('notlocalhost')).toBeNull();
  });
});

describe('the built-in deny-list on addresses', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.255', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.255.255.255', 'unspecified'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['168.63.129.16', 'metadata'],
    ['169.254.0.1', 'link-local'],
    ['169.254.255.255', 'link-local'],
    ['169.254.169.255', 'link-local'],
    ['169.254.170.3', 'link-local'],
    ['::2', 'unspecified'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fd00:ec2::254', 'metadata'],
    ['fe80::1', 'link-local'],
    ['febf:ffff::1', 'link-local'],
  ])('refuses %s (%s)', (address, what) => {
    expect(reason(address)).toContain(what);
  });

  it.each([
    '10.0.0.1', '172.17.0.1', '192.168.1.20', '126.255.255.255', '128.0.0.0', '1.0.0.0', '169.253.255.255', '169.255.0.1',
    '168.254.169.254', '100.100.100.201', '100.100.101.200', '100.101.100.200', '101.100.100.200',
    '168.63.129.17', '168.63.128.16', '168.62.129.16', '167.63.129.16', '255.255.255.255',
    'fd00:ec2::253', 'fd00:ec3::254', 'fd01:ec2::254', 'fd00:ec2:0:1::254', 'fe7f::1', 'fec0::1', '2001:db8::1', '::1:0:0:0',
  ])('allows %s', (address) => {
    expect(reason(address)).toBeNull();
  });

  /** Each form that carries an IPv4 address, spelt for 127.0.0.1 and for 169.254.169.254. */
  const EMBEDDED: [string, string, string][] = [
    ['IPv4-mapped', '::ffff:7f00:1', '::ffff:a9fe:a9fe'],
    ['IPv4-mapped, dotted', '::ffff:127.0.0.1', '::ffff:169.254.169.254'],
    ['IPv4-compatible', '::7f00:1', '::a9fe:a9fe'],
    ['IPv4-compatible, dotted', '::127.0.0.1', '::169.254.169.254'],
    ['SIIT (IPv4-translated)', '::ffff:0:7f00:1', '::ffff:0:a9fe:a9fe'],
    ['NAT64 well-known prefix', '64:ff9b::7f00:1', '64:ff9b::a9fe:a9fe'],
    ['NAT64 well-known prefix, dotted', '64:ff9b::127.0.0.1', '64:ff9b::169.254.169.254'],
    ['NAT64 local-use prefix', '64:ff9b:1:7f00:0:100::', '64:ff9b:1:a9fe:a9:fe00::'],
    ['6to4', '2002:7f00:1::', '2002:a9fe:a9fe::1'],
  ];

  it.each(EMBEDDED)('refuses loopback and metadata in the %s form', (_form, loopback, metadata) => {
    expect(reason(loopback)).toBe('the loopback interface');
    expect(reason(metadata)).toBe('a cloud metadata service');
  });

  it.each([
    ['::ffff:a00:1', [10, 0, 0, 1]],
    ['::a00:1', [10, 0, 0, 1]],
    ['::ffff:0:a00:1', [10, 0, 0, 1]],
    ['64:ff9b::a00:1', [10, 0, 0, 1]],
    ['64:ff9b:1:a00:0:100::', [10, 0, 0, 1]],
    ['2002:a00:1::', [10, 0, 0, 1]],
  ])('reads the IPv4 address inside %s, and allows a private one', (address, v4) => {
    expect(embeddedIpv4(parseIpAddress(address) ?? [])).toEqual(v4);
    expect(reason(address)).toBeNull();
  });

  it.each([
    '::fffe:7f00:1', '::1:ffff:7f00:1', '::ffff:1:7f00:1', '1::ffff:7f00:1', '64:ff9a::7f00:1', '64:ff9b:0:0:0:1:7f00:1',
    '65:ff9b::7f00:1', '64:ff9b:2:7f00:0:100::', '2003:7f00:1::', '2102:7f00:1::',
  ])('embeds nothing in the near miss %s', (address) => {
    expect(embeddedIpv4(parseIpAddress(address) ?? [])).not.toEqual([127, 0, 0, 1]);
    expect(reason(address)).toBeNull();
  });
});

describe('parseIpAddress', () => {
  it.each([
    ['1.2.3.4', [1, 2, 3, 4]],
    ['255.255.255.255', [255, 255, 255, 255]],
    ['[::1]', [...Array(15).fill(0), 1]],
    ['1:2:3:4:5:6:7:8', [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]],
    ['1::', [0, 1, ...Array(14).fill(0)]],
    ['1:2:3:4:5:6:1.2.3.4', [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4]],
  ])('reads %s', (text, bytes) => {
    expect(parseIpAddress(text)).toEqual(bytes);
  });

  it.each(['256.0.0.1', '1.2.3.256', '1.2.3', '127.1', '1.2.3.4.5', 'a.b.c.d', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', '::1%eth0', '12345::', 'g::1', '::ffff:1.2.3', 'example.com', ''])(
    'refuses %s',
    (text) => {
      expect(parseIpAddress(text)).toBeNull();
    },
  );
});

describe('CIDR blocks', () => {
  it('matches on whole and partial bytes, and never across address families', () => {
    const [twelve] = cidrs('172.16.0.0/12');
    expect(cidrContains(twelve!, [172, 31, 255, 255])).toBe(true);
    expect(cidrContains(twelve!, [172, 32, 0, 0])).toBe(false);
    expect(cidrContains(twelve!, [172, 15, 255, 255])).toBe(false);
    const [all] = cidrs('0.0.0.0/0');
    expect(cidrContains(all!, [8, 8, 8, 8])).toBe(true);
    expect(cidrContains(all!, parseIpAddress('::1') ?? [])).toBe(false);
    const [one] = cidrs('10.0.0.7');
    expect(one).toEqual({ bytes: [10, 0, 0, 7], bits: 32 });
    expect(cidrContains(one!, [10, 0, 0, 7])).toBe(true);
    expect(cidrContains(one!, [10, 0, 0, 6])).toBe(false);
    const [v6] = cidrs('fd00::/8');
    expect(cidrContains(v6!, parseIpAddress('fdff::1') ?? [])).toBe(true);
    expect(cidrContains(v6!, parseIpAddress('fe00::1') ?? [])).toBe(false);
  });

  it.each(['10.0.0.0/33', '::/129', '10.0.0.0/8/8', '10.0.0.0/x', 'nas.lan/24', '10.0.0.0/-1'])('refuses %s', (text) => {
    expect(parseCidr(text)).toBeNull();
  });
});

describe('targetAddressReason: operator lists and Gatehouse\'s own endpoints', () => {
  const rules: TargetRules = {
    allow: cidrs('127.0.0.0/30', '192.168.1.10'),
    deny: cidrs('10.9.0.0/16'),
    own: [
      { address: '192.168.1.10', port: 9090, what: "Gatehouse's admin listener" },
      { address: '172.18.0.2', port: null, what: "Gatehouse's own container" },
    ],
  };

  it('lets GATEHOUSE_UPSTREAM_ALLOW lift the built-in deny-list only where it says', () => {
    expect(reason('127.0.0.2', rules)).toBeNull();
    expect(reason('::ffff:127.0.0.3', rules)).toBeNull();
    expect(reason('127.0.0.4', rules)).toBe('the loopback interface');
    expect(reason('169.254.169.254', rules)).toBe('a cloud metadata service');
  });

  it('refuses GATEHOUSE_UPSTREAM_DENY ranges in every form', () => {
    expect(reason('10.9.3.4', rules)).toBe('a range GATEHOUSE_UPSTREAM_DENY refuses');
    expect(reason('::ffff:10.9.3.4', rules)).toBe('a range GATEHOUSE_UPSTREAM_DENY refuses');
    expect(reason('10.10.3.4', rules)).toBeNull();
  });

  it('refuses Gatehouse\'s own endpoints whatever the allow-list says, by port where one is given', () => {
    expect(reason('192.168.1.10', rules, 9090)).toBe("Gatehouse's admin listener");
    expect(reason('::ffff:192.168.1.10', rules, 9090)).toBe("Gatehouse's admin listener");
    expect(reason('192.168.1.10', rules, 8080)).toBeNull();
    expect(reason('172.18.0.2', rules, 1)).toBe("Gatehouse's own container");
    expect(reason('172.18.0.3', rules, 1)).toBeNull();
  });

  it('refuses anything that is not an IP address', () => {
    expect(reason('example.com', rules)).toBe('an address that is not an IP address');
  });
});

/** Flips one bit of one byte: every near miss of a special address, byte by byte. */
function flipped(bytes: readonly number[], index: number, bit: number): number[] {
  const copy = [...bytes];
  copy[index] = (copy[index] as number) ^ bit;
  return copy;
}

function text(bytes: readonly number[]): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16));
  return groups.join(':');
}

describe('near misses, byte by byte', () => {
  const BITS = [0x01, 0x80];

  it.each([
    ['169.254.169.254', 'a cloud metadata service'],
    ['169.254.170.2', 'a cloud metadata service'],
    ['100.100.100.200', 'a cloud metadata service'],
    ['168.63.129.16', 'a cloud metadata service'],
    ['fd00:ec2::254', 'a cloud metadata service'],
  ])('only %s itself is %s', (address, what) => {
    const bytes = parseIpAddress(address) ?? expect.fail();
    expect(reason(address)).toBe(what);
    for (let i = 0; i < bytes.length; i++) {
      for (const bit of BITS) expect(reason(text(flipped(bytes, i, bit))), `${text(flipped(bytes, i, bit))}`).not.toBe(what);
    }
  });

  it('reads fe80::/10 on its first ten bits only', () => {
    expect(reason(text(flipped(parseIpAddress('fe80::1') ?? [], 0, 0x01)))).toBeNull();
    expect(reason(text(flipped(parseIpAddress('fe80::1') ?? [], 1, 0x80)))).toBeNull();
    expect(reason(text(flipped(parseIpAddress('fe80::1') ?? [], 1, 0x40)))).toBeNull();
    expect(reason(text(flipped(parseIpAddress('fe80::1') ?? [], 1, 0x20)))).toBe('a link-local address');
  });

  /** [address embedding 127.0.0.1, the bytes that make up its prefix]. */
  it.each([
    ['::ffff:7f00:1', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
    ['::7f00:1', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
    ['::ffff:0:7f00:1', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
    ['64:ff9b::7f00:1', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
    ['64:ff9b:1:7f00:0:100::', [0, 1, 2, 3, 4, 5]],
    ['2002:7f00:1::', [0, 1]],
  ] as [string, number[]][])('embeds 127.0.0.1 in %s only with its exact prefix', (address, prefix) => {
    const bytes = parseIpAddress(address) ?? expect.fail();
    expect(embeddedIpv4(bytes)).toEqual([127, 0, 0, 1]);
    for (const i of prefix) {
      for (const bit of BITS) expect(embeddedIpv4(flipped(bytes, i, bit)), `${text(flipped(bytes, i, bit))}`).not.toEqual([127, 0, 0, 1]);
    }
  });

  it('finds nothing embedded in an IPv4 address', () => {
    expect(embeddedIpv4([32, 2, 127, 0])).toBeNull();
    expect(embeddedIpv4([0, 100, 255, 155])).toBeNull();
    expect(reason('32.2.127.0', { allow: [], deny: cidrs('127.0.0.0/8'), own: [] })).toBeNull();
  });
});

describe('parsing edge cases', () => {
  it('reads brackets only as a pair', () => {
    expect(parseIpAddress('[::1')).toBeNull();
    expect(parseIpAddress('::1]')).toBeNull();
    expect(parseIpAddress('1::1]')).toBeNull();
    expect(parseIpAddress('[1::1')).toBeNull();
  });

  it('lets :: stand for one group or more, never none', () => {
    expect(parseIpAddress('1:2:3::5:6:7:8')).toEqual([0, 1, 0, 2, 0, 3, 0, 0, 0, 5, 0, 6, 0, 7, 0, 8]);
    expect(parseIpAddress('1:2:3:4::5:6:7:8')).toBeNull();
    expect(parseIpAddress('::1:2:3:4:5:6:7:8')).toBeNull();
  });

  it('reads CIDR blocks with spaces around them, up to the family\'s full length', () => {
    expect(parseCidr(' 10.0.0.0/8 ')).toEqual({ bytes: [10, 0, 0, 0], bits: 8 });
    expect(parseCidr('10.0.0.1/32')).toEqual({ bytes: [10, 0, 0, 1], bits: 32 });
    expect(parseCidr('::1/128')?.bits).toBe(128);
    expect(parseCidr('10.0.0.0/8x')).toBeNull();
    expect(parseCidr('10.0.0.0/')).toBeNull();
  });

  it('compares whole leading bytes too', () => {
    const [sixteen] = cidrs('10.0.0.0/16');
    expect(cidrContains(sixteen!, [11, 0, 1, 2])).toBe(false);
    expect(cidrContains(sixteen!, [10, 1, 1, 2])).toBe(false);
    expect(cidrContains(sixteen!, [10, 0, 200, 2])).toBe(true);
    const [host] = cidrs('10.0.0.7/32');
    expect(cidrContains(host!, [11, 0, 0, 7])).toBe(false);
  });

  it('ignores an own endpoint that is not an address, and never compares addresses of two families', () => {
    const rules: TargetRules = {
      allow: [],
      deny: [],
      own: [
        { address: 'gatehouse.internal', port: null, what: 'bad' },
        { address: 'a00:1::', port: null, what: 'v6 endpoint' },
      ],
    };
    expect(reason('10.0.0.1', rules)).toBeNull();
    expect(reason('a00:1::', rules)).toBe('v6 endpoint');
  });
});
