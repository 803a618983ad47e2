import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  copyHeaders,
  copyHosts,
  copyKeyField,
  copyList,
  copyPolicy,
  copySource,
  copyUpstream,
  frozenCanonical,
  isFrozenCanonical,
  SharedParts,
  upstreamTarget,
} from '../../../src/routes/copies.ts';
import type { RoutePolicy, RouteSource, UpstreamTarget } from '../../../src/routes/spec.ts';

/**
 * The route table takes a part of a spec as it is when it is already what a copy would be:
 * frozen all the way down and canonical (routes/copies.ts). These hold that anything less is
 * copied, that what is taken is taken by identity, and that taking a part never changes the
 * table's JSON from what a copy gives (fingerprints and sameTables compare that JSON).
 */

/** Object.freeze on every object of `value`, keys left in the order they were written. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}

function isDeepFrozen(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}

/** A plain, unfrozen deep copy in the same key order (JSON round trip). */
const thawed = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

function policy(overrides: Partial<RoutePolicy> = {}): RoutePolicy {
  return { allow: [{ email: 'ann@example.com', kind: 'email' }, { domain: 'example.org', kind: 'domain' }], bypass: [], corsPreflight: false, deny: [], public: false, ...overrides };
}

describe('isFrozenCanonical', () => {
  it('accepts JSON data frozen all the way down with every record in sorted key order', () => {
    expect(isFrozenCanonical(deepFreeze({ a: [1, 'x', null, true, { b: 1, c: [] }], b: {} }))).toBe(true);
    expect(isFrozenCanonical('text')).toBe(true);
    expect(isFrozenCanonical(deepFreeze([]))).toBe(true);
  });

  it('refuses what is not frozen, at any depth', () => {
    expect(isFrozenCanonical({ a: 1 })).toBe(false);
    expect(isFrozenCanonical([1])).toBe(false);
    expect(isFrozenCanonical(Object.freeze({ a: [1] }))).toBe(false);
    expect(isFrozenCanonical(Object.freeze({ a: Object.freeze([{ b: 1 }]) }))).toBe(false);
    expect(isFrozenCanonical(Object.freeze([Object.freeze([[1]])]))).toBe(false);
  });

  it('refuses records whose keys are not in code-unit order', () => {
    expect(isFrozenCanonical(deepFreeze({ kind: 'email', email: 'ann@example.com' }))).toBe(false);
    expect(isFrozenCanonical(deepFreeze({ a: { d: 1, c: 2 } }))).toBe(false);
    // Code-point order is not code-unit order: U+FF01 comes before U+1F600 by code point only.
    expect(isFrozenCanonical(deepFreeze({ '\uff01': 1, '\u{1f600}': 2 }))).toBe(false);
    expect(isFrozenCanonical(deepFreeze({ '\u{1f600}': 2, '\uff01': 1 }))).toBe(true);
    // Integer-like keys are enumerated first, in numeric order: 9 before 10 is not code-unit order.
    expect(isFrozenCanonical(deepFreeze({ 9: 'a', 10: 'b' }))).toBe(false);
  });

  it('refuses keys a copy would not keep: inherited, undefined, or on a prototype other than Object.prototype', () => {
    const parent = { inherited: 'x' };
    expect(isFrozenCanonical(Object.freeze(Object.create(parent, { own: { value: 1, enumerable: true } })))).toBe(false);
    expect(isFrozenCanonical(Object.freeze({ a: undefined }))).toBe(false);
    expect(isFrozenCanonical(Object.freeze(Object.assign(Object.create(null), { a: 1 })))).toBe(false);
    expect(isFrozenCanonical(Object.freeze(new Date(0)))).toBe(false);
    class Listish extends Array<number> {}
    expect(isFrozenCanonical(Object.freeze(Listish.from([1])))).toBe(false);
  });

  it('refuses every record while Object.prototype has an enumerable key (a polluted prototype), and the copy leaves it out', () => {
    const entry = Object.freeze({ email: 'ann@example.com', kind: 'email' });
    Object.defineProperty(Object.prototype, 'zz', { value: 'polluted', enumerable: true, configurable: true, writable: true });
    try {
      expect(isFrozenCanonical(entry)).toBe(false);
      const shared = new SharedParts();
      const [copy] = frozenCanonical([entry], shared) as [object];
      expect(copy).not.toBe(entry);
      expect(Object.keys(copy)).toEqual(['email', 'kind']);
    } finally {
      delete (Object.prototype as Record<string, unknown>).zz;
    }
    expect(isFrozenCanonical(entry)).toBe(true);
  });

  it('refuses values JSON does not hold as they are: functions, symbols, big integers, holes', () => {
    expect(isFrozenCanonical(Object.freeze({ a: () => 1 }))).toBe(false);
    expect(isFrozenCanonical(Object.freeze({ a: Symbol('s') }))).toBe(false);
    expect(isFrozenCanonical(Object.freeze({ a: 1n }))).toBe(false);
    // eslint-disable-next-line no-sparse-arrays
    expect(isFrozenCanonical(Object.freeze([1, , 3]))).toBe(false);
  });

  it('accepts a hostile key (`__proto__`, `constructor`) held as data, in order, and the copy agrees', () => {
    const hostile = deepFreeze(JSON.parse('{"__proto__":"x","constructor":"y","toString":"z"}') as Record<string, string>);
    expect(Object.getPrototypeOf(hostile)).toBe(Object.prototype);
    expect(isFrozenCanonical(hostile)).toBe(true);
    expect(frozenCanonical(hostile)).toBe(hostile);
    expect(JSON.stringify(frozenCanonical(thawed(hostile)))).toBe(JSON.stringify(hostile));
  });

  it('gives up on parts nested deeper than it looks, which are then copied', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 20; i++) deep = Object.freeze([deep]);
    expect(isFrozenCanonical(deep)).toBe(false);
    const copy = frozenCanonical(deep);
    expect(copy).not.toBe(deep);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(deep));
  });
});

