import { classifyLabel, VALUE_KEYS, type ValueKey } from './keys.ts';
import { sortByCodeUnit } from '../util/sort-by-code-unit.ts';
import { foldHeaderName, parseHeaderName, parseHeaderValue } from './headers.ts';
import { isSecretValue } from './values.ts';
import { parseResponseHeaderName, parseResponseHeaderValue } from './response-headers.ts';
import { parseValue, type ParseContext, type RouteSettings } from './key-table.ts';

/**
 * Reads every label under the prefix into per-route values, remembering which label set each
 * one, and records every problem (unknown keys, bad values) without stopping at the first.
 *
 * This runs for every container of every listing (10,000 of them at start on a large host), so
 * it keeps to one pass over the labels and allocates little: parsed values sit in one plain
 * record per route, the labels that set them in another, and maps are made only when used.
 */

export interface Labelled<T> {
  value: T;
  label: string;
}

export interface RouteLabels {
  /** Each key whose label parsed: its value. */
  values: Partial<RouteSettings>;
  /** Each key in `values`: the label that set it (the first one, for `response_header`). */
  labels: { [K in ValueKey]?: string };
  /**
   * Keys with a label on this route that did not parse (already reported), null when none. A
   * key has a label on the route when it is here or in `values`.
   */
  failed: ValueKey[] | null;
  /** Folded header name → the name as written and its template; null when the route sets none. */
  headers: Map<string, Labelled<{ name: string; template: string }>> | null;
}

export interface LabelProblem {
  code: 'invalid_value' | 'unknown_key' | 'forbidden_target';
  label: string;
  value: string | null;
  message: string;
}

/** Where problems go: the caller's list, which may hold wider problems than these. */
export interface ProblemSink {
  push(problem: LabelProblem): unknown;
}

export interface CollectedLabels {
  top: RouteLabels;
  /** Named routes, by name; null when the container has none. */
  named: Map<string, RouteLabels> | null;
}

const emptyRoute = (): RouteLabels => ({ values: {}, labels: {}, failed: null, headers: null });

/** True when the route has a label for the key, whether or not its value parsed. */
export function hasLabel(route: RouteLabels, key: ValueKey): boolean {
  return route.values[key] !== undefined || (route.failed !== null && route.failed.includes(key));
}

/**
 * What a prefix's labels mean that does not depend on the container: `<prefix>.<key>` → key for
 * every top-level value key, as classifyLabel reads them, so the labels nearly every container
 * carries are looked up rather than split. Made once per prefix (one per Gatehouse in practice).
 */
interface PrefixBook {
  readonly head: string;
  readonly topKeys: ReadonlyMap<string, ValueKey>;
}

const books = new Map<string, PrefixBook>();

function bookOf(prefix: string): PrefixBook {
  let book = books.get(prefix);
  if (book !== undefined) return book;
  const head = `${prefix}.`;
  const topKeys = new Map<string, ValueKey>();
  for (const key of VALUE_KEYS) {
    const target = classifyLabel(key, prefix);
    if (target.kind === 'value' && target.route === null && target.key === key) topKeys.set(`${head}${key}`, key);
  }
  book = { head, topKeys };
  // A handful of prefixes at most outside tests; the bound only keeps a misuse from growing it.
  if (books.size >= 16) books.clear();
  books.set(prefix, book);
  return book;
}

/** True when the container asks to be published: `<prefix>.from` or `<prefix>.<route>.from`. */
export function wantsRoutes(labels: Readonly<Record<string, string>>, prefix: string): boolean {
  const head = bookOf(prefix).head;
  const fromAt = head.length + 4;
  for (const name of Object.keys(labels)) {
    if (!name.endsWith('from') || !name.startsWith(head)) continue;
    // `<head>from`, or `<head><route>.from` with no other dot after the head.
    if (name.length === fromAt) return true;
    if (name.charCodeAt(name.length - 5) === 46 && name.indexOf('.', head.length) === name.length - 5) return true;
  }
  return false;
}

