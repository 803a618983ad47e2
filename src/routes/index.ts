/**
 * Route table: specs → a frozen, indexed table, and the per-request lookups against it.
 * Pure: no I/O, no clock.
 */
export { buildRouteTable, createRouteTableBuilder, type RouteTableBuilder } from './build.ts';
export { matchRoute, matchClaim, normalizeHost, isSegmentPrefix } from './match.ts';
export { describeOwner, ownerKey, soleOwner, type Claim, type ClosedClaim, type ClosedClaimSpec, type ClosedState, type HostOwner } from './claims.ts';
export { closedIdOf, type ClaimInputs } from './assemble.ts';
export { normalizeRequestPath, type NormalizedPath } from './path.ts';
export { diffTables, findRoute, sameTables, type TableDiff } from './diff.ts';
export { LayeredMap } from './layered-map.ts';
export { defaultKeyGroup, sharedCanonical } from './copies.ts';
export { copyHeaders, copyHosts, copyList, copySource, copyUpstream, frozenCanonical, isFrozenCanonical, SharedParts, upstreamTarget } from './copies.ts';
export type { Route, RouteTable } from './table.ts';
export * from './spec.ts';
export * from './values.ts';
export { PplNode, PplCriterion, PplStringMatcher, PPL_CRITERIA_WITHOUT_VALUE } from './ppl.ts';
export { KEY_FIELDS, VALUE_KEYS, FIELD_KEYS, FromValue, RouteMode, FORWARD_AUTH_UPSTREAM, type KeyField, type ValueKey, type ValueOf, type FieldOf, type RouteSettings, type KeyFields } from './key-fields.ts';
export { PomeriumRoute, PomeriumUpstreamTls, defaultPomeriumRoute, checkRe2, regexSubstitute } from './pomerium.ts';
export { compileHeaderTemplate, HEADER_PLACEHOLDERS, type CompiledTemplate, type HeaderPlaceholder, type HeaderTemplate, type HeaderTemplatePart } from './header-template.ts';
