import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTableBuilder, createTargetCheck, createTargetRules, listenerEndpoints, type ResolveAll, type TargetCheck } from '../../../src/control/index.ts';
import type { ContainerSnapshot, DockerListing } from '../../../src/docker/snapshot.ts';
import { translateContainers } from '../../../src/labels/index.ts';
import { sameTables } from '../../../src/routes/index.ts';

const OPTIONS = { prefix: 'iap', dockerNetwork: undefined };
const translate = (listing: DockerListing) => translateContainers(listing, OPTIONS);

/** Where a container's route points: a free address, Gatehouse's own listener, loopback, or a name. */
const TARGETS = ['http://10.1.0.7:8080', 'http://192.168.1.10:9090', 'http://127.0.0.1:8080', 'http://app.lan:8080', 'http://db.lan:5432'] as const;
const NAMES = ['app.lan', 'db.lan'] as const;
const ANSWERS = [[], ['10.1.0.9'], ['127.0.0.1'], ['192.168.1.10'], ['169.254.169.254']] as const;

type Step =
  | { kind: 'put'; slot: number; target: number; version: number }
  | { kind: 'remove'; slot: number }
  | { kind: 'own'; listener: boolean }
  | { kind: 'answer'; name: number; answer: number }
  | { kind: 'tick' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('put' as const), slot: fc.integer({ min: 0, max: 5 }), target: fc.integer({ min: 0, max: TARGETS.length - 1 }), version: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), slot: fc.integer({ min: 0, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('own' as const), listener: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('answer' as const), name: fc.integer({ min: 0, max: NAMES.length - 1 }), answer: fc.integer({ min: 0, max: ANSWERS.length - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const) }) },
);

function box(slot: number, target: number, version: number): ContainerSnapshot {
  return {
    id: `id-${slot}`,
    name: `app-${slot}`,
    labels: { 'iap.from': `https://app-${slot}.example`, 'iap.allow': `user${version}@example.com`, 'iap.to': TARGETS[target] as string },
    imageLabels: {},
    state: 'running',
    health: 'none',
    created: 1_000 + slot,
    networks: { proxy: `172.18.0.${slot + 2}` },
    networkMode: 'proxy',
    exposedPorts: [80],
  };
}

describe('the target pass of a table builder', () => {
  it('asks only about changed containers while the check stays in one generation, and gives the table a whole pass gives', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), async (steps) => {
        const answers = new Map<string, readonly string[]>();
        const resolveAll: ResolveAll = async (hostname) => (answers.get(hostname) ?? []).map((address) => ({ address, family: 4 }));
        const rules = createTargetRules();
        let clock = 0;
        const check = createTargetCheck({ rules: rules.current, resolveAll, onChange: () => {}, now: () => clock, refreshMs: 1_000 });
        // The same verdicts, asked about every route on every build: no generation.
        const whole: TargetCheck = { reasonFor: (origin) => check.reasonFor(origin), settled: () => check.settled() };
        const incremental = createTableBuilder(translate, { claims: { prefix: 'iap' }, targets: check });
        const slots = new Map<number, ContainerSnapshot>();
        const asked: string[] = [];
        const counting: TargetCheck = {
          reasonFor: (origin) => {
            asked.push(origin);
            return check.reasonFor(origin);
          },
          settled: () => check.settled(),
          generation: () => (check.generation as () => number)(),
        };
        const counted = createTableBuilder(translate, { claims: { prefix: 'iap' }, targets: counting });
        let countedIn = -1;
        for (const next of steps) {
          if (next.kind === 'put') slots.set(next.slot, box(next.slot, next.target, next.version));
          else if (next.kind === 'remove') slots.delete(next.slot);
          else if (next.kind === 'own') rules.setOwn('listeners', next.listener ? listenerEndpoints([{ host: '0.0.0.0', port: 9090, what: "Gatehouse's admin listener" }], ['192.168.1.10']) : []);
          else if (next.kind === 'answer') answers.set(NAMES[next.name] as string, ANSWERS[next.answer] as readonly string[]);
          else clock += 2_000;
          const listed: DockerListing = { containers: [...slots.values()], selfNetworks: ['proxy'] };
          const built = incremental.build(listed, null);
          const reference = createTableBuilder(translate, { claims: { prefix: 'iap' }, targets: whole }).build(listed, null);
          expect(built.fingerprint).toBe(reference.fingerprint);
          expect(sameTables(built, reference)).toBe(true);
          const before = asked.length;
          const generation = (check.generation as () => number)();
          counted.build(listed, null);
          // In the generation of the previous build, with one container changed at most, the pass asks about that one container's route only.
          if (generation === countedIn) expect(asked.length - before).toBeLessThanOrEqual(next.kind === 'put' ? 1 : 0);
          countedIn = generation;
          await check.settled();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('refuses a route at once when the rules change, with no change to the container', () => {
    const rules = createTargetRules();
    const check = createTargetCheck({ rules: rules.current, resolveAll: async () => [], onChange: () => {}, now: () => 0 });
    const builder = createTableBuilder(translate, { claims: { prefix: 'iap' }, targets: check });
    const listed: DockerListing = { containers: [box(0, 1, 0), box(1, 0, 0)], selfNetworks: ['proxy'] };
    expect(builder.build(listed, null).routes.map((route) => route.id)).toHaveLength(2);
    rules.setOwn('listeners', listenerEndpoints([{ host: '0.0.0.0', port: 9090, what: "Gatehouse's admin listener" }], ['192.168.1.10']));
    const after = builder.build({ containers: [...listed.containers], selfNetworks: ['proxy'] }, null);
    expect(after.routes.map((route) => route.hosts[0])).toEqual(['app-1.example']);
    expect(after.issues).toMatchObject([{ code: 'forbidden_target', value: 'http://192.168.1.10:9090' }]);
  });

  it('refreshes a stale answer even when no route naming it changed, and refuses the route once the name moves to loopback', async () => {
    const answers = new Map<string, readonly string[]>([['app.lan', ['10.1.0.9']]]);
    let clock = 0;
    let changes = 0;
    const check = createTargetCheck({ rules: createTargetRules().current, resolveAll: async (name) => (answers.get(name) ?? []).map((address) => ({ address, family: 4 })), onChange: () => changes++, now: () => clock, refreshMs: 1_000 });
    const builder = createTableBuilder(translate, { claims: { prefix: 'iap' }, targets: check });
    const named = box(0, 3, 0);
    const other = box(1, 0, 0);
    builder.build({ containers: [named, other], selfNetworks: ['proxy'] }, null);
    await check.settled();
    expect(builder.build({ containers: [named, other], selfNetworks: ['proxy'] }, null).routes).toHaveLength(2);
    answers.set('app.lan', ['127.0.0.1']);
    clock = 5_000;
    // Only the other container changes: the named one's route is not asked about, yet its answer is due.
    builder.build({ containers: [named, box(1, 0, 1)], selfNetworks: ['proxy'] }, null);
    await check.settled();
    expect(changes).toBe(2);
    const after = builder.build({ containers: [named, box(1, 0, 1)], selfNetworks: ['proxy'] }, null);
    expect(after.routes.map((route) => route.hosts[0])).toEqual(['app-1.example']);
    expect(after.issues[0]?.message).toContain('app.lan resolves to 127.0.0.1, the loopback interface');
  });
});
