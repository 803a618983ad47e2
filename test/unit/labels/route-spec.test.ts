import { describe, expect, it } from 'vitest';
import { buildRouteSpec, keyFields, type RouteParts } from '../../../src/labels/index.ts';
import { FIELD_KEYS, KEY_FIELDS, type RouteSettings, type ValueKey } from '../../../src/routes/index.ts';

/** Values of every shape a key field takes; for each key the first its schema accepts and that is not its default. */
const CANDIDATES: readonly unknown[] = [
  true,
  false,
  '/wiki',
  123_456,
  [{ kind: 'email', email: 'ann@example.com' }],
  [{ method: 'GET', path: '/healthz' }],
  { mode: 'upstream' },
  'jwt',
  'off',
  'least_request',
  'forward_auth',
  ['https://a.example.com/cb'],
  { 'x-frame-options': 'DENY' },
];

function settingValue(name: ValueKey): unknown {
  const field = KEY_FIELDS[name];
  const value = CANDIDATES.find((candidate) => field.schema.safeParse(candidate).success && JSON.stringify(candidate) !== JSON.stringify(field.default));
  if (value === undefined) throw new Error(`no test value for key ${name}: add one to CANDIDATES`);
  return value;
}

function parts(settings: Partial<RouteSettings>): RouteParts {
  return {
    source: { kind: 'container', containerId: 'c1', containerName: 'app', group: 'container:c1', created: 1 },
    routeName: 'default',
    from: { hosts: ['app.example.com'], scheme: 'https' },
    settings,
    setHeaders: {},
    removeHeaders: [],
    upstream: { origin: 'http://172.18.0.5:80', containerId: 'c1', ready: true, state: 'running' },
    defaultName: 'app',
  };
}

/** The key fields of a spec, by the generic fill of the key table (keyFields). */
function keyFieldsOf(spec: object): Record<string, unknown> {
  const record = spec as Record<string, unknown>;
  return Object.fromEntries([...new Set(FIELD_KEYS.map(([, path]) => path[0] as string))].map((top) => [top, record[top]]));
}

describe('buildRouteSpec', () => {
  it('fills every key field as the key table says, with no key set', () => {
    expect(keyFieldsOf(buildRouteSpec(parts({})))).toEqual(keyFieldsOf(keyFields({}, 'app')));
  });

  it('fills every key field as the key table says, with every key set', () => {
    const settings = Object.fromEntries(FIELD_KEYS.map(([name]) => [name, settingValue(name)])) as Partial<RouteSettings>;
    expect(keyFieldsOf(buildRouteSpec(parts(settings)))).toEqual(keyFieldsOf(keyFields(settings, 'app')));
  });

  it.each(FIELD_KEYS.map(([name]) => name))('puts %s in its own field and nowhere else', (name) => {
    const settings = { [name]: settingValue(name) } as Partial<RouteSettings>;
    const expected = keyFieldsOf(keyFields(settings, 'app'));
    expect(keyFieldsOf(buildRouteSpec(parts(settings)))).toEqual(expected);
    // The key's value reached its field, so the comparison above is not between two defaults.
    const path = (FIELD_KEYS.find(([key]) => key === name) as (typeof FIELD_KEYS)[number])[1];
    expect(path.reduce<unknown>((at, step) => (at as Record<string, unknown>)[step], expected)).toEqual(settingValue(name));
  });

  it('copies the lists it is given, so a spec never shares a list with its translator', () => {
    const allow = [{ kind: 'email' as const, email: 'ann@example.com' }];
    const given = parts({ allow });
    given.removeHeaders = ['x-a'];
    given.setHeaders = { 'X-B': 'b' };
    const spec = buildRouteSpec(given);
    expect(spec.policy.allow).toEqual(allow);
    expect(spec.policy.allow).not.toBe(allow);
    expect(spec.removeHeaders).not.toBe(given.removeHeaders);
    expect(spec.setHeaders).not.toBe(given.setHeaders);
    expect(spec.hosts).not.toBe(given.from.hosts);
  });

  it('shares one frozen group among specs that leave every key of it at its default, and makes its own once one is set', () => {
    const plain = [buildRouteSpec(parts({})), buildRouteSpec(parts({}))];
    expect(plain[0]?.access).toBe(plain[1]?.access);
    expect(plain[0]?.oidc).toBe(plain[1]?.oidc);
    expect(Object.isFrozen(plain[0]?.access)).toBe(true);
    const strict = buildRouteSpec(parts({ mfa: true }));
    expect(strict.access).not.toBe(plain[0]?.access);
    expect(strict.access.mfa).toBe(true);
    expect(buildRouteSpec(parts({ 'oidc.client_id': 'app' })).oidc.clientId).toBe('app');
  });

  it('lists each group of fields in sorted order, the order the route table copies them in', () => {
    const spec = buildRouteSpec(parts({})) as unknown as Record<string, Record<string, unknown>>;
    for (const group of ['policy', 'display', 'access', 'oidc']) {
      const keys = Object.keys(spec[group] as object);
      expect(keys, group).toEqual([...keys].sort());
    }
  });
});
