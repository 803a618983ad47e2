import { parseNetworkText, parsePolicyEntry } from '../labels/index.ts';
import { isTimeZone } from '../util/time-zone.ts';
import type { PolicyEntry, PplCriterion, PplNode, PplStringMatcher } from '../routes/index.ts';
import type { RouteDraft } from './routes-file-draft.ts';

/**
 * Pomerium's policy language (PPL), as its open-source version documents it:
 *
 *   policy:
 *     - allow:
 *         and:
 *           - email: { is: alice@example.com }
 *           - http_method: { is: GET }
 *       deny:
 *         or:
 *           - day_of_week: sat-sun
 *
 * A document is one rule or a list of rules; a rule holds `allow` and/or `deny`, each a mapping
 * of the operators `and`, `or`, `not`, `nor` (several are or-ed, as Pomerium does) to lists of
 * criteria or nested operators. Deny wins; one allow rule that holds lets the caller in.
 *
 * A rule that is a plain `or` of criteria labels can say (`email: {is: …}`, `domain: {is: …}`,
 * `groups: {has: …}`, `claim/NAME: …`, `user: {is: …}`, `authenticated_user: true`) becomes
 * plain allow/deny entries, exactly what labels produce; any other rule is kept as a tree
 * (PolicyEntry kind `ppl`) and evaluated by policy/ppl.ts. Anything Gatehouse cannot evaluate
 * (device, client certificates, source_ip, records, …) is refused by name: approximating a
 * policy could let in someone its author kept out.
 */

export interface PplPolicy {
  allow: PolicyEntry[];
  deny: PolicyEntry[];
  public: boolean;
}

export type PplResult = { ok: true; value: PplPolicy } | { ok: false; problem: string };

/**
 * Pomerium lets nobody in when a route's policy has no allow rule; a `reject` rule keeps
 * GATEHOUSE_DEFAULT_ALLOW from standing in for one. Called once every key of the route is read.
 */
export function closeEmptyPolicy(route: Record<string, unknown>, draft: RouteDraft): void {
  if ('policy' in route && (draft.settings.allow ?? []).length === 0 && draft.settings.public !== true) {
    draft.settings.allow = [{ kind: 'ppl', rule: { criterion: 'reject' } }];
  }
}

const OPERATORS = ['and', 'or', 'not', 'nor'] as const;
type Operator = (typeof OPERATORS)[number];

/** Criteria Pomerium documents that Gatehouse cannot evaluate, each with why. */
const REFUSED: Record<string, string> = {
  device: 'Gatehouse has no device identity (WebAuthn device enrolment)',
  client_certificate: 'Gatehouse does not ask browsers for client certificates (no downstream mTLS)',
  invalid_client_certificate: 'Gatehouse does not ask browsers for client certificates (no downstream mTLS)',
  record: 'external data sources are a Pomerium Enterprise feature Gatehouse does not have',
  mcp_tool: 'Gatehouse does not look inside MCP requests',
};

const KNOWN =
  'accept, reject, authenticated_user, email, domain, user, groups, claim/NAME, http_method, http_path, source_ip, cors_preflight, pomerium_routes, date, day_of_week, time_of_day';

export function parsePpl(value: unknown): PplResult {
  const blocks = Array.isArray(value) ? value : [value];
  if (blocks.length === 0) return fail('expected allow: and/or deny: rules');
  const rules: Record<'allow' | 'deny', PplNode[]> = { allow: [], deny: [] };
  for (const [index, block] of blocks.entries()) {
    const where = Array.isArray(value) ? `rule ${index + 1}: ` : '';
    if (!isRecord(block) || Object.keys(block).length === 0) return fail(`${where}expected a rule with allow: and/or deny:`);
    for (const [action, body] of Object.entries(block)) {
      if (action !== 'allow' && action !== 'deny') return fail(`${where}"${action}" is not a policy action (allow or deny)`);
      const node = readBody(body, action);
      if (typeof node === 'string') return fail(`${where}${node}`);
      rules[action].push(node);
    }
  }
  const policy: PplPolicy = { allow: [], deny: [], public: false };
  for (const rule of rules.deny) policy.deny.push(...(flatten(rule) ?? [{ kind: 'ppl', rule }]));
  for (const rule of rules.allow) {
    const flat = flatten(rule);
    // `accept` alone lets everyone in; as `public` it also skips sign-in, which is the same when no deny rule could apply.
    if (flat === null && isAcceptOnly(rule) && rules.deny.length === 0) policy.public = true;
    else policy.allow.push(...(flat ?? [{ kind: 'ppl', rule }]));
  }
  return { ok: true, value: policy };
}

