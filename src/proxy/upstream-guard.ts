import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { targetAddressReason, type TargetRules } from '../labels/index.ts';
import type { ResolveAll } from '../control/index.ts';
import type { Route } from '../routes/index.ts';

/**
 * The connect-time half of the target check: the name of a label route's upstream is resolved
 * here, every answer is checked, and the connection goes to the checked address itself. So a
 * name that passed when the table was built and resolves to 127.0.0.1 now is refused, and no
 * second lookup can slip another address in between the check and the connect.
 */

export type { ResolveAll };

export const FORBIDDEN_TARGET = 'EGATEHOUSE_FORBIDDEN_TARGET';

export class ForbiddenTargetError extends Error {
  readonly code = FORBIDDEN_TARGET;
}

export interface UpstreamGuard {
  /** The address to connect to; rejects with ForbiddenTargetError when any answer is refused. */
  resolve(hostname: string, port: number): Promise<{ address: string; family: number }>;
  /**
   * The same check as a `lookup` for `net.connect` and `http.request`, for one port. Sockets
   * never call a lookup for an IP literal: check those with `refuseLiteral` first.
   */
  lookupFor(port: number): LookupFunction;
  /** For an IP-literal host, the refusal; null for an allowed literal and for every name. */
  refuseLiteral(hostname: string, port: number): ForbiddenTargetError | null;
}

/** Routes from the operator's routes file connect wherever they say; every other route is checked. */
export function isTrustedTarget(route: Pick<Route, 'sources'>): boolean {
  return route.sources.length > 0 && route.sources.every((source) => source.kind === 'file');
}

export interface UpstreamGuardOptions {
  /** Read on every connect, so a new listing's addresses apply at once. */
  rules: () => TargetRules;
  resolveAll?: ResolveAll;
}

/** The system resolver (/etc/hosts, DNS), as the sockets themselves would use it. */
export const systemResolveAll: ResolveAll = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export function createUpstreamGuard(options: UpstreamGuardOptions): UpstreamGuard {
  const resolveAll = options.resolveAll ?? systemResolveAll;

  const resolve = async (hostname: string, port: number) => {
    const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
    const family = isIP(bare);
    const answers = family !== 0 ? [{ address: bare, family }] : await resolveAll(bare);
    if (answers.length === 0) throw Object.assign(new Error(`${bare} did not resolve to any address`), { code: 'ENOTFOUND' });
    const rules = options.rules();
    for (const answer of answers) {
      const reason = targetAddressReason(rules, answer.address, port);
      if (reason === null) continue;
      const what = family !== 0 ? `${bare} is ${reason}` : `${bare} resolves to ${answer.address}, ${reason}`;
      throw new ForbiddenTargetError(`${what}, which label routes may not reach`);
    }
    return answers[0] as { address: string; family: number };
  };

  return {
    resolve,
    refuseLiteral(hostname, port) {
      const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
      if (isIP(bare) === 0) return null;
      const reason = targetAddressReason(options.rules(), bare, port);
      return reason === null ? null : new ForbiddenTargetError(`${bare} is ${reason}, which label routes may not reach`);
    },
    lookupFor(port) {
      return ((hostname: string, lookupOptions: { all?: boolean }, callback: (...args: unknown[]) => void) => {
        resolve(hostname, port).then(
          (answer) => (lookupOptions.all ? callback(null, [answer]) : callback(null, answer.address, answer.family)),
          (error: Error) => callback(error),
        );
      }) as LookupFunction;
    },
  };
}
