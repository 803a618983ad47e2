/**
 * The proxy: the only room that speaks HTTP to clients and upstreams (and the only importer of
 * fastify and undici). It owns the request path as ordered passes (see passes.ts): describe →
 * own endpoints → match → identify → decide → render headers → forward, for plain requests and
 * websocket upgrades alike.
 */
export type { AccessGate, Caller } from '../auth/index.ts';
export type { GateRequest, GateResponse, RawHandler } from '../http/index.ts';
export { NO_SIGN_IN } from './passes.ts';
export { createProxyServer, type ProxyNetworkOptions, type ProxyServer, type ProxyServerOptions } from './server.ts';
export { createAdminServer, explainQuery, type AdminServer, type AdminServerOptions, type InstanceFacts } from './admin.ts';
export { explain, type ExplainQuery, type Explanation, type ExplainResult } from './explain.ts';
export { renderStatusPage, type StatusSnapshot } from './status-page.ts';
export { renderPage, type PageKind, type PageResponse } from './pages.ts';
export { IDENTITY_PREFIX, foldHeaderName, isIdentityHeader } from '../http/index.ts';
export { systemResolveAll, FORBIDDEN_TARGET } from './upstream-guard.ts';
export { accessText, renderTableText, routeReport, routeState, tableReport, type RouteReport, type TableReport } from './table-report.ts';
