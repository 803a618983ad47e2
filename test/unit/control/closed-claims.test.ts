import { describe, expect, it } from 'vitest';
import { createTableBuilder } from '../../../src/control/index.ts';
import { translateContainers } from '../../../src/labels/index.ts';
import { matchClaim, type RouteTable } from '../../../src/routes/index.ts';
import { container, listing, OPTIONS } from '../labels/containers.ts';

const translate = (l: Parameters<typeof translateContainers>[0]) => translateContainers(l, OPTIONS);
const shop = { 'com.docker.compose.project': 'shop' };
const web = container({ id: 'web', name: 'web', created: 100, labels: { ...shop, 'iap.from': 'https://app.example', 'iap.allow': '*' } });
const admin = (labels: Record<string, string>, state = 'running') =>
  container({ id: 'admin', name: 'admin', created: 200, state, labels: { ...shop, 'iap.from': 'https://app.example', 'iap.path': '/admin', ...labels } });

const stateAt = (table: RouteTable, path: string) => {
  const claim = matchClaim(table, 'app.example', path);
  return claim === undefined ? 'unknown' : claim.state;
};

describe('createTableBuilder: stopped and rejected containers hold their addresses', () => {
  it('holds /admin as misconfigured while its labels are rejected, and frees it once the container is gone', () => {
    const builder = createTableBuilder(translate, { claims: { prefix: 'iap' } });
    const good = builder.build(listing([web, admin({ 'iap.allow': 'group:admins' })]), null);
    expect(stateAt(good, '/admin/x')).toBe('live');
    const broken = builder.build(listing([web, admin({ 'iap.allow': 'group admins!' })]), null);
    expect(stateAt(broken, '/admin/x')).toBe('misconfigured');
    expect(stateAt(broken, '/other')).toBe('live');
    expect(broken.closed.map((claim) => claim.owner)).toEqual([{ kind: 'compose', project: 'shop' }]);
    const removed = builder.build(listing([web]), null);
    expect(stateAt(removed, '/admin/x')).toBe('live');
    expect(removed.closed).toEqual([]);
  });

  it('holds a stopped container\'s addresses as stopped, and reuses the table while nothing changes', () => {
    const builder = createTableBuilder(translate, { claims: { prefix: 'iap' } });
    const first = builder.build(listing([web, admin({}, 'exited')]), null);
    expect(stateAt(first, '/admin')).toBe('stopped');
    expect(builder.build(listing([web, admin({}, 'exited')]), null)).toBe(first);
    expect(stateAt(builder.build(listing([web, admin({})]), null), '/admin')).toBe('live');
  });

  it('holds the addresses of the routes file\'s rejected entries', () => {
    const builder = createTableBuilder(translate, { claims: { prefix: 'iap' } });
    const closed = [
      {
        source: { kind: 'file' as const, file: '/r.yml', index: 0 },
        routeName: 'file:0',
        hosts: ['app.example'],
        path: '/admin',
        state: 'misconfigured' as const,
        owner: { kind: 'file' as const, file: '/r.yml' },
      },
    ];
    const table = builder.build(listing([]), { specs: [], issues: [], closed });
    expect(stateAt(table, '/admin')).toBe('misconfigured');
    expect(stateAt(table, '/')).toBe('unknown');
  });
});
