/**
 * The proxy: the only module that speaks HTTP to clients and upstreams (and the only importer
 * of fastify). One catch-all handler routes each request against the current route table,
 * asks the access gate, and forwards with clean headers; websockets are relayed the same way.
 */
export type { AccessGate, GateRequest, GateResponse, GateResult, RawHandler } from './gate.ts';
export { publicOnlyGate, createPublicOnlyGate, type PublicOnlyGateOptions } from './public-gate.ts';
export { createProxyServer, type ProxyServer, type ProxyServerOptions } from './server.ts';
export { createAdminServer, type AdminServer, type AdminServerOptions } from './admin.ts';
export { renderPage, type PageKind, type PageResponse } from './pages.ts';
export { IDENTITY_PREFIX, foldHeaderName, isIdentityHeader } from './headers.ts';
export { systemResolveAll, FORBIDDEN_TARGET } from './upstream-guard.ts';
