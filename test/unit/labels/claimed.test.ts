import { describe, expect, it } from 'vitest';
import { claimedAddresses, createUnitReader, ownerOf } from '../../../src/labels/index.ts';
import { container } from './containers.ts';

describe('claimedAddresses: what a container holds even when its labels are rejected', () => {
  it('reads the top-level route and named routes, which inherit from and path', () => {
    expect(
      claimedAddresses(
        {
          'iap.from': 'https://App.example, https://alias.example',
          'iap.path': '/app',
          'iap.admin.path': '/admin',
          'iap.api.from': 'https://api.example',
          'iap.allow': 'not a policy!',
        },
        'iap',
      ),
    ).toEqual([
      { routeName: 'default', hosts: ['app.example', 'alias.example'], path: '/app' },
      { routeName: 'admin', hosts: ['app.example', 'alias.example'], path: '/admin' },
      { routeName: 'api', hosts: ['api.example'], path: '/app' },
    ]);
  });

  it('closes the whole host when the path does not parse', () => {
    expect(claimedAddresses({ 'iap.from': 'https://app.example', 'iap.admin.path': 'admin/../x%zz' }, 'iap')).toEqual([
      { routeName: 'default', hosts: ['app.example'], path: '/' },
      { routeName: 'admin', hosts: ['app.example'], path: '/' },
    ]);
  });

  it('claims nothing without a readable from, for a disabled container or route, or under another prefix', () => {
    expect(claimedAddresses({ 'iap.from': 'not a url', 'iap.path': '/x' }, 'iap')).toEqual([]);
    expect(claimedAddresses({ 'iap.from': 'https://app.example', 'iap.enable': 'false' }, 'iap')).toEqual([]);
    expect(claimedAddresses({ 'iap.from': 'https://app.example', 'iap.admin.path': '/admin', 'iap.admin.enable': 'no' }, 'iap')).toEqual([
      { routeName: 'default', hosts: ['app.example'], path: '/' },
    ]);
    expect(claimedAddresses({ 'other.from': 'https://app.example' }, 'iap')).toEqual([]);
  });
});

describe('ownerOf: the unit a container belongs to', () => {
  it('is the stack, else the compose project, else the container alone', () => {
    expect(ownerOf(container({ labels: { 'com.docker.stack.namespace': 'prod', 'com.docker.compose.project': 'shop' } }))).toEqual({ kind: 'stack', namespace: 'prod' });
    expect(ownerOf(container({ labels: { 'com.docker.compose.project': 'shop' } }))).toEqual({ kind: 'compose', project: 'shop' });
    expect(ownerOf(container({ id: 'abc', name: 'solo', labels: { 'com.docker.compose.project': '' } }))).toEqual({ kind: 'container', containerId: 'abc', containerName: 'solo' });
  });
});