/** `allow:`/`deny:` body: operators, several or-ed together. A string is the problem. */
function readBody(body: unknown, action: string): PplNode | string {
  if (!isRecord(body) || Object.keys(body).length === 0) return `${action}: expected one of and:, or:, not:, nor: with a list of criteria`;
  const nodes: PplNode[] = [];
  for (const [operator, items] of Object.entries(body)) {
    if (!(OPERATORS as readonly string[]).includes(operator)) return `${action}: "${operator}" is not an operator (and, or, not, nor)`;
    const node = readOperator(operator as Operator, items, `${action}.${operator}`);
    if (typeof node === 'string') return node;
    nodes.push(node);
  }
  return nodes.length === 1 ? (nodes[0] as PplNode) : { op: 'or', items: nodes };
}

function readOperator(op: Operator, items: unknown, where: string): PplNode | string {
  if (!Array.isArray(items) || items.length === 0) return `${where}: expected a list of criteria`;
  const nodes: PplNode[] = [];
  for (const item of items) {
    const node = readItem(item, where);
    if (typeof node === 'string') return node;
    nodes.push(node);
  }
  return { op, items: nodes };
}

function readItem(item: unknown, where: string): PplNode | string {
  if (!isRecord(item) || Object.keys(item).length !== 1) return `${where}: each item is a mapping with one criterion (or a nested and/or/not/nor)`;
  const [name, data] = Object.entries(item)[0] as [string, unknown];
  if ((OPERATORS as readonly string[]).includes(name)) return readOperator(name as Operator, data, `${where}.${name}`);
  const criterion = readCriterion(name, data);
  return typeof criterion === 'string' ? `${where}: ${name}: ${criterion}` : criterion;
}

function readCriterion(name: string, data: unknown): PplCriterion | string {
  const refused = REFUSED[name];
  if (refused !== undefined) return `not supported: ${refused}`;
  switch (name) {
    case 'accept':
    case 'reject':
    case 'authenticated_user':
    case 'cors_preflight':
    case 'pomerium_routes':
      // Pomerium ignores the value, so `false` would still match: only `true` says what it does.
      return data === true ? { criterion: name } : 'write true (Pomerium ignores the value, so false would still match)';
    case 'email':
    case 'domain':
      return withMatcher(name, data, (text) => asciiLowerText(name === 'domain' ? text.replace(/^@/, '') : text));
    case 'user':
    case 'http_path':
      return withMatcher(name, data, (text) => text);
    case 'http_method':
      return withMatcher(name, data, (text) => text.toUpperCase());
    case 'groups': {
      const has = scalarText(isRecord(data) && Object.keys(data).length === 1 && 'has' in data ? data.has : data);
      return has === null ? 'expected a group name, or {has: NAME}' : { criterion: 'groups', has };
    }
    case 'source_ip': {
      // A network or one address, written as Pomerium takes it; kept in the canonical form `ip:` entries use.
      const text = scalarText(data);
      const network = text === null ? null : parseNetworkText(text.trim());
      return network === null ? 'expected an IP address or a network such as 192.168.1.0/24 (host bits zero)' : { criterion: 'source_ip', network };
    }
    case 'date':
      return readDate(data);
    case 'day_of_week':
      return readDays(data);
    case 'time_of_day':
      return readTimeOfDay(data);
  }
  if (name.startsWith('claim/') && name.length > 'claim/'.length) {
    const value = scalarText(data);
    return value === null ? 'expected the value the claim must equal, such as claim/role: admin' : { criterion: 'claim', claim: name.slice('claim/'.length), value };
  }
  return `unknown criterion; Gatehouse evaluates ${KNOWN}`;
}

