import type { AccessGate } from '../proxy/gate.ts';
import { checkAccess } from './access.ts';
import type { IdentityContext } from './context.ts';
import { handleRouteHost } from './route-host.ts';
import { handleSignInHost } from './sign-in-host.ts';

/**
 * The access gate once sign-in is configured. Everything on the sign-in host, and the `/.iap/`
 * and JWKS paths on route hosts, are answered here before any route is matched; every matched
 * request then goes through the access check. For ordinary traffic `handleSpecial` returns
 * null after a host comparison and a path prefix test.
 */
export function createIdentityGate(ctx: IdentityContext): AccessGate {
  return {
    handleSpecial(req) {
      if (req.host === ctx.settings.authHost) return handleSignInHost(ctx, req);
      return handleRouteHost(ctx, req);
    },
    check: (req, route) => checkAccess(ctx, req, route),
  };
}
