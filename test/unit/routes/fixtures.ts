import { RouteSpec, type RouteIssue } from '../../../src/routes/spec.ts';
import type { ClaimInputs, ClosedClaimSpec, HostOwner } from '../../../src/routes/index.ts';
import { NO_POLICY, SPEC_DEFAULTS } from '../../helpers/route-spec.ts';

interface ContainerSpecInput {
  name: string;
  group?: string;
  created?: number;
  routeName?: string;
  hosts?: string[];
  path?: string;
  origin?: string;
  ready?: boolean;
  overrides?: Partial<RouteSpec>;
}

function baseSpec(): Omit<RouteSpec, 'source' | 'routeName' | 'hosts' | 'path' | 'upstream'> {
  return {
    ...SPEC_DEFAULTS,
    policy: { ...NO_POLICY, allow: [{ kind: 'domain', domain: 'example.com' }] },
    display: { name: 'App', icon: null, description: null, group: null },
  };
}

/** A container claim, validated against the contract so fixtures cannot drift from it. */
export function containerSpec(input: ContainerSpecInput): RouteSpec {
  const id = `id-${input.name}`;
  return RouteSpec.parse({
    ...baseSpec(),
    source: { kind: 'container', containerId: id, containerName: input.name, group: input.group ?? input.name, created: input.created ?? 1000 },
    routeName: input.routeName ?? 'default',
    hosts: input.hosts ?? ['app.example'],
    path: input.path ?? '/',
    upstream: { origin: input.origin ?? `http://${input.name}:80`, containerId: id, ready: input.ready ?? true, state: input.ready === false ? 'starting' : 'running' },
    ...input.overrides,
  });
}

export function fileSpec(input: { file?: string; index: number; routeName?: string; hosts?: string[]; path?: string; origin?: string }): RouteSpec {
  return RouteSpec.parse({
    ...baseSpec(),
    source: { kind: 'file', file: input.file ?? '/etc/gatehouse/routes.yml', index: input.index },
    routeName: input.routeName ?? String(input.index),
    hosts: input.hosts ?? ['app.example'],
    path: input.path ?? '/',
    upstream: { origin: input.origin ?? 'http://static:8080', containerId: null, ready: true, state: 'static' },
  });
}

export function labelIssue(name: string, label: string, message: string): RouteIssue {
  return {
    source: { kind: 'container', containerId: `id-${name}`, containerName: name },
    label,
    value: 'x',
    code: 'invalid_value',
    message,
  };
}

/** Claim inputs that put every container of `specs` in one compose project, so they may share hosts. */
export function inProject(project: string, specs: readonly RouteSpec[], closed: readonly ClosedClaimSpec[] = []): ClaimInputs {
  const owners = new Map<string, HostOwner>();
  for (const spec of specs) if (spec.source.kind === 'container') owners.set(spec.source.containerId, { kind: 'compose', project });
  return { closed, owners };
}
