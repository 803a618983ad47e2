import { describe, expect, it } from 'vitest';
import { buildRouteTable } from '../../../src/routes/index.ts';
import { containerSpec } from './fixtures.ts';

const client = (clientId: string, host: string) => ({ oidc: { clientId, redirectUris: [`https://${host}/cb`], secret: null } });

describe('the table of OpenID clients declared in labels', () => {
  it('publishes each client id with the route that declared it; routes without redirect URIs declare none', () => {
    const table = buildRouteTable(
      [
        containerSpec({ name: 'grafana', hosts: ['grafana.example'], overrides: client('grafana', 'grafana.example') }),
        containerSpec({ name: 'plain', hosts: ['plain.example'] }),
      ],
      [],
    );
    expect([...table.oidcClients.keys()]).toEqual(['grafana']);
    expect(table.oidcClients.get('grafana')?.hosts).toEqual(['grafana.example']);
    expect(table.issues).toEqual([]);
  });

  it('gives a client id to the oldest container; a younger one keeps its route but gets no client, with an issue', () => {
    const specs = [
      containerSpec({ name: 'young', created: 2000, hosts: ['young.example'], overrides: client('app', 'young.example') }),
      containerSpec({ name: 'old', created: 1000, hosts: ['old.example'], overrides: client('app', 'old.example') }),
    ];
    for (const order of [specs, [...specs].reverse()]) {
      const table = buildRouteTable(order, []);
      expect(table.routes.map((route) => route.hosts[0]).sort()).toEqual(['old.example', 'young.example']);
      expect(table.oidcClients.get('app')?.hosts).toEqual(['old.example']);
      expect(table.issues).toMatchObject([{ code: 'conflict', value: 'app', source: { containerName: 'young' } }]);
      expect(table.issues[0]?.message).toContain('already belongs to container "old"');
    }
  });

  it('publishes no client for a route that lost its host: its redirect URIs would point at a host it does not serve', () => {
    const table = buildRouteTable(
      [
        containerSpec({ name: 'owner', created: 1000, hosts: ['shared.example'] }),
        containerSpec({ name: 'thief', created: 2000, hosts: ['shared.example'], overrides: client('thief', 'shared.example') }),
      ],
      [],
    );
    expect(table.oidcClients.size).toBe(0);
  });

  it('changes the fingerprint when a client changes', () => {
    const a = buildRouteTable([containerSpec({ name: 'app', hosts: ['app.example'], overrides: client('one', 'app.example') })], []);
    const b = buildRouteTable([containerSpec({ name: 'app', hosts: ['app.example'], overrides: client('two', 'app.example') })], []);
    expect(a.fingerprint).not.toBe(b.fingerprint);
  });
});
