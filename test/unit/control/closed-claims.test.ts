import { describe, expect, it } from 'vitest';
import { createClaimCollector, createTableBuilder } from '../../../src/control/index.ts';
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

  it('keeps a stopped container\'s address closed when the build that saw it stop failed after translating', () => {
    // The upstream check fails once, after the translation memo has taken the listing in but
    // before the claims were collected: the next build must still read the stopped container.
    let failOnce = false;
    const targets = {
      reasonFor: () => {
        if (failOnce) {
          failOnce = false;
          throw new Error('resolver bug');
        }
        return null;
      },
      settled: async () => {},
    };
    const builder = createTableBuilder(translate, { claims: { prefix: 'iap' }, targets });
    expect(stateAt(builder.build(listing([web, admin({})]), null), '/admin')).toBe('live');
    failOnce = true;
    expect(() => builder.build(listing([web, admin({}, 'exited')]), null)).toThrow('resolver bug');
    const after = builder.build(listing([web, admin({}, 'exited')]), null);
    // Not the broader route on the same host: the stopped container's path stays closed.
    expect(stateAt(after, '/admin')).toBe('stopped');
    expect(after.fingerprint).toBe(createTableBuilder(translate, { claims: { prefix: 'iap' } }).build(listing([web, admin({}, 'exited')]), null).fingerprint);
  });
});

describe('createClaimCollector: units', () => {
  const member = (id: string, project: string, engine?: string) =>
    container({ id, name: id, labels: { 'com.docker.compose.project': project, 'iap.from': `https://${id}.example`, 'iap.allow': '*' }, ...(engine === undefined ? {} : { engine }) });
  const collect = (collector: ReturnType<typeof createClaimCollector>, containers: ReturnType<typeof member>[]) => {
    const l = listing(containers);
    return collector.collect(l, translate(l));
  };

  it('names each project once per engine, and tells projects and engines apart', () => {
    const collector = createClaimCollector({ prefix: 'iap' });
    const { owners } = collect(collector, [member('a', 'shop'), member('b', 'blog'), member('c', 'shop'), member('d', 'shop', 'pi'), member('e', 'shop', 'pi')]);
    expect(owners.get('a')).toEqual({ kind: 'compose', project: 'shop' });
    expect(owners.get('c')).toBe(owners.get('a'));
    expect(owners.get('b')).toEqual({ kind: 'compose', project: 'blog' });
    expect(owners.get('d')).toEqual({ kind: 'compose', project: 'shop', engine: 'pi' });
    expect(owners.get('e')).toBe(owners.get('d'));
    expect(collector.rememberedUnits).toBe(3);
  });

  it('does not keep the units of containers long gone, however many project names come and go', () => {
    const collector = createClaimCollector({ prefix: 'iap' });
    for (let i = 0; i < 500; i++) collect(collector, [member('stays', 'shop'), member(`x${i}`, `project-${i}`)]);
    expect(collector.rememberedUnits).toBeLessThanOrEqual(2 * 2 + 64 + 1);
    const { owners } = collect(collector, [member('stays', 'shop')]);
    expect([...owners]).toEqual([['stays', { kind: 'compose', project: 'shop' }]]);
  });
});
