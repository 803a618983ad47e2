import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyDef, VALUE_KEYS } from '../../../src/labels/index.ts';

/** The README's label table, row by row: the keys named in the first column and the default column. */
function readmeRows(): { keys: string[]; defaults: string }[] {
  const readme = readFileSync(join(import.meta.dirname, '../../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Labels\n'), readme.indexOf('\n### Several routes per container'));
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `iap.'))
    .map((line) => {
      const cells = line.split('|').map((cell) => cell.trim());
      const keys = [...(cells[1] ?? '').matchAll(/`iap\.([a-z_]+(?:\.[a-z_]+)*)(?:\.<Name>)?`/g)].map((m) => m[1] as string);
      return { keys, defaults: cells[3] ?? '' };
    });
}

describe("README's label table", () => {
  const rows = readmeRows();
  const documented = rows.flatMap((row) => row.keys);

  it('names every key in the key table, and the header key', () => {
    expect([...VALUE_KEYS, 'header'].filter((key) => !documented.includes(key))).toEqual([]);
  });

  it('names no key the key table does not have, and none twice', () => {
    expect(documented.filter((key) => key !== 'header' && !(VALUE_KEYS as readonly string[]).includes(key))).toEqual([]);
    expect(new Set(documented).size).toBe(documented.length);
  });

  it('states the default of every key whose default is a word or a flag', () => {
    for (const row of rows) {
      for (const key of row.keys) {
        if (key === 'header' || !(VALUE_KEYS as readonly string[]).includes(key)) continue;
        const value = keyDef(key as (typeof VALUE_KEYS)[number]).default;
        if (typeof value === 'boolean' || typeof value === 'string') expect(row.defaults, `iap.${key}`).toContain(`\`${String(value)}\``);
      }
    }
  });
});