/** Every label under the prefix, read in label order; problems are added to `problems`. */
export function collectLabels(labels: Readonly<Record<string, string>>, prefix: string, problems: ProblemSink): CollectedLabels {
  const { head, topKeys } = bookOf(prefix);
  const result: CollectedLabels = { top: emptyRoute(), named: null };
  // One list reused by every call (nothing here calls back into collectLabels); emptied before use.
  const names = NAMES;
  names.length = 0;
  // Own labels only, as everywhere: a label is never read from a snapshot's prototype.
  for (const name of Object.keys(labels)) if (name.startsWith(head) || name === prefix) names.push(name);
  sortByCodeUnit(names);
  for (let i = 0; i < names.length; i++) {
    const label = names[i] as string;
    const raw = labels[label] ?? '';
    const topKey = topKeys.get(label);
    if (topKey !== undefined) {
      readValue(result.top, label, topKey, raw, problems);
      continue;
    }
    if (label === prefix) {
      problems.push({ code: 'unknown_key', label, value: null, message: `unknown label ${label} — write ${prefix}.<key> or ${prefix}.<route>.<key>` });
      continue;
    }
    const target = classifyLabel(label.slice(head.length), prefix);
    if (target.kind === 'unknown') {
      problems.push({ code: 'unknown_key', label, value: null, message: `unknown label ${label} — ${target.hint}` });
      continue;
    }
    let route = result.top;
    if (target.route !== null) {
      result.named ??= new Map();
      route = result.named.get(target.route) ?? emptyRoute();
      result.named.set(target.route, route);
    }
    if (target.kind === 'header') readHeader(route, label, target.header, raw, problems);
    else if (target.kind === 'response_header') readResponseHeader(route, label, target.header, raw, problems);
    else readValue(route, label, target.key, raw, problems);
  }
  names.length = 0;
  return result;
}

const NAMES: string[] = [];

function markFailed(route: RouteLabels, key: ValueKey): void {
  if (route.failed === null) route.failed = [key];
  else if (!route.failed.includes(key)) route.failed.push(key);
}

/** Container labels may not target loopback or link-local addresses. */
const LABEL_CONTEXT: ParseContext = Object.freeze({ allowLocalTargets: false });

function readValue(route: RouteLabels, label: string, key: ValueKey, raw: string, problems: ProblemSink): void {
  // The client secret takes only `secret:NAME` (its parser says so); every other key refuses it.
  if (isSecretValue(raw) && key !== 'oidc.client_secret') {
    markFailed(route, key);
    problems.push({ code: 'invalid_value', label, value: null, message: `${label}: secret: references are only allowed in header labels` });
    return;
  }
  const parsed = parseValue(key, raw, LABEL_CONTEXT);
  if (parsed.ok) {
    (route.values as Record<string, unknown>)[key] = parsed.value;
    route.labels[key] = label;
    return;
  }
  markFailed(route, key);
  // Never echo what may be a secret, even one written where it does not belong.
  const hide = isSecretValue(raw) || key === 'oidc.client_secret';
  problems.push({
    code: parsed.forbidden ? 'forbidden_target' : 'invalid_value',
    label,
    value: hide ? null : raw,
    message: hide ? `${label}: ${parsed.problem}` : `${label}="${shorten(raw)}": ${parsed.problem}`,
  });
}

function readHeader(route: RouteLabels, label: string, header: string, raw: string, problems: ProblemSink): void {
  const name = parseHeaderName(header);
  if (!name.ok) {
    problems.push({ code: 'invalid_value', label, value: null, message: `${label}: ${name.problem}` });
    return;
  }
  const template = parseHeaderValue(raw);
  if (!template.ok) {
    problems.push({ code: 'invalid_value', label, value: null, message: `${label}: ${template.problem}` });
    return;
  }
  const folded = foldHeaderName(header);
  route.headers ??= new Map();
  const earlier = route.headers.get(folded);
  if (earlier !== undefined) {
    problems.push({ code: 'invalid_value', label, value: null, message: `${label}: sets the same header as ${earlier.label}; keep one` });
    return;
  }
  route.headers.set(folded, { value: { name: header, template: template.value }, label });
}

/** One `response_header.<Name>` label, added to the route's map; the first label names the key in problems. */
function readResponseHeader(route: RouteLabels, label: string, header: string, raw: string, problems: ProblemSink): void {
  const name = parseResponseHeaderName(header);
  const value = parseResponseHeaderValue(raw);
  if (!name.ok || !value.ok) {
    markFailed(route, 'response_header');
    problems.push({ code: 'invalid_value', label, value: null, message: `${label}: ${!name.ok ? name.problem : (value as { problem: string }).problem}` });
    return;
  }
  const earlier = route.values.response_header;
  if (earlier !== undefined && name.value in earlier) {
    markFailed(route, 'response_header');
    problems.push({ code: 'invalid_value', label, value: null, message: `${label}: sets the same header as another ${label.slice(0, label.length - header.length)}… label; keep one` });
    return;
  }
  route.values.response_header = { ...earlier, [name.value]: value.value };
  route.labels.response_header ??= label;
}

function shorten(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