/** JSON values with keys that make records odd: prototype names, Unicode of either plane, integer-like keys. */
const oddKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'kind', 'email', '', '0', '9', '10', 'a', 'B', '\u00e9', '\uff01', '\u{1f600}', '\ud800'),
  fc.string({ maxLength: 4 }),
);
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.string({ maxLength: 6 }), fc.integer(), fc.boolean(), fc.constant(null), tie('list'), tie('record')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  record: fc.array(fc.tuple(oddKey, tie('value')), { maxLength: 5 }).map((entries) => {
    const record: Record<string, unknown> = {};
    for (const [key, item] of entries) Object.defineProperty(record, key, { value: item, enumerable: true, writable: true, configurable: true });
    return record;
  }),
})).value;

describe('frozenCanonical, taking parts as they are', () => {
  it('gives the JSON a copy of the thawed value gives, frozen all the way down, and takes a canonical value by identity', () => {
    fc.assert(
      fc.property(jsonValue, fc.boolean(), (value, freeze) => {
        const given = freeze ? deepFreeze(value) : value;
        const copy = frozenCanonical(given);
        expect(JSON.stringify(copy)).toBe(JSON.stringify(frozenCanonical(thawed(value))));
        expect(isDeepFrozen(copy)).toBe(true);
        if (isFrozenCanonical(given)) expect(copy).toBe(given);
        else if (given !== null && typeof given === 'object') expect(copy).not.toBe(given);
        // A copy is canonical unless integer-like keys (enumerated first, in numeric order) mix
        // with others: then copying it again gives another copy with the same JSON.
        if (isFrozenCanonical(copy)) expect(frozenCanonical(copy)).toBe(copy);
        else expect(JSON.stringify(frozenCanonical(copy))).toBe(JSON.stringify(copy));
      }),
      { numRuns: 500 },
    );
  });

  it('shares a translated list item equal to one shared before, and remembers the first one as it is', () => {
    const shared = new SharedParts();
    const first = Object.freeze({ domain: 'example.org', kind: 'domain' });
    const second = Object.freeze({ domain: 'example.org', kind: 'domain' });
    const a = frozenCanonical([first], shared) as readonly object[];
    const b = frozenCanonical([second], shared) as readonly object[];
    expect(a[0]).toBe(first);
    expect(b[0]).toBe(first);
    // Unfrozen and in another key order: still found, not copied.
    expect((frozenCanonical([{ kind: 'domain', domain: 'example.org' }], shared) as readonly object[])[0]).toBe(first);
    // Same kind and text under another key: a different entry.
    const odd = (frozenCanonical([Object.freeze({ email: 'example.org', kind: 'domain' })], shared) as readonly object[])[0];
    expect(odd).not.toBe(first);
    expect(odd).toEqual({ email: 'example.org', kind: 'domain' });
  });

  it('never shares a frozen item that is not canonical, or one with a mutable value', () => {
    const shared = new SharedParts();
    // In canonical order but not frozen: copied, and the copy is what is shared from then on.
    const open = { domain: 'example.org', kind: 'domain' };
    const [openCopy] = frozenCanonical([open], shared) as [object];
    expect(openCopy).not.toBe(open);
    expect(Object.isFrozen(openCopy)).toBe(true);
    expect((frozenCanonical([{ domain: 'example.org', kind: 'domain' }], shared) as [object])[0]).toBe(openCopy);
    const unsorted = Object.freeze({ kind: 'domain', domain: 'example.org' });
    const copy = (frozenCanonical([unsorted], shared) as readonly object[])[0];
    expect(copy).not.toBe(unsorted);
    expect(Object.keys(copy as object)).toEqual(['domain', 'kind']);
    const nested = Object.freeze({ kind: 'ppl', rule: { and: [] } });
    const nestedCopy = (frozenCanonical([nested], shared) as readonly object[])[0] as { rule: object };
    expect(nestedCopy).not.toBe(nested);
    expect(Object.isFrozen(nestedCopy.rule)).toBe(true);
  });
});

