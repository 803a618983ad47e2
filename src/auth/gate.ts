import type { GateRequest, GateResponse } from '../http/index.ts';
import type { Decision, Identity } from '../policy/index.ts';
import type { Route, RouteTable } from '../routes/index.ts';
import { accessRefused, identify, stepUpRequired } from './access.ts';
import type { IdentityServices } from './context.ts';
import { isRouteHostPath, handleRouteHost } from './route-host.ts';
import { handleSignInHost } from './sign-in-host.ts';

/**
 * The seam between the proxy, which owns the order of the request path, and the identity layer,
 * which answers questions about the caller. The proxy reads the route table once per request
 * and hands that one generation to every call here; nothing behind the seam reads the store.
 *
 *   own endpoints → match → identify → decide → render headers → forward
 *
 * The gate answers "who is calling" (`identify`), never "may they pass": the proxy evaluates
 * the route's policy itself, once, and renders the identity headers itself. A public route is
 * simply one whose policy needs nobody, so `identify` is not even asked.
 */
export interface AccessGate {
  /**
   * Gatehouse's own endpoints on every route host (`/.iap/…`, the JWKS) and on hosts that are
   * not routes (the sign-in host). Null falls through to routing.
   */
  ownEndpoint?(req: GateRequest, table: RouteTable): Promise<GateResponse | null> | GateResponse | null;
  /**
   * The signed-in caller, or null for nobody. Renders nothing; asked only when the policy needs
   * someone. `route` is the matched route: it says whether credentials in `Authorization` count.
   */
  identify(req: GateRequest, table: RouteTable, route?: Route): Promise<Caller | null> | Caller | null;
  /** The answer when the decision refused: a sign-in redirect or 401 (nobody), or a 403 page (someone). */
  refuse(req: GateRequest, route: Route, decision: Decision, caller: Caller | null, table: RouteTable): GateResponse;
  /**
   * For a caller the policy admitted: null when their sign-in is good enough for the route
   * (method, second factor, age), else the answer that signs them in again.
   */
  stepUp?(req: GateRequest, route: Route, caller: Caller, table: RouteTable): GateResponse | null;
}

/** Who is calling, as policies see them, plus what only the identity layer can make for them. */
export interface Caller extends Identity {
  /** Whether the sign-in used a second factor; when the user last authenticated (seconds). See session.ts. */
  readonly mfa?: boolean | undefined;
  readonly authTime?: number | undefined;
  /**
   * The signed identity JWT for an upstream on `host`; asked only for routes that forward it.
   * `pomerium`: Pomerium's form, whose issuer is the route host.
   */
  assertion(host: string, form?: 'gatehouse' | 'pomerium'): Promise<string> | string;
  /** How the caller proved who they are; absent means a session cookie. */
  readonly via?: 'app_password' | 'bearer_jwt';
}

/**
 * The gate once sign-in is configured. Everything on the sign-in host, and the `/.iap/` and
 * JWKS paths on route hosts, are Gatehouse's own endpoints; for ordinary traffic `ownEndpoint`
 * returns null after a host comparison and a path prefix test.
 */
export function createIdentityGate(services: IdentityServices): AccessGate {
  return {
    ownEndpoint(req, table) {
      if (req.host === services.settings.authHost) return handleSignInHost({ ...services, table }, req);
      if (!isRouteHostPath(req.path)) return null;
      return handleRouteHost({ ...services, table }, req);
    },
    identify: (req, table, route) => identify(services, req, table, route),
    refuse: (req, route, decision, caller, table) => accessRefused({ ...services, table }, req, route, decision, caller),
    stepUp: (req, route, caller, table) => stepUpRequired({ ...services, table }, req, route, caller),
  };
}
