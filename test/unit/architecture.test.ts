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

/** Runtime imports only: `import type` and `export type` vanish at build time. */
function runtimeImports(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) found.push(m[2] as string);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1] as string);
  return found;
}

const files = sourceFiles(SRC).map((path) => ({ path: relative(SRC, path), imports: runtimeImports(readFileSync(path, 'utf8')) }));
const room = (path: string) => path.split('/')[0] as string;

const PACKAGE_ROOMS: Array<[RegExp, string[]]> = [
  [/^dockerode$/, ['docker']],
  [/^(fastify|@fastify\/.*)$/, ['proxy']],
  [/^(openid-client|jose)$/, ['auth', 'idp']],
  [/^oidc-provider$/, ['idp']],
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
