import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { growthFactorGiven } from '../../../src/cli/startup-heap.ts';

const MODULE = fileURLToPath(new URL('../../../src/cli/startup-heap.ts', import.meta.url));

/**
 * A child Node with the image's young-generation cap: a start that keeps much of what it
 * allocates (as loading modules does), then a load whose objects die young. Prints the new
 * space's capacity in MB after the start and after the load.
 */
function youngGeneration(held: boolean): { afterStart: number; afterLoad: number } {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { withStartupHeap } from ${JSON.stringify(MODULE)};
    const capacity = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 2 ** 20;
    const kept = [];
    const start = async () => { for (let i = 0; i < 300000; i++) kept.push({ i, text: 'module ' + i }); };
    if (${held}) await withStartupHeap(start); else await start();
    const afterStart = capacity();
    let live = [];
    for (let i = 0; i < 3000000; i++) { live.push({ i }); if (live.length > 20000) live = []; }
    console.log(JSON.stringify({ afterStart, afterLoad: capacity(), kept: kept.length }));
  `;
  const out = execFileSync(process.execPath, ['--max-semi-space-size=8', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return JSON.parse(out.trim().split('\n').at(-1) as string) as { afterStart: number; afterLoad: number };
}

describe('the young generation during start', () => {
  it('stays at its initial size while Gatehouse starts, and grows to its cap under load afterwards', () => {
    const held = youngGeneration(true);
    const free = youngGeneration(false);
    // Without the hold, the start alone grows it to the cap: what every idle instance used to keep.
    expect(free.afterStart).toBeGreaterThanOrEqual(8);
    // Held, it stays near its initial 1 MB semispaces (2 MB of new space); V8 may add a page or
    // two of headroom now and then (2.5 to 4 MB seen), never the doubling up to the cap.
    expect(held.afterStart).toBeLessThanOrEqual(4);
    expect(held.afterStart * 2).toBeLessThanOrEqual(free.afterStart);
    expect(held.afterLoad).toBeGreaterThanOrEqual(8);
  });

  it("restores the growth factor given on node's command line, in either spelling", () => {
    expect(growthFactorGiven(['--semi-space-growth-factor=4'])).toBe(4);
    expect(growthFactorGiven(['--semi_space_growth_factor', '3'])).toBe(3);
    expect(growthFactorGiven(['--max-semi-space-size=8'])).toBeNull();
    expect(growthFactorGiven(['--semi-space-growth-factor=0'])).toBeNull();
  });
});
