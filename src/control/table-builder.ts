import type { DockerListing } from '../docker/snapshot.ts';
import { createRouteTableBuilder, type RouteTable } from '../routes/index.ts';
import type { TranslationResult } from '../routes/spec.ts';
import { createClaimCollector } from './closed-claims.ts';
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
  /** The label prefix, to read the addresses a stopped or rejected container still claims. */
  prefix?: string;
}

/**
 * `translateContainers` must translate each container on its own (its result may depend on the
 * container and the listing's `selfNetworks` only) and name that container as the source of
 * every route and issue, as labels/ translateContainers does.
 */
export function createTableBuilder(translateContainers: TranslateContainers, options: TableBuilderOptions = {}): TableBuilder {
  const translations = createTranslationMemo(translateContainers);
  const claims = createClaimCollector(options.prefix ?? 'iap');
  const tables = createRouteTableBuilder();
  return {
    build(listing, fileResult) {
      const containers = translations.translate(listing);
      const specs = fileResult ? [...fileResult.specs, ...containers.specs] : containers.specs;
      const issues = fileResult ? [...fileResult.issues, ...containers.issues] : containers.issues;
      const held = claims.collect(listing, containers);
      const fileClosed = fileResult?.closed ?? [];
      return tables.build(specs, issues, fileClosed.length === 0 ? held : { closed: [...fileClosed, ...held.closed], owners: held.owners });
    },
    get rememberedContainers() {
      return translations.size;
    },
  };
}