describe('createUnitReader: one owner object per unit', () => {
  const compose = (id: string, project: string, engine?: string) =>
    container({ id, name: id, labels: { 'com.docker.compose.project': project }, ...(engine === undefined ? {} : { engine }) });
  const stack = (id: string, namespace: string, engine?: string) =>
    container({ id, name: id, labels: { 'com.docker.stack.namespace': namespace }, ...(engine === undefined ? {} : { engine }) });

  it('reads what ownerOf reads, and gives every container of one project the same frozen object', () => {
    const units = createUnitReader();
    const listed = [compose('a', 'shop'), compose('b', 'shop'), stack('c', 'shop'), compose('d', 'blog'), compose('e', 'shop', 'pi'), stack('f', 'shop', 'pi')];
    for (const c of listed) expect(units.ownerOf(c)).toEqual(ownerOf(c));
    const [a, b, c, d, e, f] = listed.map((x) => units.ownerOf(x));
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(units.ownerOf(compose('g', 'shop'))).toBe(a);
    // Another kind, project, or engine with the same name: another unit.
    expect(new Set([a, c, d, e, f]).size).toBe(5);
    expect(units.size).toBe(5);
  });

  it('keeps engines apart whatever order containers come in', () => {
    const units = createUnitReader();
    const order = [compose('a', 'media'), compose('b', 'media', 'pi'), compose('c', 'media'), compose('d', 'media', 'pi'), compose('e', 'media', 'nas')];
    const owners = order.map((c) => units.ownerOf(c));
    expect(owners.map((o) => (o.kind === 'compose' ? o.engine ?? 'local' : o.kind))).toEqual(['local', 'pi', 'local', 'pi', 'nas']);
    expect(owners[2]).toBe(owners[0]);
    expect(owners[3]).toBe(owners[1]);
    // Absent when there is one engine, as the published table expects.
    expect(Object.keys(owners[0] as object)).toEqual(['kind', 'project']);
  });

  it('gives a container alone an owner of its own, and forgets every unit when cleared', () => {
    const units = createUnitReader();
    const solo = container({ id: 'x', name: 'x' });
    expect(units.ownerOf(solo)).toEqual({ kind: 'container', containerId: 'x', containerName: 'x' });
    const shop = units.ownerOf(compose('a', 'shop'));
    units.clear();
    expect(units.size).toBe(0);
    const again = units.ownerOf(compose('b', 'shop'));
    expect(again).toEqual(shop);
    expect(again).not.toBe(shop);
  });
});

describe('claimedAddresses: enable and the order of named routes', () => {
  it('lists named routes by name whatever order the labels come in, after the top-level route', () => {
    const labels = {
      'iap.zeta.path': '/z',
      'iap.alpha.path': '/a',
      'iap.mid.path': '/m',
      'iap.from': 'https://app.example',
    };
    expect(claimedAddresses(labels, 'iap').map((claim) => claim.routeName)).toEqual(['default', 'alpha', 'mid', 'zeta']);
  });

  it('claims nothing for the top-level route without a top-level from; named routes with their own from still claim', () => {
    expect(claimedAddresses({ 'iap.path': '/x', 'iap.b.from': 'https://b.example', 'iap.a.from': 'https://a.example', 'iap.a.path': '/a' }, 'iap')).toEqual([
      { routeName: 'a', hosts: ['a.example'], path: '/a' },
      { routeName: 'b', hosts: ['b.example'], path: '/x' },
    ]);
  });

  it('keeps claiming when enable is true, or not a boolean at all: only a readable false withdraws the claim', () => {
    for (const enable of ['true', 'yes', 'maybe', '']) {
      expect(
        claimedAddresses({ 'iap.from': 'https://app.example', 'iap.enable': enable, 'iap.admin.path': '/admin', 'iap.admin.enable': enable }, 'iap'),
        `enable=${JSON.stringify(enable)}`,
      ).toEqual([
        { routeName: 'default', hosts: ['app.example'], path: '/' },
        { routeName: 'admin', hosts: ['app.example'], path: '/admin' },
      ]);
    }
    for (const enable of ['false', 'no', '0', 'off']) {
      expect(claimedAddresses({ 'iap.from': 'https://app.example', 'iap.enable': enable }, 'iap'), `enable=${enable}`).toEqual([]);
    }
  });

  it('reads only labels under the prefix followed by a dot', () => {
    expect(claimedAddresses({ 'iapx.from': 'https://app.example', iap: 'https://app.example' }, 'iap')).toEqual([]);
  });
});

describe('claimedAddresses: labels that are not values', () => {
  it('ignores unknown and header labels, and a named route with no from anywhere claims nothing', () => {
    expect(
      claimedAddresses({ 'iap.from': 'https://app.example', 'iap.frm': 'https://evil.example', 'iap.header.X-User': 'x', 'iap.admin.header.X-Id': 'y' }, 'iap'),
    ).toEqual([{ routeName: 'default', hosts: ['app.example'], path: '/' }]);
    expect(claimedAddresses({ 'iap.admin.path': '/admin', 'iap.path': '/x' }, 'iap')).toEqual([]);
  });
});
