import { setFlagsFromString } from 'node:v8';

/**
 * Runs Gatehouse's start (loading its modules, reading the configuration, the first table) with
 * V8's young generation held at its initial size, then lets it grow as usual.
 *
 * Loading a few hundred modules keeps most of what it allocates, and V8 answers a high survival
 * rate by doubling the young generation up to its cap (`--max-semi-space-size`, 8 MB in the
 * image: 16 MB of new space). Nothing shrinks it again while Gatehouse idles, so every idle
 * instance kept about 14 MB of pages for garbage that never came. Held at 1 MB during start, the
 * same objects are promoted to the old generation instead (they live for the whole run anyway);
 * under load the young generation grows to its cap as before, so throughput and the tail are
 * those of the cap (bench/README.md, "Experiments": 8.5 MB less private memory idle).
 *
 * The growth factor is read by V8 each time it grows the young generation, so setting it while
 * running is safe; the value restored is the one given on the command line, else V8's default.
 */
const V8_DEFAULT_GROWTH = 2;
const FLAG = 'semi-space-growth-factor';

export async function withStartupHeap<T>(start: () => Promise<T>): Promise<T> {
  setFlagsFromString(`--${FLAG}=1`);
  try {
    return await start();
  } finally {
    setFlagsFromString(`--${FLAG}=${growthFactorGiven(process.execArgv) ?? V8_DEFAULT_GROWTH}`);
  }
}

/** The growth factor on node's own command line (`--semi-space-growth-factor=N`, either spelling), if any. */
export function growthFactorGiven(execArgv: readonly string[]): number | null {
  let given: number | null = null;
  execArgv.forEach((arg, i) => {
    const match = /^--semi[-_]space[-_]growth[-_]factor(?:=(.*))?$/.exec(arg);
    if (match === null) return;
    const value = Number(match[1] ?? execArgv[i + 1]);
    if (Number.isInteger(value) && value >= 1) given = value;
  });
  return given;
}