const MATCHER_OPS = ['is', 'starts_with', 'ends_with', 'contains', 'in', 'not_in'] as const;

/** Pomerium's string matcher: a bare value means `is`; several operators must all hold. */
function withMatcher(name: 'email' | 'domain' | 'user' | 'http_method' | 'http_path', data: unknown, fold: (text: string) => string): PplCriterion | string {
  const shape = `expected a value, or a matcher with ${MATCHER_OPS.join(', ')}`;
  const bare = scalarText(data);
  if (bare !== null) return { criterion: name, match: { is: fold(bare) } };
  if (!isRecord(data) || Object.keys(data).length === 0) return shape;
  const match: PplStringMatcher = {};
  for (const [op, raw] of Object.entries(data)) {
    if (op === 'in' || op === 'not_in') {
      const list = Array.isArray(raw) ? raw.map(scalarText) : null;
      if (list === null || list.length === 0 || list.some((t) => t === null)) return `${op}: expected a list of values`;
      match[op] = (list as string[]).map(fold);
    } else if (op === 'is' || op === 'starts_with' || op === 'ends_with' || op === 'contains') {
      const text = scalarText(raw);
      if (text === null) return `${op}: expected a single value`;
      match[op] = fold(text);
    } else return `"${op}" is not a string matcher operator (${MATCHER_OPS.join(', ')})`;
  }
  return { criterion: name, match };
}

function readDate(data: unknown): PplCriterion | string {
  const shape = 'expected {after: DATE, before: DATE} with ISO-8601 dates such as 2026-01-02T16:20:00Z (no zone: UTC)';
  if (!isRecord(data) || Object.keys(data).length === 0 || Object.keys(data).some((k) => k !== 'after' && k !== 'before')) return shape;
  const after = data.after === undefined ? null : isoDate(data.after);
  const before = data.before === undefined ? null : isoDate(data.before);
  if (after === undefined || before === undefined) return shape;
  return { criterion: 'date', after, before };
}

/** Epoch ms of an ISO-8601 date or date-time; UTC unless it names a zone. Undefined when it is none. */
function isoDate(value: unknown): number | undefined {
  const text = value instanceof Date ? value.toISOString() : scalarText(value);
  const m = text === null ? null : /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(text.trim());
  if (m === null) return undefined;
  const zone = m[3] === undefined ? 'Z' : m[3].toUpperCase() === 'Z' ? 'Z' : m[3].includes(':') ? m[3] : `${m[3].slice(0, 3)}:${m[3].slice(3)}`;
  const ms = Date.parse(`${m[1]}T${m[2] ?? '00:00:00'}${zone}`);
  return Number.isNaN(ms) ? undefined : ms;
}

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** `*`, `mon,wed,fri`, `mon-fri`, or a mix (`mon-wed,fri`); full English names or three letters. In UTC. */
function readDays(data: unknown): PplCriterion | string {
  const shape = 'expected *, a list such as mon,wed,fri or a range such as mon-fri (English day names or their first three letters; in UTC)';
  const text = scalarText(data);
  if (text === null || text.trim() === '') return shape;
  if (text.trim() === '*') return { criterion: 'day_of_week', days: [0, 1, 2, 3, 4, 5, 6], timezone: 'UTC' };
  const days = new Set<number>();
  for (const part of text.split(',')) {
    const ends = part.split('-').map((d) => dayIndex(d.trim()));
    if (ends.length > 2 || ends.some((d) => d === -1)) return shape;
    const [from, to = from] = ends as [number, number?];
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === to) break;
    }
  }
  return { criterion: 'day_of_week', days: [...days].sort(), timezone: 'UTC' };
}

function dayIndex(text: string): number {
  const lower = text.toLowerCase();
  return DAYS.findIndex((day) => day === lower || day.slice(0, 3) === lower);
}

