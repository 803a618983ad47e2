import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTranslationMemo, sameSnapshot, type ContainerPart, type TranslateContainers } from '../../../src/control/translation-memo.ts';
import type { ContainerSnapshot, DockerListing } from '../../../src/docker/snapshot.ts';
import { translateContainers } from '../../../src/labels/index.ts';
import type { RouteIssue, RouteSpec, TranslationResult } from '../../../src/routes/spec.ts';

/**
 * The memo against translating each container on its own, after every step of random listing
 * changes: each container's part, the merged result, which parts are kept, and the change list.
 * Containers have no route, one (nearly all in real listings) or two, and rejected labels.
 */

const OPTIONS = { prefix: 'iap', dockerNetwork: undefined };

interface Box {
  serial: number;
  routes: 'none' | 'one' | 'two';
  port: string;
  state: string;
  path: string;
}

const boxFields = {
  routes: fc.constantFrom<Box['routes'][]>('none', 'one', 'one', 'one', 'two'),
  port: fc.constantFrom('80', '80', '8080', 'eighty'),
  state: fc.constantFrom('running', 'running', 'exited'),
  path: fc.constantFrom('/', '/api'),
};
const newBox = fc.record(boxFields);

type Step =
  | { op: 'add'; box: Omit<Box, 'serial'> }
  | { op: 'remove'; at: number }
  | { op: 'change'; at: number; box: Omit<Box, 'serial'> }
  | { op: 'move'; from: number; to: number }
  | { op: 'networks'; selfNetworks: readonly string[] | null }
  | { op: 'same' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: newBox.map((box) => ({ op: 'add' as const, box })) },
  { weight: 2, arbitrary: fc.nat().map((at) => ({ op: 'remove' as const, at })) },
  { weight: 3, arbitrary: fc.record({ at: fc.nat(), box: newBox }).map((r) => ({ op: 'change' as const, ...r })) },
  { weight: 1, arbitrary: fc.record({ from: fc.nat(), to: fc.nat() }).map((r) => ({ op: 'move' as const, ...r })) },
  { weight: 1, arbitrary: fc.constantFrom(null, ['proxy'], ['proxy', 'backend']).map((selfNetworks) => ({ op: 'networks' as const, selfNetworks })) },
  { weight: 1, arbitrary: fc.constant({ op: 'same' as const }) },
);

function snapshot(box: Box): ContainerSnapshot {
  const labels: Record<string, string> = {};
  if (box.routes !== 'none') Object.assign(labels, { 'iap.from': `https://c${box.serial}.example`, 'iap.path': box.path, 'iap.allow': '*', 'iap.port': box.port });
  if (box.routes === 'two') Object.assign(labels, { 'iap.admin.from': `https://admin${box.serial}.example`, 'iap.admin.allow': 'group:ops' });
  return {
    id: `id-${box.serial}`,
    name: `box-${box.serial}`,
    labels,
    imageLabels: {},
    state: box.state,
    health: 'none',
    created: box.serial,
    networks: { proxy: '172.18.0.2', backend: '172.19.0.2' },
    networkMode: 'proxy',
    exposedPorts: [80],
  };
}

const real: TranslateContainers = (listing) => translateContainers(listing, OPTIONS);
/** Lists everything backwards: taken apart by id. */
const reversed: TranslateContainers = (listing) => {
  const result = real(listing);
  return { specs: [...result.specs].reverse(), issues: [...result.issues].reverse() };
};
/** Lists routes by route name first, so containers interleave: taken apart by id. */
const byRouteName: TranslateContainers = (listing) => {
  const result = real(listing);
  const rank = (spec: RouteSpec) => (spec.routeName === 'default' ? 0 : 1);
  return { specs: [...result.specs].sort((a, b) => rank(a) - rank(b)), issues: result.issues };
};

const asList = (specs: ContainerPart['specs']): readonly RouteSpec[] => (Array.isArray(specs) ? specs : [specs as RouteSpec]);

