import type { IssueSink, RouteDraft } from './routes-file-draft.ts';
import type { PomeriumConfig } from './pomerium-config.ts';
import { POMERIUM_KEYS, readPomeriumKey } from './routes-file-pomerium.ts';

/**
 * Pomerium's global `pass_identity_headers` and `jwt_claims_headers` are defaults for every
 * Pomerium route that does not set them itself. They are applied to the route as written,
 * before it is read, so the route options module reads them exactly as if the route had said
 * them. Kept apart from the route reading on purpose: the globals come from the config file's
 * top level or Pomerium's environment variables, the routes from any of the files.
 */
export interface PomeriumRouteDefaults {
  readonly pass_identity_headers?: boolean;
  /** Header name → claim. */
  readonly jwt_claims_headers?: Readonly<Record<string, string>>;
}

export function routeDefaultsOf(config: Pick<PomeriumConfig, 'jwtClaimsHeaders' | 'passIdentityHeaders'> | null): PomeriumRouteDefaults {
  if (config === null) return {};
  return {
    ...(config.passIdentityHeaders === null ? {} : { pass_identity_headers: config.passIdentityHeaders }),
    ...(Object.keys(config.jwtClaimsHeaders).length === 0 ? {} : { jwt_claims_headers: config.jwtClaimsHeaders }),
  };
}

/** A Pomerium-format route with the defaults it does not set itself; any other route unchanged. */
export function withRouteDefaults(route: Record<string, unknown>, defaults: PomeriumRouteDefaults): Record<string, unknown> {
  const keys = Object.keys(route);
  if (!keys.some((key) => POMERIUM_KEYS.has(key))) return route;
  let result = route;
  for (const [key, value] of Object.entries(defaults)) {
    if (value === undefined || key in route || !routesRead(key, value)) continue;
    result = { ...result, [key]: value };
  }
  return result;
}

const readable = new Map<string, boolean>();

/**
 * Whether the route reader takes this option: a global is only passed on where routes read it
 * (a build whose routes refuse per-route `jwt_claims_headers` keeps it global, unused, rather than
 * refusing every route for a key nobody wrote on them).
 */
function routesRead(key: string, value: unknown): boolean {
  let known = readable.get(key);
  if (known === undefined) {
    const draft: RouteDraft = { targets: [], settings: {}, headers: new Map(), removeHeaders: [], failed: false };
    let refused = false;
    const report: IssueSink['report'] = () => {
      refused = true;
    };
    readPomeriumKey(key, value, draft, report);
    known = !refused;
    readable.set(key, known);
  }
  return known;
}
