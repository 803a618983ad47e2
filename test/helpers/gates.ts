import type { AccessGate, Caller, GateRequest, GateResponse } from '../../src/proxy/index.ts';
import type { RouteTable } from '../../src/routes/index.ts';

/** A signed-in caller for proxy tests, the way the identity layer describes one. */
export function caller(sub: string, fields: Partial<Omit<Caller, 'sub'>> = {}): Caller {
  return {
    sub,
    email: `${sub}@corp.example`,
    emailVerified: true,
    name: null,
    groups: [],
    claims: {},
    assertion: () => `jwt.for.${sub}`,
    ...fields,
  };
}

export const ALICE = caller('alice');

/**
 * A gate that identifies whoever `who` says (everyone as alice by default) and refuses with a
 * plain 401 (nobody) or 403 (someone the route does not let in): the identity layer's seam
 * without its cookies and providers.
 */
export function gateFor(
  who: Caller | null | ((req: GateRequest, table: RouteTable) => Caller | null | Promise<Caller | null>) = ALICE,
  extra: Pick<AccessGate, 'ownEndpoint'> = {},
): AccessGate {
  return {
    ...extra,
    identify: typeof who === 'function' ? who : () => who,
    refuse: (_req, _route, _decision, found): GateResponse =>
      found === null ? { kind: 'respond', status: 401, body: 'no' } : { kind: 'respond', status: 403, body: 'not you' },
  };
}
