/** The single writer: inputs → throttled rebuild → fingerprint check → publish. */
export { RouteStore, type Generation } from './store.ts';
export { createReconciler, buildOnce, type Reconciler, type ReconcilerOptions, type ReconcilerSnapshot } from './reconciler.ts';
export { createThrottle, type Throttle } from './throttle.ts';
export { createTableBuilder, type TableBuilder } from './table-builder.ts';
export { createClaimCollector, closedClaimsOf, type ClaimCollector } from './closed-claims.ts';
export { createTargetCheck, type TargetCheck, type ResolveAll } from './target-check.ts';
export { createTargetRules, listenerEndpoints, type TargetRulesHolder } from './target-rules.ts';
export { dockerApiEndpoints, interfaceAddresses } from './own-endpoints.ts';
export { createEngineWatchers, type EngineToWatch, type EngineWatchers, type EngineWatchersOptions } from './engine-watchers.ts';
export { createEngineListings, type EngineListings } from './engine-listings.ts';
