import { describe, expect, it } from 'vitest';
import { createClaimCollector, createTableBuilder } from '../../../src/control/index.ts';
import { createTranslationMemo } from '../../../src/control/translation-memo.ts';
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

  it('gives, on the memo\'s parts, the owners a fresh reading gives, after a first collect and after each change', () => {
    const memo = createTranslationMemo(translate);
    const collector = createClaimCollector({ prefix: 'iap' });
    const unlabelled = container({ id: 'plain', name: 'plain', labels: { 'com.docker.compose.project': 'shop' } });
    const stopped = container({ id: 'down', name: 'down', state: 'exited', labels: { 'com.docker.compose.project': 'blog', 'iap.from': 'https://down.example' } });
    const steps = [
      [member('a', 'shop'), member('b', 'blog'), unlabelled, stopped],
      [member('a', 'blog'), member('b', 'blog'), unlabelled, stopped, member('c', 'shop', 'pi')],
      [member('b', 'blog'), { ...unlabelled, labels: { ...unlabelled.labels, 'iap.from': 'https://plain.example', 'iap.allow': '*' } }, { ...stopped, state: 'running' }, member('c', 'shop', 'pi')],
    ];
    let previous: ReadonlyMap<string, unknown> | null = null;
    steps.forEach((containers, step) => {
      const l = listing(containers);
      const merged = memo.translate(l);
      const inputs = collector.collect(l, merged, { parts: memo.parts, partOf: memo.resultOf, withheld: new Set(), change: step === 0 ? null : memo.lastChange === null ? null : { ...memo.lastChange, rewithheld: [] } });
      const fresh = createClaimCollector({ prefix: 'iap' }).collect(l, translate(l));
      expect(new Map(inputs.owners)).toEqual(new Map(fresh.owners));
      expect(inputs.owners.size).toBe(fresh.owners.size);
      for (const c of containers) expect(inputs.owners.get(c.id)).toEqual(fresh.owners.get(c.id));
      expect(inputs.closed).toEqual(fresh.closed);
      // Followed change by change: the same map object, told which containers to look at.
      if (step > 0) {
        expect(inputs.owners).toBe(previous);
        expect(inputs.ownersChanged).toBeDefined();
      }
      previous = inputs.owners;
    });
  });

  it('reads the whole listing when a change list cannot be followed from what it kept', () => {
    const l = listing([member('a', 'shop'), member('b', 'blog')]);
    const fresh = () => new Map(createClaimCollector({ prefix: 'iap' }).collect(l, translate(l)).owners);
    const memo = createTranslationMemo(translate);
    const merged = memo.translate(l);
    const noChange = { changed: [], removed: [], rewithheld: [] };
    // The collect before kept its units in a map (the parts were not known): a change list
    // that follows it says nothing about the parts.
    const afterWhole = createClaimCollector({ prefix: 'iap' });
    afterWhole.collect(l, merged, { parts: null, partOf: () => undefined, withheld: new Set(), change: null });
    expect(new Map(afterWhole.collect(l, merged, { parts: memo.parts, partOf: memo.resultOf, withheld: new Set(), change: noChange }).owners)).toEqual(fresh());
    // A changed container whose part is not known.
    const missing = createClaimCollector({ prefix: 'iap' });
    missing.collect(l, merged, { parts: memo.parts, partOf: memo.resultOf, withheld: new Set(), change: null });
    const partOf = (id: string) => (id === 'b' ? undefined : memo.resultOf(id));
    const inputs = missing.collect(l, merged, { parts: memo.parts, partOf, withheld: new Set(), change: { ...noChange, changed: [l.containers[1] as ReturnType<typeof member>] } });
    expect(new Map(inputs.owners)).toEqual(fresh());
  });
});