function readTimeOfDay(data: unknown): PplCriterion | string {
  const shape = 'expected {timezone: ZONE, after: TIME, before: TIME} with times such as 9:00, 17:30:00 or 4:30PM';
  if (!isRecord(data) || Object.keys(data).some((k) => k !== 'timezone' && k !== 'after' && k !== 'before')) return shape;
  const timezone = scalarText(data.timezone);
  if (timezone === null) return 'timezone is required, such as Europe/Berlin or UTC';
  if (!isTimeZone(timezone)) return `"${timezone}" is not a time zone this system knows; use an IANA name such as Europe/Berlin`;
  if (data.after === undefined && data.before === undefined) return shape;
  const after = data.after === undefined ? null : clockSeconds(data.after);
  const before = data.before === undefined ? null : clockSeconds(data.before);
  if (after === undefined || before === undefined) return shape;
  if (after !== null && before !== null && after >= before) {
    return 'after must be earlier than before; for a window across midnight write or: [{time_of_day: {after: …}}, {time_of_day: {before: …}}]';
  }
  return { criterion: 'time_of_day', timezone, after, before };
}

/** Pomerium's formats: 3:04 PM, 3:04PM, 3 PM, 3PM, 15:04:05.999999999, 15:04:05, 15:04. */
function clockSeconds(value: unknown): number | null | undefined {
  // YAML 1.1 readers turn 15:04 into a number (sexagesimal); the yaml package reads 1.2, where it stays text.
  const text = scalarText(value);
  const m = text === null ? null : /^(\d{1,2})(?::(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?)?\s*([AaPp][Mm])?$/.exec(text.trim());
  if (m === null || (m[2] === undefined && m[4] === undefined)) return undefined;
  let hours = Number(m[1]);
  const minutes = Number(m[2] ?? 0);
  const seconds = Number(m[3] ?? 0);
  if (m[4] !== undefined) {
    if (hours < 1 || hours > 12) return undefined;
    hours = (hours % 12) + (m[4].toLowerCase() === 'pm' ? 12 : 0);
  }
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  return hours * 3600 + minutes * 60 + seconds;
}

/** A rule that is an `or` (or a one-item `and`) of criteria labels can say, as label entries; null otherwise. */
function flatten(rule: PplNode): PolicyEntry[] | null {
  if (!('op' in rule)) return null;
  if (rule.op !== 'or' && !(rule.op === 'and' && rule.items.length === 1)) return null;
  const entries: PolicyEntry[] = [];
  for (const item of rule.items) {
    const entry = 'op' in item ? null : asEntry(item);
    if (entry === null) return null;
    entries.push(entry);
  }
  return entries;
}

function asEntry(c: PplCriterion): PolicyEntry | null {
  const isOnly = (m: PplStringMatcher) => (Object.keys(m).length === 1 && m.is !== undefined ? m.is : null);
  switch (c.criterion) {
    case 'authenticated_user':
      return { kind: 'any' };
    case 'groups':
      return { kind: 'group', group: c.has };
    case 'claim':
      return { kind: 'claim', claim: c.claim, value: c.value };
    case 'user': {
      const sub = isOnly(c.match);
      return sub === null ? null : { kind: 'user', sub };
    }
    case 'email': {
      const email = isOnly(c.match);
      const entry = email === null ? null : parsePolicyEntry(email);
      return entry?.kind === 'email' ? entry : null;
    }
    case 'domain': {
      const domain = isOnly(c.match);
      const entry = domain === null ? null : parsePolicyEntry(`@${domain}`);
      return entry?.kind === 'domain' ? entry : null;
    }
    default:
      return null;
  }
}

function isAcceptOnly(rule: PplNode): boolean {
  return 'op' in rule && (rule.op === 'or' || rule.op === 'and') && rule.items.length === 1 && !('op' in (rule.items[0] as PplNode)) && (rule.items[0] as PplCriterion).criterion === 'accept';
}

function scalarText(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function asciiLowerText(text: string): string {
  return text.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function fail(problem: string): PplResult {
  return { ok: false, problem };
}
