import { compareStrings, FrozenMap } from './canonical.ts';
import type { RouteIssue } from './spec.ts';
import type { Route } from './table.ts';

/**
 * The OpenID clients of Gatehouse's provider for apps, as the table publishes them: client id →
 * the route that declared it. A client id belongs to the route that claimed it first (the same
 * precedence as hosts: the oldest container); a later one is refused with an issue, and its
 * route is still published, without a client. Routes arrive already accepted, so every redirect
 * URI (checked by the translator to be on the route's own hosts) is on a host the route owns.
 */
export function indexOidcClients(routesByPrecedence: readonly Route[]): { clients: FrozenMap<string, Route>; issues: RouteIssue[] } {
  const clients = new Map<string, Route>();
  const issues: RouteIssue[] = [];
  for (const route of routesByPrecedence) {
    const { clientId, redirectUris } = route.oidc;
    if (clientId === null || redirectUris.length === 0) continue;
    const holder = clients.get(clientId);
    if (holder === undefined) {
      clients.set(clientId, route);
      continue;
    }
    for (const source of route.sources) {
      if (source.kind !== 'container') continue;
      issues.push({
        source: { kind: 'container', containerId: source.containerId, containerName: source.containerName },
        label: null,
        value: clientId,
        code: 'conflict',
        message: `container "${source.containerName}": the OpenID client id "${clientId}" already belongs to ${owner(holder)}; set another iap.oidc.client_id (the app's route is published, its client is not)`,
      });
    }
  }
  return { clients: new FrozenMap([...clients.entries()].sort(([a], [b]) => compareStrings(a, b))), issues };
}

function owner(route: Route): string {
  const source = route.sources[route.sources.length - 1];
  return source?.kind === 'container' ? `container "${source.containerName}"` : `route ${route.id}`;
}
