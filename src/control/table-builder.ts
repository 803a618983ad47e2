import type { DockerListing } from '../docker/index.ts';
import { createRouteTableBuilder, type RouteTable } from '../routes/index.ts';
import type { RouteIssue, RouteSpec, TranslationResult } from '../routes/index.ts';
import type { TargetCheck } from './target-check.ts';
import { createClaimCollector } from './closed-claims.ts';
import type { ClaimReading } from '../labels/index.ts';
import { createTranslationMemo, type TranslateContainers } from './translation-memo.ts';

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
  const refusals = new WeakMap<RouteSpec, { reason: string; issue: RouteIssue }>();
  let withheldBefore: ReadonlySet<string> = NONE_WITHHELD;
  // Whether the collector has collected after every translation the memo made: a build that
  // failed between the two leaves the memo a change ahead, so the next collect reads everything.
  let collectorInStep = false;
  return {
    build(listing, fileResult) {
      const inStep = collectorInStep;
      collectorInStep = false;
      const translated = translations.translate(listing);
      const { containers, withheld } = options.targets ? withoutForbiddenTargets(translated, options.targets, refusals) : { containers: translated, withheld: NONE_WITHHELD };
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

function withoutForbiddenTargets(
  containers: TranslationResult,
  targets: TargetCheck,
  refusals: WeakMap<RouteSpec, { reason: string; issue: RouteIssue }>,
): { containers: TranslationResult; withheld: ReadonlySet<string> } {
  let refused: Map<string, RouteIssue> | null = null;
  for (const spec of containers.specs) {
    const source = spec.source;
    if (source.kind !== 'container') continue;
    const reason = targets.reasonFor(spec.upstream.origin);
    if (reason === null) continue;
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
    refused ??= new Map();
    if (!refused.has(source.containerId)) refused.set(source.containerId, known.issue);
  }
  if (refused === null) return { containers, withheld: NONE_WITHHELD };
  const withheld = refused;
  return {
    containers: {
      specs: containers.specs.filter((spec) => spec.source.kind !== 'container' || !withheld.has(spec.source.containerId)),
      issues: [...containers.issues, ...withheld.values()],
    },
    withheld: new Set(withheld.keys()),
  };
}
