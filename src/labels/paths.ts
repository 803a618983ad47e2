import type { BypassRule } from '../routes/index.ts';
import { normalizeRequestPath } from '../routes/index.ts';
import { fail, ok, type Parsed, splitList } from './parsed.ts';

/**
 * Label paths go through the same normalisation as request paths (routes/path.ts), so a route
 * prefix or bypass rule and the requests it is compared with can never disagree about what a
 * path means.
 */
export function canonicalPath(raw: string): Parsed<string> {
  const text = raw.trim();
  if (!text.startsWith('/')) return fail('expected a path starting with /, such as /admin');
  if (text.includes('?') || text.includes('#')) return fail('a path cannot contain a query (?) or a fragment (#)');
  const normalized = normalizeRequestPath(text);
  if (!normalized.ok) return fail(normalized.reason.replace('the request path', 'the path'));
  return ok(normalized.path);
}

/** A route's path prefix: canonical, without a trailing `/` (except the root itself). */
export function parsePathPrefix(raw: string): Parsed<string> {
  const canonical = canonicalPath(raw);
  if (!canonical.ok) return canonical;
  return ok(trimTrailingSlashes(canonical.value));
}

export function trimTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 1 && path[end - 1] === '/') end--;
  return path.slice(0, end);
}

const BYPASS_ENTRY = /^(?:([A-Za-z]+)\s+)?(\S+)$/;

/** `GET /healthz, /share/`: exact paths, or every path below one that ends with `/`. */
export function parseBypassList(raw: string): Parsed<BypassRule[]> {
  const rules: BypassRule[] = [];
  for (const entry of splitList(raw)) {
    const rule = parseBypassEntry(entry);
    if (!rule.ok) return rule;
    rules.push(rule.value);
  }
  return ok(rules);
}

function parseBypassEntry(entry: string): Parsed<BypassRule> {
  const m = BYPASS_ENTRY.exec(entry);
  const grammar = 'expected [METHOD ]PATH, such as "GET /healthz" or "/share/" (a trailing / covers every path below)';
  if (!m) return fail(`"${entry}": ${grammar}`);
  const path = m[2] as string;
  if (path.endsWith('/*')) return fail(`"${entry}": write the prefix as "${path.slice(0, -1)}" (a trailing / covers every path below)`);
  const canonical = canonicalPath(path);
  if (!canonical.ok) return fail(`"${entry}": ${canonical.problem}`);
  // Frozen, keys sorted: the form the route table holds, so it takes the rule as it is.
  return ok(Object.freeze({ method: m[1] === undefined ? null : m[1].toUpperCase(), path: canonical.value }));
}