describe('the parts of a route', () => {
  it('take a frozen canonical policy by identity', () => {
    const given = deepFreeze(policy());
    expect(copyPolicy(given)).toBe(given);
    expect(copyKeyField('policy', given)).toBe(given);
  });

  it('copy a policy that is not frozen, frozen but unsorted, or frozen with a mutable list or entry', () => {
    const cases: RoutePolicy[] = [
      policy(),
      deepFreeze({ public: false, allow: [], bypass: [], corsPreflight: false, deny: [] }),
      Object.freeze(policy()),
      Object.freeze({ ...policy(), allow: Object.freeze([{ email: 'ann@example.com', kind: 'email' as const }]) as RoutePolicy['allow'] }),
      Object.freeze({ ...deepFreeze(policy()), deny: [] }),
      deepFreeze({ ...policy(), extra: 1 } as RoutePolicy),
    ];
    for (const given of cases) {
      const copy = copyPolicy(given);
      expect(copy).not.toBe(given);
      expect(isFrozenCanonical(copy)).toBe(true);
      expect(Object.keys(copy)).toEqual(Object.keys(given).sort());
      expect(JSON.stringify(copy)).toBe(JSON.stringify(frozenCanonical(thawed(given))));
    }
  });

  it('take a frozen upstream in the table\'s key order by identity, and copy any other', () => {
    const plain = upstreamTarget('http://172.18.0.5:80', 'c1', true, 'running');
    const onNetwork = upstreamTarget('http://172.18.0.5:80', 'c1', true, 'running', 'proxy');
    expect(copyUpstream(plain)).toBe(plain);
    expect(copyUpstream(onNetwork)).toBe(onNetwork);
    const others: UpstreamTarget[] = [
      { origin: 'http://172.18.0.5:80', containerId: 'c1', ready: true, state: 'running' },
      Object.freeze({ containerId: 'c1', origin: 'http://172.18.0.5:80', ready: true, state: 'running' }),
      Object.freeze({ origin: 'http://172.18.0.5:80', containerId: 'c1', ready: true, state: 'running', network: undefined }),
      Object.freeze({ origin: 'http://172.18.0.5:80', containerId: 'c1', ready: true, state: 'running', extra: 'x' } as UpstreamTarget),
      Object.freeze({ origin: { toString: () => 'x' }, containerId: 'c1', ready: true, state: 'running' } as unknown as UpstreamTarget),
    ];
    for (const given of others) {
      const copy = copyUpstream(given);
      expect(copy).not.toBe(given);
      expect(Object.isFrozen(copy)).toBe(true);
      expect(Object.keys(copy)).toEqual(['origin', 'containerId', 'ready', 'state']);
    }
  });

  it('take a frozen source in sorted key order by identity, and copy any other', () => {
    const container: RouteSource = Object.freeze({ containerId: 'c1', containerName: 'app', created: 1, group: 'container:c1', kind: 'container' });
    const file: RouteSource = Object.freeze({ file: '/routes.yml', index: 0, kind: 'file' });
    expect(copySource(container)).toBe(container);
    expect(copySource(file)).toBe(file);
    const others: RouteSource[] = [
      { containerId: 'c1', containerName: 'app', created: 1, group: 'container:c1', kind: 'container' },
      Object.freeze({ kind: 'container', containerId: 'c1', containerName: 'app', group: 'container:c1', created: 1 }),
      Object.freeze({ containerId: 'c1', containerName: 'app', created: 1, group: 'container:c1', kind: 'container', extra: [] } as RouteSource),
    ];
    for (const given of others) {
      const copy = copySource(given);
      expect(copy).not.toBe(given);
      expect(Object.keys(copy)).toEqual(['containerId', 'containerName', 'created', 'group', 'kind']);
    }
  });

  it('take a frozen list of distinct host names by identity, and copy one with repeats or one not frozen', () => {
    const hosts = Object.freeze(['a.example', 'b.example']);
    expect(copyHosts(hosts)).toBe(hosts);
    const repeated = Object.freeze(['a.example', 'b.example', 'a.example']);
    expect(copyHosts(repeated)).toEqual(['a.example', 'b.example']);
    const open = ['a.example'];
    const copy = copyHosts(open);
    expect(copy).not.toBe(open);
    expect(Object.isFrozen(copy)).toBe(true);
  });

  it('take frozen canonical headers and lists by identity, and copy the rest sorted', () => {
    const headers = Object.freeze({ 'X-A': 'a', 'X-B': 'b' });
    expect(copyHeaders(headers)).toBe(headers);
    const unsorted = Object.freeze({ 'X-B': 'b', 'X-A': 'a' });
    expect(Object.keys(copyHeaders(unsorted))).toEqual(['X-A', 'X-B']);
    const list = Object.freeze(['x-a']);
    expect(copyList(list)).toBe(list);
    const open = ['x-a'];
    expect(copyList(open)).not.toBe(open);
    expect(Object.isFrozen(copyList(open))).toBe(true);
  });

  it('copy a key field whose record is frozen but holds a mutable list', () => {
    const access = Object.freeze({ maxAgeMs: null, mfa: true, networks: ['10.0.0.0/8'], providers: Object.freeze([]), trustedNetworks: Object.freeze([]) });
    const copy = copyKeyField('access', access) as typeof access;
    expect(copy).not.toBe(access);
    expect(Object.isFrozen(copy.networks)).toBe(true);
    const canonical = deepFreeze({ ...access, networks: ['10.0.0.0/8'] });
    expect(copyKeyField('access', canonical)).toBe(canonical);
  });
});
