import { matchClaim } from '../routes/index.ts';
import { closedClaimPage } from './claim-page.ts';
import type { Route, RouteTable } from '../routes/table.ts';
import type { AccessGate, GateRequest, GateResponse } from './gate.ts';
import type { PageKind } from './pages.ts';

/**
 * What happens to one request, decided once against one table generation: Gatehouse answers
 * itself (a gate response or one of its pages), or the request goes to this route with these
 * extra headers. Shared by plain requests and websocket upgrades so both follow the same rules.
 */
export type Admission =
  | { kind: 'respond'; route: Route | null; response: GateResponse }
  | { kind: 'page'; route: Route | null; page: PageKind }
  | { kind: 'forward'; route: Route; setHeaders: Record<string, string>; removeHeaders: readonly string[] };

const NO_HEADERS: readonly string[] = Object.freeze([]);

export async function admit(request: GateRequest, table: RouteTable, gate: AccessGate): Promise<Admission> {
  if (gate.handleSpecial) {
    const special = await gate.handleSpecial(request);
    if (special) return { kind: 'respond', route: null, response: special };
  }
  const claim = matchClaim(table, request.host, request.path);
  if (claim === undefined) return { kind: 'page', route: null, page: 'not_found' };
  if (claim.route === null) return { kind: 'page', route: null, page: closedClaimPage(claim.state) };
  const route = claim.route;

  // The gate runs before anything that reveals the app's state to someone it may not admit.
  const decision = await gate.check(request, route);
  if (decision.kind === 'respond') return { kind: 'respond', route, response: decision };
  if (request.isUpgrade && !route.websockets) return { kind: 'page', route, page: 'websockets_disabled' };
  if (route.ready.length === 0) return { kind: 'page', route, page: 'upstream_unavailable' };
  return { kind: 'forward', route, setHeaders: decision.setHeaders, removeHeaders: decision.removeHeaders ?? NO_HEADERS };
}

/** The path the upstream sees: the matched one, minus the route prefix when strip_path is on. */
export function upstreamPath(route: Route, path: string): string {
  if (!route.stripPath || route.path === '/') return path;
  const rest = path.slice(route.path.length);
  return rest.charCodeAt(0) === 0x2f ? rest : `/${rest}`;
}

/** The `Host` the upstream sees, per the route's host_header mode. */
export function upstreamHost(route: Route, origin: string, clientHost: string): string {
  switch (route.hostHeader.mode) {
    case 'preserve':
      return clientHost;
    case 'upstream':
      return new URL(origin).host;
    case 'literal':
      return route.hostHeader.host;
  }
}
