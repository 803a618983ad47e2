#!/usr/bin/env node
// `node bench/swarm-mesh.mjs [seconds]`: the "More than one machine" phase of `npm run bench` alone
// (examples/swarm/stack.yml on a single-node swarm; see bench/lib/swarm-mesh.mjs). Prints the
// BENCHMARKS.md lines and the figures as JSON.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { buildImages, removeImages } from './lib/images.mjs';
import { measureSwarmMesh, swarmMeshSection } from './lib/swarm-mesh.mjs';

const root = resolve(import.meta.dirname, '..');
const seconds = Number(process.argv[2] ?? 10);
const log = (message) => process.stdout.write(`${message}\n`);
const images = await buildImages(root, randomBytes(3).toString('hex'));
try {
  const result = await measureSwarmMesh({ root, log, seconds, images });
  log(swarmMeshSection(result).join('\n'));
  log(JSON.stringify(result, null, 2));
} finally {
  await removeImages(images);
}
