/**
 * Route table: specs → a frozen, indexed table, and the per-request lookups against it.
 * Pure: no I/O, no clock.
 */
export { buildRouteTable, createRouteTableBuilder, type RouteTableBuilder } from './build.ts';
export { matchRoute, normalizeHost, isSegmentPrefix } from './match.ts';
export { normalizeRequestPath, type NormalizedPath } from './path.ts';
export { diffTables, type TableDiff } from './diff.ts';
export type { Route, RouteTable } from './table.ts';
export * from './spec.ts';
export { compileHeaderTemplate, HEADER_PLACEHOLDERS, type CompiledTemplate, type HeaderPlaceholder, type HeaderTemplate, type HeaderTemplatePart } from './header-template.ts';
