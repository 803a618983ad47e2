import { describe, expect, it } from 'vitest';
import { addValue, removeValue, valuesOf, type OneOrMany } from '../../../src/routes/one-or-many.ts';

describe('one-or-many maps', () => {
  it('keeps one value bare, makes a list for the second, and goes back to a bare value and then to nothing', () => {
    const map = new Map<string, OneOrMany<string>>();
    addValue(map, 'c1', 'a');
    expect(map.get('c1')).toBe('a');
    addValue(map, 'c1', 'b');
    addValue(map, 'c1', 'a');
    expect(map.get('c1')).toEqual(['a', 'b', 'a']);
    removeValue(map, 'c1', 'a');
    expect(map.get('c1')).toEqual(['b', 'a']);
    removeValue(map, 'c1', 'b');
    expect(map.get('c1')).toBe('a');
    removeValue(map, 'c1', 'x');
    expect(map.get('c1')).toBe('a');
    removeValue(map, 'c1', 'a');
    expect(map.has('c1')).toBe(false);
    removeValue(map, 'c1', 'a');
    expect(valuesOf(map.get('c1'))).toEqual([]);
  });

  it('never changes a list it handed out', () => {
    const map = new Map<string, OneOrMany<object>>();
    const [a, b, c] = [{}, {}, {}];
    addValue(map, 'h', a);
    addValue(map, 'h', b);
    addValue(map, 'h', c);
    const before = valuesOf(map.get('h'));
    removeValue(map, 'h', b);
    expect(before).toEqual([a, b, c]);
    expect(valuesOf(map.get('h'))).toEqual([a, c]);
  });
});
