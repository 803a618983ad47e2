import type { DockerListing } from '../docker/index.ts';
import { createRouteTableBuilder, type RouteTable } from '../routes/index.ts';
import type { RouteIssue, RouteSpec, TranslationResult } from '../routes/index.ts';
import type { TargetCheck } from './target-check.ts';
import { createClaimCollector } from './closed-claims.ts';
import type { ClaimReading } from '../labels/index.ts';
import { createTranslationMemo, specsOf, type ContainerPart, type ListingChange, type TranslateContainers } from './translation-memo.ts';

/** Containers + routes file → route tables, one build after another. */
export interface TableBuilder {
  /**
   * The table a from-scratch build of the same inputs gives, at a cost that follows what
   * changed since the previous build: containers whose snapshot is unchanged are not
   * translated again, and routes whose members are unchanged are not merged, frozen or
   * serialised again. The routes file's result is reused as given, so it must not be changed
   * in place once passed.
   */
  build(listing: DockerListing, fileResult: TranslationResult | null): RouteTable;
  /** Containers remembered now (those of the latest listing), for tests and diagnostics. */
  readonly rememberedContainers: number;
}

export interface TableBuilderOptions {
  /** How to read the addresses a stopped or rejected container still claims (prefix, image labels, sign-in host). */
  claims?: ClaimReading;
  /** Rejects label routes whose upstream resolves to a refused address. */
  targets?: TargetCheck;
}

/**
 * `translateContainers` must translate each container on its own (its result may depend on the
 * container and the listing's `selfNetworks` only) and name that container as the source of
 * every route and issue, as labels/ translateContainers does.
 */
export function createTableBuilder(translateContainers: TranslateContainers, options: TableBuilderOptions = {}): TableBuilder {
  const translations = createTranslationMemo(translateContainers);
  const claims = createClaimCollector(options.claims ?? { prefix: 'iap' });
  const tables = createRouteTableBuilder();
  // The same issue object for the same refusal, so an unchanged table is recognised as such.
  const refusals: Refusals = new WeakMap();
  // The latest target pass, with the check's generation it was made in: while the generation
  // stays, the next pass asks only about the containers the memo translated again.
  let targetPass: { readonly generation: number; readonly refused: Refused } | null = null;
  let withheldBefore: ReadonlySet<string> = NONE_WITHHELD;
  // Whether the collector has collected after every translation the memo made: a build that
  // failed between the two leaves the memo a change ahead, so the next collect reads everything.
  let collectorInStep = false;
  return {
    build(listing, fileResult) {
      const inStep = collectorInStep;
      collectorInStep = false;
      const translated = translations.translate(listing);
      let containers = translated;
      let withheld = NONE_WITHHELD;
      const targets = options.targets;
      if (targets !== undefined) {
        // Read before any verdict: an answer or a rules change after it makes the next pass a whole one.
        const generation = targets.generation?.();
        const previous = targetPass;
        targetPass = null;
        const change = translations.lastChange;
        const since =
          generation !== undefined && previous !== null && previous.generation === generation && change !== null
            ? refusedSince(previous.refused, change, translations.resultOf, targets, refusals)
            : null;
        const refused = since ?? refusedTargets(translated.specs, targets, refusals);
        ({ containers, withheld } = withholding(translated, refused));
        if (generation !== undefined) targetPass = { generation, refused };
      }
      const specs = fileResult ? [...fileResult.specs, ...containers.specs] : containers.specs;
      const issues = fileResult ? [...fileResult.issues, ...containers.issues] : containers.issues;
      // Each container's own part of the translation lets the collector skip the unchanged ones.
      const listingChange = translations.lastChange;
      // A container's withheld flag may change with no change of its own (a name resolved since): both sets are read again.
      const rewithheld = withheld === withheldBefore ? withheld : new Set([...withheldBefore, ...withheld]);
      withheldBefore = withheld;
      const change = listingChange === null || !inStep ? null : { ...listingChange, rewithheld };
      const held = claims.collect(listing, containers, { parts: translations.parts, partOf: translations.resultOf, withheld, change });
      collectorInStep = true;
      const fileClosed = fileResult?.closed ?? [];
      return tables.build(specs, issues, fileClosed.length === 0 ? held : { ...held, closed: [...fileClosed, ...held.closed] });
    },
    get rememberedContainers() {
      return translations.size;
    },
  };
}

