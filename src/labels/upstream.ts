import type { ContainerSnapshot } from '../docker/index.ts';
import type { UpstreamTarget } from '../routes/index.ts';

/**
 * Where a container route sends its traffic: which of the container's addresses, which port,
 * and whether the member may take traffic now. Problems name the label that would fix them.
 */

export interface UpstreamProblem {
  code: 'port' | 'network';
  /** The label to set or correct. */
  label: string;
  value: string | null;
  message: string;
}

export type Choice<T> = { ok: true; value: T } | { ok: false; problem: UpstreamProblem };

export interface NetworkContext {
  /** `GATEHOUSE_DOCKER_NETWORK`. */
  dockerNetwork: string | undefined;
  /** Gatehouse's own networks; null when it runs outside Docker. */
  selfNetworks: readonly string[] | null;
}

/** Labels a problem may point at, already spelt for this route (`iap.port` or `iap.admin.port`). */
export interface UpstreamLabels {
  port: string;
  network: string;
  to: string;
}

function problem(label: string, value: string | null, message: string): Choice<never> {
  return { ok: false, problem: { code: 'network', label, value, message } };
}

const list = (names: readonly string[]) => (names.length === 0 ? 'none' : names.join(', '));
const setNetwork = (labels: UpstreamLabels) => `set ${labels.network} on the container or GATEHOUSE_DOCKER_NETWORK on Gatehouse`;

export function choosePort(container: ContainerSnapshot, port: number | undefined, labels: UpstreamLabels): Choice<number> {
  if (port !== undefined) return { ok: true, value: port };
  const exposed = container.exposedPorts;
  if (exposed.length === 1) return { ok: true, value: exposed[0] as number };
  const what = exposed.length === 0 ? 'it exposes no port' : `it exposes ${exposed.join(', ')}`;
  return { ok: false, problem: { code: 'port', label: labels.port, value: null, message: `set ${labels.port} — ${what}` } };
}

/** The container's IP address on the network this route should use. */
export function chooseAddress(
  container: ContainerSnapshot,
  network: string | undefined,
  context: NetworkContext,
  labels: UpstreamLabels,
): Choice<{ ip: string; network: string }> {
  if (container.networkMode === 'host') {
    return problem(labels.to, null, `uses the host network, so it has no container address: set ${labels.to} to an address of the Docker host, such as http://192.168.1.10:8080`);
  }
  const names = Object.keys(container.networks);
  if (names.length > 1) names.sort();
  if (names.length === 0) {
    return problem(labels.network, null, `is attached to no network Gatehouse can see (network mode "${container.networkMode}"): attach it to a network shared with Gatehouse, or set ${labels.to}`);
  }
  const chosen = pickNetwork(names, network, context, labels);
  if (!chosen.ok) return chosen;
  const ip = container.networks[chosen.value] ?? '';
  if (ip === '') return problem(labels.network, null, `has no IP address on network "${chosen.value}" yet`);
  return { ok: true, value: { ip, network: chosen.value } };
}

function pickNetwork(names: string[], network: string | undefined, context: NetworkContext, labels: UpstreamLabels): Choice<string> {
  if (network !== undefined) {
    if (names.includes(network)) return { ok: true, value: network };
    return problem(labels.network, network, `${labels.network}="${network}": the container is not on that network (it is on: ${list(names)})`);
  }
  if (context.dockerNetwork !== undefined && names.includes(context.dockerNetwork)) return { ok: true, value: context.dockerNetwork };
  if (context.selfNetworks !== null) {
    const shared = names.filter((name) => context.selfNetworks?.includes(name));
    if (shared.length === 1) return { ok: true, value: shared[0] as string };
    if (shared.length === 0) {
      return problem(labels.network, null, `shares no network with Gatehouse (container: ${list(names)}; Gatehouse: ${list([...context.selfNetworks].sort())}): attach it to one of Gatehouse's networks, or ${setNetwork(labels)}`);
    }
    return problem(labels.network, null, `shares several networks with Gatehouse (${list(shared)}): ${setNetwork(labels)} to choose one`);
  }
  if (names.length === 1) return { ok: true, value: names[0] as string };
  return problem(labels.network, null, `is on several networks (${list(names)}): ${setNetwork(labels)} to choose one`);
}

