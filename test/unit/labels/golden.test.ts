import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ContainerSnapshot } from '../../../src/docker/snapshot.ts';
import { ignoredImageLabels, translateContainers, VALUE_KEYS, type TranslateOptions } from '../../../src/labels/index.ts';
import { type RouteIssue, RouteSpec } from '../../../src/routes/spec.ts';
import { container, listing, OPTIONS } from './containers.ts';

/**
 * Golden files for the label translator, one folder per case under test/golden/labels:
 * `labels.json` goes in, `expected.json` (specs, issues and ignored image labels) comes out.
 * `UPDATE_GOLDEN=1 npx vitest run test/unit/labels/golden.test.ts` rewrites every expected.json;
 * review the diff before committing it.
 */

const ROOT = join(import.meta.dirname, '../../golden/labels');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

interface ContainerInput extends Partial<Omit<ContainerSnapshot, 'labels'>> {
  labels: Record<string, string>;
}

interface GoldenInput {
  /** What the case shows; not compared. */
  about: string;
  /** One container: its labels (and, optionally, its image's labels and other snapshot fields). */
  labels?: Record<string, string>;
  imageLabels?: Record<string, string> | null;
  /** Several containers instead of `labels`. */
  containers?: ContainerInput[];
  options?: { signInHost?: string; trustImageLabels?: boolean; prefix?: string; domain?: TranslateOptions['domain'] };
  /** secret NAME → why it cannot be read (null: readable), as the injected checker answers. */
  secrets?: Record<string, string | null>;
}

function run(input: GoldenInput) {
  const inputs: ContainerInput[] = input.containers ?? [{ labels: input.labels ?? {}, ...(input.imageLabels !== undefined ? { imageLabels: input.imageLabels } : {}) }];
  const containers = inputs.map((c, i) => container({ id: `c0ffee00000${i + 1}`, name: i === 0 ? 'app' : `app${i + 1}`, created: 1_700_000_000 + i, ...c }));
  const secrets = input.secrets ?? {};
  const options: TranslateOptions = {
    ...OPTIONS,
    ...(input.options?.prefix ? { prefix: input.options.prefix } : {}),
    ...(input.options?.domain ? { domain: input.options.domain } : {}),
    signInHost: input.options?.signInHost ?? 'auth.example.com',
    trustImageLabels: input.options?.trustImageLabels ?? false,
    checkSecret: (name) => (name in secrets ? (secrets[name] ?? null) : 'cannot be read: there is no such file'),
  };
  const result = translateContainers(listing(containers), options);
  return { specs: result.specs, issues: result.issues, ignoredLabels: ignoredImageLabels(containers, options.prefix, options.trustImageLabels ?? false) };
}

const cases = readdirSync(ROOT).filter((name) => existsSync(join(ROOT, name, 'labels.json'))).sort();
const inputs = new Map(cases.map((name) => [name, JSON.parse(readFileSync(join(ROOT, name, 'labels.json'), 'utf8')) as GoldenInput]));
// Translated inside the tests, never at import: each test then covers exactly the code it runs.
const outputOf = (name: string) => run(inputs.get(name) as GoldenInput);

describe('label translator golden files', () => {
  it.each(cases)('%s', (name) => {
    const actual = outputOf(name);
    const file = join(ROOT, name, 'expected.json');
    if (UPDATE) writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
    expect(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1`).toBe(true);
    expect(JSON.parse(JSON.stringify(actual))).toEqual(JSON.parse(readFileSync(file, 'utf8')));
    for (const spec of actual?.specs ?? []) expect(RouteSpec.parse(spec)).toEqual(spec);
  });

  it('cover every key, at the top level and on a named route, and the header key', () => {
    const used = new Set<string>();
    for (const input of inputs.values()) {
      for (const c of input.containers ?? [{ labels: input.labels ?? {} }]) {
        for (const label of Object.keys(c.labels)) {
          const parts = label.split('.');
          if (parts[0] !== 'iap') continue;
          // Dotted keys (`oidc.client_id`): at the top level, or refused on a named route.
          const rest = parts.slice(1).join('.');
          const named = parts.slice(2).join('.');
          if ((VALUE_KEYS as readonly string[]).includes(rest) && parts.length > 2) used.add(`top:${rest}`);
          else if ((VALUE_KEYS as readonly string[]).includes(named) && parts.length > 3) used.add(`named:${named}`);
          else if (parts[1] === 'response_header' && parts.length > 2) used.add('top:response_header');
          else if (parts[2] === 'response_header' && parts.length > 3) used.add('named:response_header');
          else if (parts[1] === 'header') used.add('top:header');
          else if (parts.length === 2) used.add(`top:${parts[1]}`);
          else if (parts[2] === 'header') used.add('named:header');
          else used.add(`named:${parts[2]}`);
        }
      }
    }
    const missing = [...VALUE_KEYS, 'header'].flatMap((key) => ['top', 'named'].map((where) => `${where}:${key}`)).filter((k) => !used.has(k));
    expect(missing).toEqual([]);
  });

  it('cover every kind of rejection a label can cause', () => {
    const outputs = cases.map(outputOf);
    const codes = new Set(outputs.flatMap((output) => output.issues.map((issue) => issue.code)));
    // Conflicts arise between routes, when the table is built (test/unit/routes), not in a translation.
    const labelCodes: RouteIssue['code'][] = ['invalid_value', 'unknown_key', 'missing', 'port', 'network', 'forbidden_target', 'forbidden_host'];
    expect(labelCodes.filter((code) => !codes.has(code))).toEqual([]);
    expect(outputs.some((output) => output.ignoredLabels.length > 0)).toBe(true);
  });
});
