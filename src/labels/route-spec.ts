import type { RouteSource, RouteSpec, UpstreamTarget } from '../routes/index.ts';
import type { FromValue } from './urls.ts';
import type { RouteSettings } from './values.ts';

/** What a translator knows about one route once every value has parsed; defaults are applied here. */
export interface RouteParts {
  source: RouteSource;
  routeName: string;
  from: FromValue;
  settings: Partial<RouteSettings>;
  setHeaders: Record<string, string>;
  removeHeaders: string[];
  upstream: UpstreamTarget;
  /** Used when `name` is not set. */
  defaultName: string;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

export function buildRouteSpec(parts: RouteParts): RouteSpec {
  const s = parts.settings;
  return {
    source: parts.source,
    routeName: parts.routeName,
    hosts: [...parts.from.hosts],
    fromScheme: parts.from.scheme,
    path: s.path ?? '/',
    stripPath: s.strip_path ?? false,
    upstream: parts.upstream,
    policy: {
      public: s.public ?? false,
      allow: [...(s.allow ?? [])],
      deny: [...(s.deny ?? [])],
      bypass: [...(s.bypass ?? [])],
      corsPreflight: s.cors_preflight ?? false,
    },
    identity: s.identity ?? 'headers',
    setHeaders: { ...parts.setHeaders },
    removeHeaders: [...parts.removeHeaders],
    hostHeader: s.host ?? { mode: 'preserve' },
    websockets: s.websockets ?? true,
    timeoutMs: s.timeout ?? DEFAULT_TIMEOUT_MS,
    idleTimeoutMs: s.idle_timeout ?? null,
    tlsSkipVerify: s.tls_skip_verify ?? false,
    health: s.health ?? 'docker',
    lb: s.lb ?? 'round_robin',
    display: { name: s.name ?? parts.defaultName, icon: s.icon ?? null, description: s.description ?? null },
  };
}
