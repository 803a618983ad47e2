import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The rooms of src/ and what each may import (see the README's layout): the Docker client,
 * the web framework and the OpenID libraries each stay inside one module, and the pure
 * modules (labels, routes, policy) do no I/O.
 */
const SRC = join(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every import and re-export, type-only ones included: they are dependencies between rooms all the same. */
function allImports(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) found.push(m[1] as string);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1] as string);
  return found;
}

/** Runtime imports only: `import type` and `export type` vanish at build time. */
function runtimeImports(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) found.push(m[2] as string);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1] as string);
  return found;
}

const files = sourceFiles(SRC).map((path) => {
  const text = readFileSync(path, 'utf8');
  return { path: relative(SRC, path), imports: runtimeImports(text), allImports: allImports(text) };
});
/** `proxy/server.ts` → proxy; the two top-level files are rooms of their own. */
const room = (path: string) => (path.includes('/') ? (path.split('/')[0] as string) : path.replace(/\.ts$/, ''));

/**
 * The rooms from the top floor down (ARCHITECTURE.md): a room imports only rooms on lower
 * floors, never its own floor or above, so no two rooms can ever depend on each other.
 * cli → main → proxy → auth → idp/tls → policy/control → config → labels → routes/docker → state
 * → util → http/observability/errors. A new room must be placed here to pass.
 */
const FLOORS: Record<string, number> = {
  cli: 11,
  main: 10,
  proxy: 9,
  auth: 8,
  idp: 7,
  state: 2,
  tls: 7,
  policy: 6,
  control: 6,
  config: 5,
  labels: 4,
  routes: 3,
  docker: 3,
  util: 1,
  http: 0,
  observability: 0,
  errors: 0,
};

/** util/ is a shelf of independent helpers, imported file by file; every other room has a front door. */
const NO_FRONT_DOOR = new Set(['util']);
/** A room's front door: its index.ts, or the file itself for the one-file rooms (main.ts, errors.ts). */
const isFrontDoor = (target: { room: string; file: string }) => target.file === `${target.room}/index.ts` || target.file === `${target.room}.ts`;

/** The room an import lands in, or null for packages, node: modules and imports within the room. */
function targetRoom(from: string, specifier: string): { room: string; file: string } | null {
  if (!specifier.startsWith('.')) return null;
  const target = relative(SRC, join(SRC, from, '..', specifier));
  if (target.startsWith('..')) return null;
  const to = room(target);
  return to === room(from) ? null : { room: to, file: target };
}

const PACKAGE_ROOMS: Array<[RegExp, string[]]> = [
  [/^dockerode$/, ['docker']],
  [/^(fastify|@fastify\/.*|undici)$/, ['proxy']],
  [/^(openid-client|jose)$/, ['auth', 'idp']],
  [/^oidc-provider$/, ['idp']],
  [/^(ioredis|iovalkey|redis)$/, ['state']],
];
const PURE = ['labels', 'routes', 'policy'];

describe('module boundaries', () => {
  it('finds the source tree', () => {
    expect(files.length).toBeGreaterThan(30);
  });

  it.each(PACKAGE_ROOMS.map(([pattern, rooms]) => [pattern.source, rooms] as const))('%s is imported only in %j', (pattern, rooms) => {
    const offenders = files.filter((f) => f.imports.some((i) => new RegExp(pattern).test(i)) && !rooms.includes(room(f.path)));
    expect(offenders.map((f) => f.path)).toEqual([]);
  });

  it('places every room on a floor', () => {
    const unplaced = [...new Set(files.map((f) => room(f.path)))].filter((r) => FLOORS[r] === undefined);
    expect(unplaced).toEqual([]);
  });

  it('imports only downward, between rooms', () => {
    const offenders = files.flatMap((f) =>
      f.allImports
        .map((i) => targetRoom(f.path, i))
        .filter((t) => t !== null && (FLOORS[t.room] ?? Infinity) >= (FLOORS[room(f.path)] ?? -Infinity))
        .map((t) => `${f.path} imports ${t?.file}`),
    );
    expect(offenders).toEqual([]);
  });

  it("enters another room only through its index.ts", () => {
    const offenders = files.flatMap((f) =>
      f.allImports
        .map((i) => targetRoom(f.path, i))
        .filter((t) => t !== null && !NO_FRONT_DOOR.has(t.room) && !isFrontDoor(t))
        .map((t) => `${f.path} imports ${t?.file}`),
    );
    expect(offenders).toEqual([]);
  });

  it('leaves environment variable names to config/, cli/ and main.ts: every other room takes its own options object', () => {
    const ENVIRONMENT_ROOMS = new Set(['config', 'cli', 'main']);
    // Docker's own TLS variables, read as the Docker CLI reads them, are the one exception.
    const ALLOWED = new Set(['docker/host.ts']);
    const offenders = files
      .filter((f) => !ENVIRONMENT_ROOMS.has(room(f.path)) && !ALLOWED.has(f.path))
      .flatMap((f) => {
        const text = readFileSync(join(SRC, f.path), 'utf8');
        const reads = [/\bprocess\.env\b/, /\bAppConfig\b/, /(?<!['"])\bconfig\.(?:GATEHOUSE|DOCKER)_[A-Z_]+/];
        return reads.filter((pattern) => pattern.test(text)).map((pattern) => `${f.path} matches ${pattern.source}`);
      });
    expect(offenders).toEqual([]);
  });

  it.each(PURE)('%s/ does no I/O and depends on no stateful module', (pure) => {
    const offenders = files
      .filter((f) => room(f.path) === pure)
      .flatMap((f) =>
        f.imports
          .filter((i) => i.startsWith('node:') || /^\.\.\/(docker|proxy|auth|control|idp|tls|observability|cli|config)\//.test(i))
          .map((i) => `${f.path} imports ${i}`),
      );
    expect(offenders).toEqual([]);
  });
});
