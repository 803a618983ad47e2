import type { HostHeaderMode, PolicyEntry, RoutePolicy, RouteSource, UpstreamTarget } from './spec.ts';
import { canonicalCopy } from './canonical.ts';

/**
 * Frozen copies of the parts of a route, built frozen rather than walked afterwards. Each
 * object spells its keys in one fixed order (sorted, as canonicalCopy would, where a free-form
 * copy used to be), so JSON.stringify of a route is canonical: equal routes, equal strings.
 */

/** Object.freeze without the readonly type, for parts typed by the mutable zod schemas. */
export function frozen<T extends object>(value: T): T {
  return Object.freeze(value);
}

export function copyPolicy(policy: RoutePolicy): RoutePolicy {
  return frozen({
    public: policy.public,
    allow: frozen(policy.allow.map(copyEntry)),
    deny: frozen(policy.deny.map(copyEntry)),
    bypass: frozen(policy.bypass.map((rule) => frozen({ method: rule.method, path: rule.path }))),
    corsPreflight: policy.corsPreflight,
  });
}

function copyEntry(entry: PolicyEntry): PolicyEntry {
  switch (entry.kind) {
    case 'email':
      return frozen({ email: entry.email, kind: entry.kind });
    case 'domain':
      return frozen({ domain: entry.domain, kind: entry.kind });
    case 'group':
      return frozen({ group: entry.group, kind: entry.kind });
    case 'claim':
      return frozen({ claim: entry.claim, kind: entry.kind, value: entry.value });
    case 'user':
      return frozen({ kind: entry.kind, sub: entry.sub });
    case 'any':
      return frozen({ kind: entry.kind });
  }
}

export function copyHeaders(headers: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  // Free-form names: a canonical copy sorts them and keeps a header named `__proto__` as data.
  return frozen(canonicalCopy(headers));
}

export function copyHostHeader(mode: HostHeaderMode): HostHeaderMode {
  return frozen(mode.mode === 'literal' ? { host: mode.host, mode: mode.mode } : { mode: mode.mode });
}

export function copySource(source: RouteSource): RouteSource {
  return frozen(
    source.kind === 'container'
      ? { containerId: source.containerId, containerName: source.containerName, created: source.created, group: source.group, kind: source.kind }
      : { file: source.file, index: source.index, kind: source.kind },
  );
}

export function copyUpstream(target: UpstreamTarget): UpstreamTarget {
  return frozen({ origin: target.origin, containerId: target.containerId, ready: target.ready, state: target.state });
}
