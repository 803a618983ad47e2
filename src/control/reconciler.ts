import type { ClaimReading } from '../labels/index.ts';
import type { DockerListing } from '../docker/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { diffTables, RouteIssue, sameTables, type RouteTable, type TranslationResult } from '../routes/index.ts';
import type { Generation, RouteStore } from './store.ts';
import { createTableBuilder } from './table-builder.ts';
import { createThrottle } from './throttle.ts';
import { createTargetCheck, type ResolveAll } from './target-check.ts';
import type { TargetRules } from '../labels/index.ts';

export interface ReconcilerOptions {
  /**
   * Pure, and each container translated on its own, naming that container as the source of its
   * routes and issues (see createTableBuilder): after a change only the changed containers are
   * translated again.
   */
  translateContainers: (listing: DockerListing) => TranslationResult;
  store: RouteStore;
  logger: Logger;
  metrics: Metrics;
  /** Clock for the input timestamps in `snapshot()`; milliseconds since the epoch. */
  now?: () => number;
  /** Rebuilds within this window after one coalesce to the latest input. The Docker watcher already debounces. */
  windowMs?: number;
  /** A routes file is configured: not ready until it has been loaded once. */
  expectFile?: boolean;
  /** How to read the addresses of stopped and rejected containers, to keep them closed. */
  claims?: ClaimReading;
  /** Checks label routes' upstreams after name resolution; each answer that arrives triggers a rebuild. */
  targets?: { rules: () => TargetRules; resolveAll: ResolveAll; refreshMs?: number };
}

/** The latest inputs, as `gatehouse routes` shows them. */
export interface ReconcilerSnapshot {
  readonly listing: DockerListing | null;
  readonly listingAt: number | null;
  readonly fileRoutes: TranslationResult | null;
  readonly fileAt: number | null;
  readonly generation: Generation;
}

export interface Reconciler {
  setContainers(listing: DockerListing): void;
  /** null: no routes file is configured. */
  setFileRoutes(result: TranslationResult | null): void;
  /** True once the live table was built from a first container listing and, if expected, the routes file. */
  ready(): boolean;
  snapshot(): ReconcilerSnapshot;
  /** Drops a pending rebuild; the published generation stays. */
  close(): void;
}

const NO_CONTAINERS: DockerListing = Object.freeze({ containers: [], selfNetworks: null });

/** Containers + routes file → one table from scratch, with no publishing; also what the CLI uses. */
export function buildOnce(
  listing: DockerListing,
  fileResult: TranslationResult | null,
  translateContainers: (listing: DockerListing) => TranslationResult,
  prefix = 'iap',
): RouteTable {
  return createTableBuilder(translateContainers, { claims: { prefix } }).build(listing, fileResult);
}

/** The single writer of the live route table. */
export function createReconciler(options: ReconcilerOptions): Reconciler {
  const { store, logger, metrics, translateContainers } = options;
  const now = options.now ?? Date.now;
  const expectFile = options.expectFile ?? false;

  let listing: DockerListing | null = null;
  let listingAt: number | null = null;
  let fileRoutes: TranslationResult | null = null;
  let fileAt: number | null = null;
  let builtWithListing = false;
  let builtWithFile = false;
  // One builder for the reconciler's life, so a rebuild after one change redoes only that change.
  // Created below the throttle it calls; an answer only ever arrives after this function returned.
  let requestRebuild = (): void => {};
  const targets =
    options.targets &&
    createTargetCheck({ ...options.targets, now, onChange: () => requestRebuild() });
  const builder = createTableBuilder(translateContainers, {
    ...(options.claims === undefined ? {} : { claims: options.claims }),
    ...(targets ? { targets } : {}),
  });

  const rebuild = (): void => {
    const started = performance.now();
    const hasListing = listing !== null;
    const hasFile = fileAt !== null;
    let table: RouteTable;
    try {
      table = builder.build(listing ?? NO_CONTAINERS, fileRoutes);
    } catch (error) {
      // A bug in a translator must not take down the routes that are live now.
      metrics.reloads.inc({ outcome: 'failed' });
      logger.error({ err: error }, 'building the route table failed; the current routes stay live');
      return;
    }
    metrics.reloadDuration.observe((performance.now() - started) / 1000);
    builtWithListing ||= hasListing;
    builtWithFile ||= hasFile;

    const before = store.current();
    if (sameTables(table, before.table)) {
      metrics.reloads.inc({ outcome: 'unchanged' });
      return;
    }
    const diff = diffTables(before.id === 0 ? null : before.table, table);
    const generation = store.publish(table);
    metrics.reloads.inc({ outcome: 'published' });
    recordTableMetrics(metrics, table);
    logger.info(
      {
        generation: generation.id,
        added: diff.added,
        removed: diff.removed,
        changed: diff.changed,
        // Addresses held closed (stopped or misconfigured): they answer 503, never a broader route.
        closed: table.closed.map((claim) => `${claim.id} ${claim.state}`),
        rejected: diff.rejected.map((issue) => ({ source: describeSource(issue), label: issue.label, message: issue.message })),
      },
      'routes updated',
    );
    for (const issue of diff.rejected) logger.warn(rejectionFields(issue), `route rejected: ${issue.message}`);
  };

  const throttle = createThrottle(rebuild, options.windowMs ?? 0);
  requestRebuild = () => throttle.request();

  return {
    setContainers(next) {
      listing = next;
      listingAt = now();
      throttle.request();
    },
    setFileRoutes(next) {
      fileRoutes = next;
      fileAt = now();
      throttle.request();
    },
    ready() {
      return builtWithListing && (!expectFile || builtWithFile);
    },
    snapshot() {
      return { listing, listingAt, fileRoutes, fileAt, generation: store.current() };
    },
    close() {
      throttle.cancel();
    },
  };
}

function recordTableMetrics(metrics: Metrics, table: RouteTable): void {
  metrics.routes.set(table.routes.length);
  const counts = new Map<string, number>(RouteIssue.shape.code.options.map((code) => [code, 0]));
  for (const issue of table.issues) counts.set(issue.code, (counts.get(issue.code) ?? 0) + 1);
  for (const [code, count] of counts) metrics.rejected.set({ code }, count);
}

function describeSource(issue: RouteIssue): string {
  const source = issue.source;
  if (source.kind === 'container') return `container "${source.containerName}"`;
  return source.index === null ? `file "${source.file}"` : `file "${source.file}" route #${source.index}`;
}

function rejectionFields(issue: RouteIssue): Record<string, unknown> {
  const source = issue.source;
  const where =
    source.kind === 'container'
      ? { container: source.containerName, containerId: source.containerId }
      : { file: source.file, index: source.index };
  return { ...where, label: issue.label, value: issue.value, code: issue.code, reason: issue.message };
}
