import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applySorted } from '../../../src/routes/sorted-by-id.ts';

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

describe('applySorted', () => {
  it('gives the sorted list without the entries taken out and with those put in, for a few changes and for many', () => {
    const ids = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 120 });
    fc.assert(
      fc.property(ids, fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (all, outShare, inShare) => {
        const entries = all.map((id) => ({ id }));
        const cut = Math.floor((entries.length * inShare) / 100);
        const present = entries.slice(cut).sort(byId);
        const into = entries.slice(0, cut);
        const out = present.filter((_, i) => (i * 37) % 100 < outShare);
        const result = applySorted([...present], out, [...into]);
        const expected = [...present.filter((entry) => !out.includes(entry)), ...into].sort(byId);
        expect(result).toEqual(expected);
        // The very entries: taken out by identity, put in as they are.
        for (const entry of into) expect(result).toContain(entry);
      }),
      { numRuns: 300 },
    );
  });

  it('takes out the entry itself, not another with its id', () => {
    const kept = { id: 'a' };
    const gone = { id: 'a' };
    expect(applySorted([kept, gone], [gone], [])).toEqual([kept]);
    expect(applySorted([kept, gone], [gone], [])[0]).toBe(kept);
  });
});
