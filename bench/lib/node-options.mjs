import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The Node options Gatehouse ships with: the NODE_OPTIONS that the Dockerfile's final stage
 * sets with ENV. The bench reads them from there rather than keeping its own copy, so the
 * published figures are always for Gatehouse as the image runs it.
 */

const cache = new Map();

/** NODE_OPTIONS of the image built from `<root>/Dockerfile`; read once per run, throws when not set. */
export function imageNodeOptions(root) {
  if (!cache.has(root)) cache.set(root, readImageNodeOptions(join(root, 'Dockerfile')));
  return cache.get(root);
}

/** A copy of `env` with NODE_OPTIONS set to `nodeOptions`, or without NODE_OPTIONS when it is null. */
export function withNodeOptions(env, nodeOptions) {
  const { NODE_OPTIONS: _inherited, ...rest } = env;
  return nodeOptions === null ? rest : { ...rest, NODE_OPTIONS: nodeOptions };
}

function readImageNodeOptions(path) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${path} (${error.code ?? error.message}): the bench runs Gatehouse with the NODE_OPTIONS its image sets there`);
  }
  // Continuation lines joined, comments dropped, then only what follows the last FROM: the final stage.
  const instructions = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).filter((line) => !/^\s*#/.test(line));
  const from = instructions.findLastIndex((line) => /^\s*FROM\s/i.test(line));
  const env = instructions.slice(from + 1).filter((line) => /^\s*ENV\s/i.test(line)).join(' ');
  const match = /\bNODE_OPTIONS=(?:"([^"]*)"|(\S*))/.exec(env);
  if (from === -1 || match === null) {
    throw new Error(`${path}: the final stage sets no NODE_OPTIONS with ENV; the bench runs Gatehouse with the image's NODE_OPTIONS, so add \`ENV NODE_OPTIONS=…\` there (empty for Node's defaults)`);
  }
  return (match[1] ?? match[2]).trim();
}
