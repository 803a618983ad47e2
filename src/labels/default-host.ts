import type { ContainerSnapshot } from '../docker/index.ts';
import type { FromValue } from '../routes/index.ts';

/**
 * GATEHOUSE_DOMAIN: a container with any label under the prefix but no `from` is published at
 * `<name>.<domain>`, where the name is its compose service (`com.docker.compose.service`), else
 * its container name. The result is exactly what `<prefix>.from` would have said, so every other
 * rule (the sign-in host, conflicts, ownership) applies unchanged; an explicit `from` wins.
 */
export interface DefaultDomain {
  /** Lowercased, without a trailing dot: `nas.example`. */
  readonly domain: string;
  /** https unless GATEHOUSE_DOMAIN was written as `http://…` (a local test machine). */
  readonly scheme: 'http' | 'https';
}

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The host name a container gets under the domain, or why it gets none. */
export function defaultFrom(container: Pick<ContainerSnapshot, 'name' | 'labels'>, domain: DefaultDomain): { ok: true; from: FromValue } | { ok: false; problem: string } {
  const service = container.labels['com.docker.compose.service'];
  const name = (service !== undefined && service !== '' ? service : container.name.replace(/^\//, '')).toLowerCase();
  if (!DNS_LABEL.test(name)) {
    return { ok: false, problem: `"${name}" cannot be a host name under ${domain.domain} (letters, digits and - only); set the from label` };
  }
  return { ok: true, from: { hosts: [`${name}.${domain.domain}`], scheme: domain.scheme } };
}

/** True when some label is under the prefix: the container asks to be published somehow. */
export function hasPrefixedLabel(labels: Readonly<Record<string, string>>, prefix: string): boolean {
  const head = `${prefix}.`;
  return Object.keys(labels).some((name) => name.startsWith(head));
}