describe('createTranslationMemo, for any sequence of listings', () => {
  it.each([
    ['in order', real],
    ['reversed', reversed],
    ['interleaved', byRouteName],
  ])('gives each container the part its own translation gives (%s translator)', (_name, translator) => {
    const seen = { kept: 0, lone: 0, several: 0, issues: 0, incremental: 0 };
    fc.assert(
      fc.property(fc.array(newBox, { maxLength: 6 }), fc.array(step, { minLength: 1, maxLength: 20 }), (initial, steps) => {
        let boxes: Box[] = initial.map((box, serial) => ({ ...box, serial }));
        let serial = boxes.length;
        let selfNetworks: readonly string[] | null = ['proxy'];
        const memo = createTranslationMemo(translator);
        let before = new Map<string, { snapshot: ContainerSnapshot; part: ContainerPart }>();
        let networksBefore: string | null = null;
        for (const s of [{ op: 'same' as const }, ...steps]) {
          const pick = (at: number) => at % Math.max(1, boxes.length);
          if (s.op === 'add') boxes.push({ ...s.box, serial: serial++ });
          else if (s.op === 'remove' && boxes.length > 0) boxes.splice(pick(s.at), 1);
          else if (s.op === 'change' && boxes.length > 0) boxes[pick(s.at)] = { ...s.box, serial: (boxes[pick(s.at)] as Box).serial };
          else if (s.op === 'move' && boxes.length > 0) {
            const [moved] = boxes.splice(pick(s.from), 1);
            boxes.splice(pick(s.to), 0, moved as Box);
            boxes = [...boxes];
          } else if (s.op === 'networks') selfNetworks = s.selfNetworks;

          const listing: DockerListing = { containers: boxes.map(snapshot), selfNetworks };
          const result = memo.translate(listing);
          const own = listing.containers.map((c) => translator({ containers: [c], selfNetworks }));
          const merged: TranslationResult = { specs: own.flatMap((r) => r.specs), issues: own.flatMap((r) => r.issues) };
          expect(result.specs).toEqual(merged.specs);
          expect(result.issues).toEqual(merged.issues);

          const parts = memo.parts;
          expect(parts).not.toBeNull();
          expect(parts?.length).toBe(listing.containers.length);
          const networks = JSON.stringify(selfNetworks);
          const changed: string[] = [];
          listing.containers.forEach((container, i) => {
            const part = parts?.[i] as ContainerPart;
            expect(memo.resultOf(container.id)).toBe(part);
            expect(sameSnapshot(part.snapshot, container)).toBe(true);
            expect(asList(part.specs)).toEqual((own[i] as TranslationResult).specs);
            expect(part.issues).toEqual((own[i] as TranslationResult).issues);
            // One object per container with one route: the spec is kept as it is, in no list.
            const count = (own[i] as TranslationResult).specs.length;
            expect(Array.isArray(part.specs)).toBe(count !== 1);
            if (count === 1) seen.lone++;
            if (count > 1) seen.several++;
            if (part.issues.length > 0) seen.issues++;
            const prior = before.get(container.id);
            const unchanged = networks === networksBefore && prior !== undefined && sameSnapshot(prior.snapshot, container);
            if (unchanged) {
              expect(part).toBe(prior.part);
              seen.kept++;
            } else {
              if (prior !== undefined) expect(part).not.toBe(prior.part);
              changed.push(container.id);
            }
          });
          const change = memo.lastChange;
          if (networks === networksBefore) {
            expect(change).not.toBeNull();
            seen.incremental++;
            expect(change?.changed.map((c) => c.id)).toEqual(changed);
            const ids = new Set(listing.containers.map((c) => c.id));
            expect([...(change?.removed ?? [])].sort()).toEqual([...before.keys()].filter((id) => !ids.has(id)).sort());
          } else {
            expect(change).toBeNull();
          }
          expect(memo.size).toBe(listing.containers.length);
          before = new Map(listing.containers.map((c, i) => [c.id, { snapshot: c, part: parts?.[i] as ContainerPart }]));
          networksBefore = networks;
        }
      }),
      { numRuns: 150 },
    );
    expect(seen.kept).toBeGreaterThan(300);
    expect(seen.lone).toBeGreaterThan(300);
    expect(seen.several).toBeGreaterThan(50);
    expect(seen.issues).toBeGreaterThan(50);
    expect(seen.incremental).toBeGreaterThan(300);
  });
});

describe('createTranslationMemo: a first listing', () => {
  it('hands back the translator\'s own lists when it lists every container in order, and copies nothing', () => {
    const specs: RouteSpec[][] = [];
    const memo = createTranslationMemo((listing) => {
      const result = real(listing);
      specs.push(result.specs);
      return result;
    });
    const routes: Box['routes'][] = ['one', 'two', 'none', 'one'];
    const listing: DockerListing = { containers: routes.map((count, serial) => snapshot({ serial, routes: count, port: '80', state: 'running', path: '/' })), selfNetworks: ['proxy'] };
    const result = memo.translate(listing);
    expect(result.specs).toBe(specs[0]);
    // The parts hold the translator's spec objects: a lone one as it is, two in a list, none in the shared empty list.
    const [one, two, none, last] = memo.parts ?? [];
    expect(one?.specs).toBe(specs[0]?.[0]);
    expect(two?.specs).toEqual(specs[0]?.slice(1, 3));
    expect(none?.specs).toEqual([]);
    expect(last?.specs).toBe(specs[0]?.[3]);
  });

  it('notices an id listed twice in a first listing and translates the listing whole', () => {
    const calls: number[] = [];
    const memo = createTranslationMemo((listing) => {
      calls.push(listing.containers.length);
      return real(listing);
    });
    const a = snapshot({ serial: 1, routes: 'one', port: '80', state: 'running', path: '/' });
    const twin = { ...snapshot({ serial: 2, routes: 'one', port: '80', state: 'running', path: '/' }), id: a.id };
    const result = memo.translate({ containers: [a, twin], selfNetworks: ['proxy'] });
    expect(result).toEqual(real({ containers: [a, twin], selfNetworks: ['proxy'] }));
    expect(memo.size).toBe(0);
    expect(memo.parts).toBeNull();
    expect(memo.resultOf(a.id)).toBeUndefined();
    expect(calls).toEqual([2]);
  });

  it('forgets a first listing whose translation threw, and translates it all on the next call', () => {
    let fail = true;
    const issues: RouteIssue[][] = [];
    const memo = createTranslationMemo((listing) => {
      if (fail) throw new Error('translator bug');
      const result = real(listing);
      issues.push(result.issues);
      return result;
    });
    const listing: DockerListing = { containers: [0, 1].map((serial) => snapshot({ serial, routes: 'one', port: 'eighty', state: 'running', path: '/' })), selfNetworks: ['proxy'] };
    expect(() => memo.translate(listing)).toThrow('translator bug');
    expect(memo.size).toBe(0);
    expect(memo.parts).toBeNull();
    fail = false;
    expect(memo.translate(listing).issues).toEqual(issues[0]);
    expect(memo.parts?.map((part) => part.issues.length)).toEqual([1, 1]);
  });
});
