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
  const stage = finalStageEnv(text);
  if (stage === null) throw new Error(`${path} has no FROM instruction, so there is no image whose NODE_OPTIONS the bench could use`);
  const value = stage.env.get('NODE_OPTIONS');
  if (value === undefined) {
    throw new Error(
      `${path}: the final stage (${stage.from}) sets no NODE_OPTIONS with ENV; the bench runs Gatehouse with the image's NODE_OPTIONS, ` +
        'so add `ENV NODE_OPTIONS=…` to that stage (an empty value for Node\'s defaults)',
    );
  }
  if (value.includes('$')) throw new Error(`${path}: NODE_OPTIONS is "${value}"; the bench does not expand build arguments or variables, so write the flags literally`);
  return value.trim();
}

/**
 * The environment set by ENV in the last stage, including what it inherits from an earlier
 * stage it is built FROM. Null when there is no FROM at all.
 */
function finalStageEnv(text) {
  const stages = new Map();
  let current = null;
  for (const { keyword, rest, line } of instructions(text)) {
    if (keyword === 'FROM') {
      const words = rest.split(/\s+/).filter((word) => !word.startsWith('--'));
      const base = stages.get(words[0]?.toLowerCase());
      current = { from: `FROM ${rest}, line ${line}`, env: new Map(base?.env ?? []) };
      if (words[1]?.toLowerCase() === 'as' && words[2]) stages.set(words[2].toLowerCase(), current);
    } else if (keyword === 'ENV' && current !== null) {
      for (const [name, value] of envPairs(rest)) current.env.set(name, value);
    }
  }
  return current;
}

/** Logical instructions: comment lines dropped, lines ending in a backslash joined to the next. */
function* instructions(text) {
  let pending = '';
  let startLine = 0;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (/^\s*#/.test(raw) || (pending !== '' && raw.trim() === '')) continue;
    if (pending === '') startLine = i + 1;
    if (raw.endsWith('\\')) {
      pending += `${raw.slice(0, -1)} `;
      continue;
    }
    const joined = (pending + raw).trim();
    pending = '';
    if (joined === '') continue;
    const match = /^(\S+)\s*(.*)$/s.exec(joined);
    yield { keyword: match[1].toUpperCase(), rest: match[2], line: startLine };
  }
}

/** `ENV A=1 B="two words"` or the legacy `ENV A one value`. */
function envPairs(rest) {
  const words = shellWords(rest);
  if (words.length > 0 && !words[0].includes('=')) {
    const [name, ...value] = rest.trim().split(/\s+/);
    return [[name, value.join(' ')]];
  }
  return words.filter((word) => word.indexOf('=') > 0).map((word) => {
    const at = word.indexOf('=');
    return [word.slice(0, at), word.slice(at + 1)];
  });
}

/** Splits on unquoted whitespace; removes quotes; a backslash escapes the next character outside single quotes. */
function shellWords(text) {
  const words = [];
  let word = null;
  let quote = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === null && /\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
      continue;
    }
    word ??= '';
    if (c === '\\' && quote !== "'" && i + 1 < text.length) word += text[++i];
    else if (quote === null && (c === '"' || c === "'")) quote = c;
    else if (c === quote) quote = null;
    else word += c;
  }
  if (word !== null) words.push(word);
  return words;
}
