import { classifyLabel, type ValueKey } from './keys.ts';
import { foldHeaderName, parseHeaderName, parseHeaderValue } from './headers.ts';
import { isSecretValue } from './values.ts';
import { parseResponseHeaderName, parseResponseHeaderValue } from './response-headers.ts';
import { parseValue, type RouteSettings } from './key-table.ts';

/**
 * Reads every label under the prefix into per-route values, remembering which label set each
 * one, and records every problem (unknown keys, bad values) without stopping at the first.
 */

export interface Labelled<T> {
  value: T;
  label: string;
}

export interface RouteLabels {
  values: { [K in ValueKey]?: Labelled<RouteSettings[K]> };
  /** Folded header name → the name as written and its template. */
  headers: Map<string, Labelled<{ name: string; template: string }>>;
  /** Keys that have a label on this route, whether or not the value parsed. */
  present: Set<ValueKey>;
}

export interface LabelProblem {
  code: 'invalid_value' | 'unknown_key' | 'forbidden_target';
  label: string;
  value: string | null;
  message: string;
}

export interface CollectedLabels {
  top: RouteLabels;
  /** Named routes, by name. */
  named: Map<string, RouteLabels>;
  problems: LabelProblem[];
}

const emptyRoute = (): RouteLabels => ({ values: {}, headers: new Map(), present: new Set() });

/** True when the container asks to be published: `<prefix>.from` or `<prefix>.<route>.from`. */
export function wantsRoutes(labels: Record<string, string>, prefix: string): boolean {
  const head = `${prefix}.`;
  for (const name of Object.keys(labels)) {
    if (!name.startsWith(head)) continue;
    const parts = name.slice(head.length).split('.');
    if (parts.length <= 2 && parts[parts.length - 1] === 'from') return true;
  }
  return false;
}

export function collectLabels(labels: Record<string, string>, prefix: string): CollectedLabels {
  const result: CollectedLabels = { top: emptyRoute(), named: new Map(), problems: [] };
  const head = `${prefix}.`;
  const names = Object.keys(labels)
    .filter((name) => name === prefix || name.startsWith(head))
    .sort();
  for (const label of names) {
    const raw = labels[label] ?? '';
    if (label === prefix) {
      result.problems.push({ code: 'unknown_key', label, value: null, message: `unknown label ${label} — write ${prefix}.<key> or ${prefix}.<route>.<key>` });
      continue;
    }
    const target = classifyLabel(label.slice(head.length), prefix);
    if (target.kind === 'unknown') {
      result.problems.push({ code: 'unknown_key', label, value: null, message: `unknown label ${label} — ${target.hint}` });
      continue;
    }
    let route = result.top;
    if (target.route !== null) {
      route = result.named.get(target.route) ?? emptyRoute();
      result.named.set(target.route, route);
    }
    if (target.kind === 'header') readHeader(route, label, target.header, raw, result.problems);
    else if (target.kind === 'response_header') readResponseHeader(route, label, target.header, raw, result.problems);
    else readValue(route, label, target.key, raw, result.problems);
  }
  return result;
}

function readValue(route: RouteLabels, label: string, key: ValueKey, raw: string, problems: LabelProblem[]): void {
  route.present.add(key);
  // The client secret takes only `secret:NAME` (its parser says so); every other key refuses it.
  if (isSecretValue(raw) && key !== 'oidc.client_secret') {
    problems.push({ code: 'invalid_value', label, value: null, message: `${label}: secret: references are only allowed in header labels` });
    return;
  }
  const parsed = parseValue(key, raw, { allowLocalTargets: false });
  if (parsed.ok) {
    (route.values as Record<string, Labelled<unknown>>)[key] = { value: parsed.value, label };
    return;
  }
  // Never echo what may be a secret, even one written where it does not belong.
  const hide = isSecretValue(raw) || key === 'oidc.client_secret';
  problems.push({
    code: parsed.forbidden ? 'forbidden_target' : 'invalid_value',
    label,
    value: hide ? null : raw,
    message: hide ? `${label}: ${parsed.problem}` : `${label}="${shorten(raw)}": ${parsed.problem}`,
  });
}

function readHeader(route: RouteLabels, label: string, header: string, raw: string, problems: LabelProblem[]): void {
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
  const earlier = route.headers.get(folded);
  if (earlier !== undefined) {
    problems.push({ code: 'invalid_value', label, value: null, message: `${label}: sets the same header as ${earlier.label}; keep one` });
    return;
  }
  route.headers.set(folded, { value: { name: header, template: template.value }, label });
}

/** One `response_header.<Name>` label, added to the route's map; the first label names the key in problems. */
function readResponseHeader(route: RouteLabels, label: string, header: string, raw: string, problems: LabelProblem[]): void {
  route.present.add('response_header');
  const name = parseResponseHeaderName(header);
  const value = parseResponseHeaderValue(raw);
  if (!name.ok || !value.ok) {
    problems.push({ code: 'invalid_value', label, value: null, message: `${label}: ${!name.ok ? name.problem : (value as { problem: string }).problem}` });
    return;
  }
  const earlier = route.values.response_header;
  if (earlier !== undefined && name.value in earlier.value) {
    problems.push({ code: 'invalid_value', label, value: null, message: `${label}: sets the same header as another ${label.slice(0, label.length - header.length)}… label; keep one` });
    return;
  }
  route.values.response_header = { value: { ...earlier?.value, [name.value]: value.value }, label: earlier?.label ?? label };
}

function shorten(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
