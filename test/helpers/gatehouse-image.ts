import { docker } from './images.ts';

/**
 * The Gatehouse image built from this checkout's Dockerfile, as the release workflow builds it,
 * under the given tag (the image test and the Swarm stack test each use their own tag and
 * remove it afterwards).
 */
export async function buildGatehouseImage(tag: string): Promise<void> {
  await docker('build', '-q', '-t', tag, GATEHOUSE_ROOT);
}

export const GATEHOUSE_ROOT = new URL('../..', import.meta.url).pathname;
