import { describe, expect, it } from 'vitest';
import { buildRouteTable } from '../../../src/routes/index.ts';
import { containerSpec, fileSpec } from './fixtures.ts';

describe('route ids', () => {
  it.each([
    ['container:0a1b2c', 'container:0a1b2c/default'],
    ['compose:nas/wiki', 'compose:nas/wiki/default'],
    ['swarm:x1y2', 'swarm:x1y2/default'],
    // A bare group name (older claims, tests) still reads as a container group.
    ['wiki', 'container:wiki/default'],
  ])('a route of group %s is %s, its kind said once', (group, id) => {
    const table = buildRouteTable([containerSpec({ name: 'app', group })], []);
    expect(table.routes[0]?.id).toBe(id);
  });

  it.each([
    ['swarm', 'x:y', 'container:swarm/x:y'],
    ['sw', 'arm:x', 'container:sw/arm:x'],
    ['compose', ':a', 'container:compose/:a'],
    ['a/b', 'c', 'container:a/b/c'],
    ['container:', 'x', 'container:/x'],
  ])('a route of group %s named %s is %s: only the group can say the kind', (group, routeName, id) => {
    const table = buildRouteTable([containerSpec({ name: 'app', group, routeName })], []);
    expect(table.routes[0]?.id).toBe(id);
  });

  it('names file routes by file and position', () => {
    const table = buildRouteTable([fileSpec({ file: '/etc/gatehouse/routes.yml', index: 2 })], []);
    expect(table.routes[0]?.id).toBe('file:/etc/gatehouse/routes.yml#2');
  });
});
