import { parseFrom, parsePathPrefix } from '../labels/index.ts';
import type { ClosedClaimSpec } from '../routes/index.ts';

/**
 * The address a rejected file route still holds closed (misconfigured), read as far as it can
 * be: the hosts of `from` that parse, and its path (`path`, or Pomerium's `prefix` or exact
 * `path`). A path that cannot be read, or a `regex`, closes the whole host. Null when no host
 * can be read: then there is nothing to hold.
 */
export function rejectedFileClaim(route: Record<string, unknown>, at: { file: string; index: number }): ClosedClaimSpec | null {
  const hosts: string[] = [];
  for (const item of textItems(route.from)) {
    const parsed = parseFrom(item);
    if (parsed.ok) for (const host of parsed.value.hosts) if (!hosts.includes(host)) hosts.push(host);
  }
  if (hosts.length === 0) return null;
  const claim: ClosedClaimSpec = {
    source: { kind: 'file', file: at.file, index: at.index },
    routeName: `file:${at.index}`,
    hosts,
    path: pathOf(route),
    // Pomerium's prefix is a string prefix: `/admin` also holds `/administrator` closed.
    ...(typeof route.prefix === 'string' && !('regex' in route) ? { stringPrefix: true } : {}),
    state: 'misconfigured',
    owner: { kind: 'file', file: at.file },
  };
  return Object.freeze(claim);
}

function pathOf(route: Record<string, unknown>): string {
  if ('regex' in route) return '/';
  const raw = route.prefix ?? route.path;
  if (raw === undefined) return '/';
  const parsed = typeof raw === 'string' ? parsePathPrefix(raw) : null;
  return parsed === null || !parsed.ok ? '/' : parsed.value;
}

function textItems(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}
