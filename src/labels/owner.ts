import type { ContainerSnapshot } from '../docker/index.ts';
import type { HostOwner } from '../routes/index.ts';

type OwnerInput = Pick<ContainerSnapshot, 'id' | 'name' | 'labels' | 'engine'>;

/**
 * The unit a container's claims belong to: its Swarm stack, else its compose project, else the
 * container alone. A host belongs to the unit of its first claim.
 *
 * Limit: Compose and Swarm set these labels, but whoever starts a container can write them as
 * well, and so join a unit on purpose. Ownership keeps apart units that did not choose to share
 * a host (another project, a copied compose file); SECURITY.md says so.
 */
export function ownerOf(container: OwnerInput): HostOwner {
  return readOwner(container, unit);
}

type SharedUnit = Extract<HostOwner, { kind: 'stack' | 'compose' }>;
type MakeUnit = (kind: SharedUnit['kind'], name: string, engine: string | undefined) => HostOwner;

function readOwner(container: OwnerInput, make: MakeUnit): HostOwner {
  const stack = container.labels['com.docker.stack.namespace'];
  if (stack) return make('stack', stack, container.engine);
  const project = container.labels['com.docker.compose.project'];
  if (project) return make('compose', project, container.engine);
  return { kind: 'container', containerId: container.id, containerName: container.name };
}

/**
 * With several engines the unit is per engine: whoever starts containers on one machine never
 * joins, by copying a project or stack name, a unit on another (GATEHOUSE_DOCKER_HOSTS). A
 * container's id is unique across engines already (docker/engine-tag.ts). `engine` is left out
 * when absent, as ownerKey and the published table expect.
 */
function unit(kind: SharedUnit['kind'], name: string, engine: string | undefined): SharedUnit {
  if (kind === 'stack') return engine === undefined ? { kind, namespace: name } : { kind, namespace: name, engine };
  return engine === undefined ? { kind, project: name } : { kind, project: name, engine };
}

/**
 * ownerOf, with one frozen object per stack or compose project (and engine) for as long as the
 * reader lives: the 10,000 containers of one project name one owner instead of 10,000 equal ones.
 * A container alone still gets an owner of its own. Owners are compared field by field
 * (routes/claims.ts sameOwner), never by identity, so which object a unit gets never changes a
 * table; sharing only saves memory.
 */
export interface UnitReader {
  ownerOf(container: OwnerInput): HostOwner;
  /** Units remembered now. */
  readonly size: number;
  /** Forgets every unit (units no container names any more would otherwise stay). */
  clear(): void;
}

export function createUnitReader(): UnitReader {
  // Per engine (undefined: the only one), per kind: name → the shared unit. Separate maps, so no
  // label value, however hostile, can make two units collide in one key.
  let byEngine = new Map<string | undefined, { stack: Map<string, SharedUnit>; compose: Map<string, SharedUnit> }>();
  let size = 0;
  // The unit returned last: a listing names one project for many containers in a row.
  let last: SharedUnit | null = null;
  const shared = (kind: SharedUnit['kind'], name: string, engine: string | undefined): SharedUnit => {
    if (last !== null && last.kind === kind && last.engine === engine && (last.kind === 'stack' ? last.namespace : last.project) === name) return last;
    let kinds = byEngine.get(engine);
    if (kinds === undefined) {
      kinds = { stack: new Map(), compose: new Map() };
      byEngine.set(engine, kinds);
    }
    const names = kinds[kind];
    let owner = names.get(name);
    if (owner === undefined) {
      owner = Object.freeze(unit(kind, name, engine));
      names.set(name, owner);
      size++;
    }
    last = owner;
    return owner;
  };
  return {
    ownerOf(container) {
      return readOwner(container, shared);
    },
    get size() {
      return size;
    },
    clear() {
      byEngine = new Map();
      size = 0;
      last = null;
    },
  };
}
