import { describe, expect, it } from 'vitest';
import { parseTarget, translateContainers } from '../../../src/labels/index.ts';
import { container, listing, OPTIONS } from './containers.ts';

/** [to, what the refusal names]. */
const FORBIDDEN: [string, string][] = [
  ['http://127.0.0.1:8080', 'loopback'],
  ['http://127.9.8.7', 'loopback'],
  ['http://2130706433', 'loopback'],
  ['http://0x7f.1:80', 'loopback'],
  ['http://localhost:3000', 'loopback'],
  ['http://LOCALHOST.:3000', 'loopback'],
  ['http://app.localhost', 'loopback'],
  ['http://[::1]:8080', 'loopback'],
  ['http://[0:0:0:0:0:0:0:1]', 'loopback'],
  ['http://[::ffff:127.0.0.1]', 'loopback'],
  ['http://[::127.0.0.1]', 'loopback'],
  ['http://0.0.0.0:80', 'unspecified'],
  ['http://[::]:80', 'unspecified'],
  ['http://169.254.169.254/', 'metadata'],
  ['http://[::ffff:169.254.169.254]', 'metadata'],
  ['http://[fd00:ec2::254]', 'metadata'],
  ['http://metadata.google.internal', 'metadata'],
  ['http://Metadata.Google.Internal.', 'metadata'],
  ['http://100.100.100.200', 'metadata'],
  ['http://169.254.10.20:80', 'link-local'],
  ['http://[fe80::1]:80', 'link-local'],
  ['http://[febf::1]:80', 'link-local'],
];

const ALLOWED = [
  'http://192.168.1.20:32400',
  'http://10.0.0.1',
  'http://172.17.0.1:8080',
  'http://126.255.255.255',
  'http://128.0.0.1',
  'http://169.253.1.1',
  'http://[fec0::1]',
  'http://[2001:db8::1]',
  'http://[::ffff:10.0.0.1]',
  'http://nas.lan:5000',
  'http://localhost-proxy:80',
  'http://metadata-service:80',
];

describe('forbidden upstream targets', () => {
  it.each(FORBIDDEN)('labels may not target %s (%s)', (to, reason) => {
    const parsed = parseTarget(to, { allowLocal: false });
    expect(parsed).toMatchObject({ ok: false, forbidden: true });
    if (!parsed.ok) expect(parsed.problem).toContain(reason);
  });

  it.each(FORBIDDEN)('the routes file may target %s', (to) => {
    expect(parseTarget(to, { allowLocal: true }).ok).toBe(true);
  });

  it.each(ALLOWED)('labels may target %s', (to) => {
    expect(parseTarget(to, { allowLocal: false }).ok).toBe(true);
  });

  it('reports a forbidden iap.to with its own code and withholds the container', () => {
    const result = translateContainers(
      listing([container({ name: 'plex', labels: { 'iap.from': 'https://plex.example.com', 'iap.to': 'http://127.0.0.1:32400', 'iap.allow': '*' } })]),
      OPTIONS,
    );
    expect(result.specs).toEqual([]);
    expect(result.issues).toEqual([
      {
        source: { kind: 'container', containerId: 'c0ffee000001', containerName: 'plex' },
        label: 'iap.to',
        value: 'http://127.0.0.1:32400',
        code: 'forbidden_target',
        message: 'container "plex": iap.to="http://127.0.0.1:32400": points at the loopback interface, which container labels may not target',
      },
    ]);
  });
});
