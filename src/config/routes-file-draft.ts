import { foldHeaderName, type FromValue, parseHeaderName, parseHeaderValue, parseTarget, type RouteSettings } from '../labels/index.ts';
import type { PomeriumRoute, RouteIssue } from '../routes/index.ts';

/** The pieces both route formats of the routes file fill in. */

export interface IssueSink {
  /** Records a problem with `key` (null: the route as a whole). Pass `value` only when it is safe to show. */
  report(key: string | null, code: RouteIssue['code'], problem: string, value?: string | null): void;
}

/** What a file route has said so far, in either format. */
export interface RouteDraft {
  from?: FromValue;
  targets: string[];
  settings: Partial<RouteSettings>;
  /** Folded name → [name as written, template]. */
  headers: Map<string, [string, string]>;
  removeHeaders: string[];
  failed: boolean;
  /** A Pomerium route's own semantics (pomerium-route-options.ts), made at its first Pomerium key. */
  pomerium?: PomeriumRoute;
}

/** A YAML scalar as the text a label would hold; lists are joined for the keys that take comma lists. */
export function valueText(value: unknown, allowList: boolean): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (allowList && Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) return value.join(',');
  return null;
}

/** `to`: one URL or a list; Pomerium's `,weight` suffix is accepted and ignored. */
export function readTargets(value: unknown, draft: RouteDraft, report: IssueSink['report']): void {
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0 || !items.every((v) => typeof v === 'string')) {
    report('to', 'invalid_value', 'expected a URL such as http://192.168.1.20:8080, or a list of them');
    return;
  }
  for (const item of items as string[]) {
    const url = item.trim().replace(/,\s*\d+$/, '');
    const parsed = parseTarget(url, { allowLocal: true });
    if (!parsed.ok) report('to', 'invalid_value', parsed.problem, item);
    else if (!draft.targets.includes(parsed.value)) draft.targets.push(parsed.value);
  }
}

/** `header: {Name: template}` and Pomerium's `set_request_headers`. Values are never shown. */
export function readHeaderMap(key: string, value: unknown, draft: RouteDraft, report: IssueSink['report']): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    report(key, 'invalid_value', 'expected a mapping of header name to value');
    return;
  }
  for (const [name, template] of Object.entries(value)) {
    const label = `${key}.${name}`;
    const parsedName = parseHeaderName(name);
    const text = valueText(template, false);
    const parsedValue = text === null ? null : parseHeaderValue(text);
    if (!parsedName.ok) report(label, 'invalid_value', parsedName.problem);
    else if (parsedValue === null) report(label, 'invalid_value', 'expected a text value');
    else if (!parsedValue.ok) report(label, 'invalid_value', parsedValue.problem);
    else if (draft.headers.has(foldHeaderName(name))) report(label, 'invalid_value', 'the same header is set twice');
    else draft.headers.set(foldHeaderName(name), [name, parsedValue.value]);
  }
}