/**
 * A container with a route whose upstream is refused is withheld whole, as a container with any
 * other rejected label is, so its addresses stay closed as misconfigured.
 */
const NONE_WITHHELD: ReadonlySet<string> = new Set();

/** Container id → the issue that withholds it, for the containers with a refused upstream. */
type Refused = ReadonlyMap<string, RouteIssue>;

const NONE_REFUSED: Refused = new Map();

/** Every container route of the translation asked about, in order; the first refusal of a container is its issue. */
function refusedTargets(specs: readonly RouteSpec[], targets: TargetCheck, refusals: Refusals): Refused {
  let refused: Map<string, RouteIssue> | null = null;
  for (const spec of specs) {
    const issue = refusalOf(spec, targets, refusals);
    if (issue === null) continue;
    // A refusal names its container (refusalOf gives none for a file route).
    const containerId = (spec.source as { readonly containerId: string }).containerId;
    refused ??= new Map();
    if (!refused.has(containerId)) refused.set(containerId, issue);
  }
  return refused ?? NONE_REFUSED;
}

/**
 * The previous pass's refusals with only the containers that changed or went asked about again:
 * with the check's generation unchanged, every other container's routes get the verdicts they got.
 * Null when a changed container's part is not known: then every route is asked about again.
 */
function refusedSince(previous: Refused, change: ListingChange, partOf: (containerId: string) => ContainerPart | undefined, targets: TargetCheck, refusals: Refusals): Refused | null {
  if (change.changed.length === 0 && (previous.size === 0 || change.removed.length === 0)) return previous;
  const refused = new Map(previous);
  for (const id of change.removed) refused.delete(id);
  for (const snapshot of change.changed) {
    refused.delete(snapshot.id);
    const part = partOf(snapshot.id);
    if (part === undefined) return null;
    for (const spec of specsOf(part)) {
      const issue = refusalOf(spec, targets, refusals);
      if (issue !== null && !refused.has(snapshot.id)) refused.set(snapshot.id, issue);
    }
  }
  return refused.size === 0 ? NONE_REFUSED : refused;
}

type Refusals = WeakMap<RouteSpec, { reason: string; issue: RouteIssue }>;

/** The issue that withholds a container route whose upstream the check refuses; null when it may connect (file routes are the operator's). */
function refusalOf(spec: RouteSpec, targets: TargetCheck, refusals: Refusals): RouteIssue | null {
  const source = spec.source;
  if (source.kind !== 'container') return null;
  const reason = targets.reasonFor(spec.upstream.origin);
  if (reason === null) return null;
  let known = refusals.get(spec);
  if (known === undefined || known.reason !== reason) {
    const issue: RouteIssue = {
      source: { kind: 'container', containerId: source.containerId, containerName: source.containerName },
      label: null,
      value: spec.upstream.origin,
      code: 'forbidden_target',
      message: `container "${source.containerName}": route ${spec.routeName} connects to ${spec.upstream.origin}, but ${reason}, which container labels may not target; point it at the app's own address (or the operator can allow the range with GATEHOUSE_UPSTREAM_ALLOW)`,
    };
    known = { reason, issue };
    refusals.set(spec, known);
  }
  return known.issue;
}

/** The translation without the routes of withheld containers, and with the issue of each. */
function withholding(containers: TranslationResult, refused: Refused): { containers: TranslationResult; withheld: ReadonlySet<string> } {
  if (refused.size === 0) return { containers, withheld: NONE_WITHHELD };
  return {
    containers: {
      specs: containers.specs.filter((spec) => spec.source.kind !== 'container' || !refused.has(spec.source.containerId)),
      issues: [...containers.issues, ...refused.values()],
    },
    withheld: new Set(refused.keys()),
  };
}
