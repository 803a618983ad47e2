import { describe, expect, it } from 'vitest';
import { translateContainers, VALUE_KEYS } from '../../../src/labels/index.ts';
import { closestKey, editDistance } from '../../../src/labels/keys.ts';
import { container, listing, OPTIONS } from './containers.ts';

function issuesFor(labels: Record<string, string>, prefix = 'iap') {
  const base = { [`${prefix}.from`]: 'https://wiki.example.com', [`${prefix}.allow`]: '*' };
  return translateContainers(listing([container({ name: 'wiki', labels: { ...base, ...labels } })]), { ...OPTIONS, prefix });
}

/** [label, message after `container "wiki": `]. */
const UNKNOWN: [string, string][] = [
  ['iap.alow', 'unknown label iap.alow — did you mean iap.allow?'],
  ['iap.From', 'unknown label iap.From — did you mean iap.from?'],
  ['iap.websocket', 'unknown label iap.websocket — did you mean iap.websockets?'],
  ['iap.strip-path', 'unknown label iap.strip-path — did you mean iap.strip_path?'],
  ['iap.admin.prot', 'unknown label iap.admin.prot — did you mean iap.admin.port?'],
  ['iap.headers.X-User', 'unknown label iap.headers.X-User — did you mean iap.header.X-User?'],
  ['iap.reader.prot', 'unknown label iap.reader.prot — did you mean iap.reader.port?'],
  ['iap.admin.headr.X-User', 'unknown label iap.admin.headr.X-User — did you mean iap.admin.header.X-User?'],
  ['iap.header', 'unknown label iap.header — name the header: iap.header.<Header-Name>'],
  ['iap.enable.x', 'unknown label iap.enable.x — "enable" is a key and cannot name a route'],
  ['iap.path.from', 'unknown label iap.path.from — "path" is a key and cannot name a route'],
  ['iap.Admin.from', 'unknown label iap.Admin.from — "Admin" is not a valid route name: use lowercase letters, digits and -, starting with a letter, at most 32 characters'],
  ['iap.default.port', 'unknown label iap.default.port — "default" names the top-level route: write iap.port'],
  ['iap.zzzzzz', `unknown label iap.zzzzzz — known keys: ${[...VALUE_KEYS, 'header'].join(', ')}`],
  ['iap.admin.from.extra', 'unknown label iap.admin.from.extra — did you mean iap.admin.from?'],
  ['iap', 'unknown label iap — write iap.<key> or iap.<route>.<key>'],
];

describe('label names', () => {
  it.each(UNKNOWN)('%s is reported with a hint', (label, message) => {
    const result = issuesFor({ [label]: 'x' });
    expect(result.specs).toEqual([]);
    expect(result.issues).toEqual([
      { source: { kind: 'container', containerId: 'c0ffee000001', containerName: 'wiki' }, label, value: null, code: 'unknown_key', message: `container "wiki": ${message}` },
    ]);
  });

  it('works with a dotted prefix and ignores labels of other prefixes', () => {
    const result = issuesFor({ 'com.example.iap.alow': 'x', 'iap.whatever': 'y', 'traefik.enable': 'true' }, 'com.example.iap');
    expect(result.issues.map((i) => i.message)).toEqual(['container "wiki": unknown label com.example.iap.alow — did you mean com.example.iap.allow?']);
  });

  it('a route named like a key-plus-suffix is still a route when its key is valid', () => {
    const result = issuesFor({ 'iap.paths.from': 'https://other.example.com' });
    expect(result.issues).toEqual([]);
    expect(result.specs.map((s) => s.routeName)).toEqual(['default', 'paths']);
  });

  it('closestKey only suggests within distance 2', () => {
    expect(closestKey('alow')).toBe('allow');
    expect(closestKey('tmeout')).toBe('timeout');
    expect(closestKey('xyzzy')).toBeNull();
    expect(closestKey('prot')).toBe('port');
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
    expect(editDistance('ab', 'ba')).toBe(1);
  });
});