export function upstreamOrigin(scheme: 'http' | 'https', ip: string, port: number): string {
  // One flat string, made by join: a template literal makes a chain of concatenated strings (four
  // objects for `http://172.18.0.5:8080`), which every route's upstream then kept.
  return ip.includes(':') ? [scheme, '://[', ip, ']:', port].join('') : [scheme, '://', ip, ':', port].join('');
}

/** With `health=docker` a member in `starting` or `unhealthy` takes no traffic; with `off` it always does. */
export function readiness(container: ContainerSnapshot, health: 'docker' | 'off'): Pick<UpstreamTarget, 'ready' | 'state'> {
  if (health === 'off') return RUNNING;
  switch (container.health) {
    case 'starting':
      return STARTING;
    case 'unhealthy':
      return UNHEALTHY;
    case 'healthy':
      return HEALTHY;
    default:
      return RUNNING;
  }
}

// Shared and frozen: callers copy these into the upstream they build.
type Readiness = Readonly<Pick<UpstreamTarget, 'ready' | 'state'>>;
const RUNNING: Readiness = Object.freeze({ ready: true, state: 'running' });
const STARTING: Readiness = Object.freeze({ ready: false, state: 'starting' });
const UNHEALTHY: Readiness = Object.freeze({ ready: false, state: 'unhealthy' });
const HEALTHY: Readiness = Object.freeze({ ready: true, state: 'healthy' });

/** Replicas share a group: Swarm service, else Compose project + service, else the container alone. */
export function replicaGroup(container: ContainerSnapshot): string {
  const labels = container.labels;
  // With several engines, replicas are grouped per engine: a service of the same name on another
  // machine is another app, never extra members of this one (GATEHOUSE_DOCKER_HOSTS).
  const engine = container.engine === undefined ? '' : `@${container.engine}`;
  const swarmService = labels['com.docker.swarm.service.id'];
  if (swarmService) return `swarm:${swarmService}${engine}`;
  const project = labels['com.docker.compose.project'];
  const service = labels['com.docker.compose.service'];
  if (project && service) return `compose:${project}/${service}${engine}`;
  return `container:${container.id}`;
}

/**
 * The address of a container on a remote engine (another machine, GATEHOUSE_DOCKER_HOSTS): its
 * address on an overlay network Gatehouse shares with it (the same network id on both machines),
 * else that machine's address and the host port the route's port is published on. Its other
 * network addresses are that machine's own, and may mean another container here, so they are
 * never used: with neither, the route is refused and its address held closed.
 */
export function chooseRemoteAddress(
  container: ContainerSnapshot,
  remote: NonNullable<ContainerSnapshot['remote']>,
  port: number,
  network: string | undefined,
  labels: UpstreamLabels,
): Choice<{ host: string; port: number; network?: string }> {
  const where = `runs on Docker engine "${container.engine ?? '?'}", another machine`;
  const shared = remote.shared ?? [];
  if (network !== undefined) {
    if (!shared.includes(network)) {
      return problem(labels.network, network, `${labels.network}="${network}": the container ${where}, and Gatehouse shares no overlay network of that name with it (shared: ${list(shared)}): name a shared overlay network, or remove ${labels.network} and publish the port`);
    }
    return onNetwork(container, network, port, labels);
  }
  if (shared.length === 1) return onNetwork(container, shared[0] as string, port, labels);
  if (shared.length > 1) return problem(labels.network, null, `${where} and shares several overlay networks with Gatehouse (${list(shared)}): set ${labels.network} to choose one`);
  const published = remote.ports[String(port)];
  if (published === undefined) {
    return problem(
      labels.port,
      String(port),
      `${where}, and publishes no port for ${port} there that Gatehouse can reach: publish it (e.g. ports: ["8080:${port}"]), attach it to an overlay network Gatehouse shares, or set ${labels.to}; Gatehouse never routes to another machine's own container addresses`,
    );
  }
  return { ok: true, value: { host: remote.address, port: published } };
}

function onNetwork(container: ContainerSnapshot, network: string, port: number, labels: UpstreamLabels): Choice<{ host: string; port: number; network: string }> {
  const ip = container.networks[network] ?? '';
  if (ip === '') return problem(labels.network, null, `has no IP address on network "${network}" yet`);
  return { ok: true, value: { host: ip, port, network } };
}
