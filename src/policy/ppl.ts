import type { PplCriterion, PplNode, PplStringMatcher } from '../routes/index.ts';
import { asciiLower, type Subject } from './entries.ts';
import { compileNetwork, networkContains, type Cidr } from '../labels/index.ts';

/**
 * Evaluates one rule of Pomerium's policy language (PPL) against a request. Pure: the time of
 * the request comes in as `now`, like the method and path. A criterion about the user is false
 * when nobody is signed in, so a rule decides for an anonymous caller only when it needs no one
 * (`accept`, `http_method`, `date`, …).
 */

export interface PplRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: { readonly origin?: string; readonly 'access-control-request-method'?: string };
  /** Epoch ms. */
  readonly now: number;
  /** The client address after trusted proxies (GATEHOUSE_TRUSTED_PROXIES); absent when unknown. */
  readonly clientIp?: string;
}

/**
 * Whether the rule holds. `broad` resolves what the request leaves open toward refusing: route
 * paths match without ASCII case (`/ADMIN` reaches the `/admin` route, and case-insensitive apps
 * serve it as `/admin`), so an `http_path` criterion holds for a deny rule when it holds either
 * way, and for an allow rule only when it holds both ways. `not` and `nor` turn it around for
 * what they negate. Deny rules are evaluated broad, allow rules not.
 */
export function evaluatePpl(node: PplNode, subject: Subject | null, request: PplRequest, broad = false): boolean {
  if ('op' in node) {
    switch (node.op) {
      case 'and':
        return node.items.every((item) => evaluatePpl(item, subject, request, broad));
      case 'or':
        return node.items.some((item) => evaluatePpl(item, subject, request, broad));
      case 'not':
        return node.items.every((item) => !evaluatePpl(item, subject, request, !broad));
      case 'nor':
        return node.items.some((item) => !evaluatePpl(item, subject, request, !broad));
    }
  }
  return criterionHolds(node, subject, request, broad);
}

function criterionHolds(c: PplCriterion, subject: Subject | null, request: PplRequest, broad: boolean): boolean {
  switch (c.criterion) {
    case 'accept':
      return true;
    case 'reject':
      return false;
    case 'authenticated_user':
      return subject !== null;
    case 'cors_preflight':
      return request.method === 'OPTIONS' && !!request.headers.origin && !!request.headers['access-control-request-method'];
    case 'pomerium_routes':
      return request.path === '/.pomerium' || request.path.startsWith('/.pomerium/');
    case 'email':
      return subject?.email != null && stringMatches(c.match, subject.email);
    case 'domain':
      return subject?.domain != null && stringMatches(c.match, subject.domain);
    case 'user':
      return subject !== null && stringMatches(c.match, subject.identity.sub);
    case 'http_method':
      return stringMatches(c.match, request.method);
    case 'http_path': {
      const exact = stringMatches(c.match, request.path);
      const folded = stringMatches(foldedMatcher(c.match), asciiLower(request.path));
      return broad ? exact || folded : exact && folded;
    }
    case 'groups':
      return subject !== null && subject.identity.groups.includes(c.has);
    case 'claim':
      return subject !== null && claimHolds(subject.identity.claims, c.claim, c.value);
    case 'source_ip': {
      // Unknown address: the criterion does not hold (in a deny rule that cannot let anyone in).
      if (request.clientIp === undefined) return false;
      const network = sourceNetwork(c);
      return network !== null && networkContains(network, request.clientIp);
    }
    case 'date':
      return (c.after === null || request.now > c.after) && (c.before === null || request.now < c.before);
    case 'day_of_week':
      return c.days.includes(localTime(request.now, c.timezone).day);
    case 'time_of_day': {
      const { seconds } = localTime(request.now, c.timezone);
      return (c.after === null || seconds > c.after) && (c.before === null || seconds < c.before);
    }
  }
}

// Rules are frozen with the route table, so each network is compiled once.
const networks = new WeakMap<PplCriterion, Cidr | null>();

function sourceNetwork(c: Extract<PplCriterion, { criterion: 'source_ip' }>): Cidr | null {
  let network = networks.get(c);
  if (network === undefined) {
    network = compileNetwork(c.network);
    networks.set(c, network);
  }
  return network;
}

/**
 * Every operator given must hold. Values were folded when the rule was read (emails and domains
 * lower-case, methods upper-case), as the request's are, so nothing is folded here.
 */
function stringMatches(m: PplStringMatcher, value: string): boolean {
  if (m.is !== undefined && value !== m.is) return false;
  if (m.starts_with !== undefined && !value.startsWith(m.starts_with)) return false;
  if (m.ends_with !== undefined && !value.endsWith(m.ends_with)) return false;
  if (m.contains !== undefined && !value.includes(m.contains)) return false;
  if (m.in !== undefined && !m.in.includes(value)) return false;
  if (m.not_in !== undefined && m.not_in.includes(value)) return false;
  return true;
}

// Rules are frozen with the route table, so each path matcher is folded once.
const folded = new WeakMap<PplStringMatcher, PplStringMatcher>();

function foldedMatcher(m: PplStringMatcher): PplStringMatcher {
  let copy = folded.get(m);
  if (copy === undefined) {
    copy = Object.fromEntries(Object.entries(m).map(([op, value]) => [op, Array.isArray(value) ? value.map(asciiLower) : asciiLower(value as string)]));
    folded.set(m, copy);
  }
  return copy;
}

function claimHolds(claims: Readonly<Record<string, unknown>>, key: string, expected: string): boolean {
  if (!Object.hasOwn(claims, key)) return false;
  const value = claims[key];
  const equals = (item: unknown) => (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') && String(item) === expected;
  return Array.isArray(value) ? value.some(equals) : equals(value);
}

const ABOUT_THE_USER = new Set<PplCriterion['criterion']>(['authenticated_user', 'email', 'domain', 'user', 'groups', 'claim']);

/** Whether any criterion in the rule is about the user: then only an identified caller can be judged by it. */
export function needsIdentity(node: PplNode): boolean {
  return 'op' in node ? node.items.some(needsIdentity) : ABOUT_THE_USER.has(node.criterion);
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
// One formatter per time zone: building one costs far more than formatting with it.
const formatters = new Map<string, Intl.DateTimeFormat>();
/** Per time zone, its UTC offset during one quarter hour: formatting costs ~10 µs, a cache hit nothing. */
const offsets = new Map<string, { quarter: number; offsetMs: number }>();
const QUARTER_HOUR = 15 * 60_000;

/**
 * The weekday (0 = Sunday) and seconds after midnight of `now` in an IANA time zone. Every zone
 * in use today changes its offset only on a quarter hour (UTC), so one offset per quarter hour
 * is exact.
 */
export function localTime(now: number, timeZone: string): { day: number; seconds: number } {
  const quarter = Math.floor(now / QUARTER_HOUR);
  let cached = offsets.get(timeZone);
  if (cached === undefined || cached.quarter !== quarter) {
    cached = { quarter, offsetMs: offsetAt(now, timeZone) };
    offsets.set(timeZone, cached);
  }
  const local = now + cached.offsetMs;
  const days = Math.floor(local / 86_400_000);
  // 1970-01-01 was a Thursday (4).
  return { day: (((days + 4) % 7) + 7) % 7, seconds: Math.floor((local - days * 86_400_000) / 1000) };
}

function offsetAt(now: number, timeZone: string): number {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' });
    formatters.set(timeZone, format);
  }
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(now)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  const asUtc = Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
  return asUtc - (now - (now % 1000 + 1000) % 1000);
}

/** The rule as text for logs and `gatehouse routes`: `and(email:alice@example.com, http_method:GET)`. */
export function formatPpl(node: PplNode): string {
  if ('op' in node) return `${node.op}(${node.items.map(formatPpl).join(', ')})`;
  switch (node.criterion) {
    case 'accept':
    case 'reject':
    case 'authenticated_user':
    case 'cors_preflight':
    case 'pomerium_routes':
      return node.criterion;
    case 'email':
    case 'domain':
    case 'user':
    case 'http_method':
    case 'http_path':
      return `${node.criterion}:${formatMatcher(node.match)}`;
    case 'groups':
      return `groups:${node.has}`;
    case 'claim':
      return `claim/${node.claim}:${node.value}`;
    case 'source_ip':
      return `source_ip:${node.network}`;
    case 'date':
      return `date:{${[node.after === null ? null : `after:${new Date(node.after).toISOString()}`, node.before === null ? null : `before:${new Date(node.before).toISOString()}`].filter(Boolean).join(',')}}`;
    case 'day_of_week':
      return `day_of_week:${node.days.map((d) => WEEKDAYS[d]?.toLowerCase()).join(',')}@${node.timezone}`;
    case 'time_of_day':
      return `time_of_day:{${[node.after === null ? null : `after:${clock(node.after)}`, node.before === null ? null : `before:${clock(node.before)}`].filter(Boolean).join(',')}}@${node.timezone}`;
  }
}

function formatMatcher(m: PplStringMatcher): string {
  const keys = Object.keys(m) as (keyof PplStringMatcher)[];
  if (keys.length === 1 && m.is !== undefined) return m.is;
  return `{${keys.map((k) => `${k}:${Array.isArray(m[k]) ? `[${(m[k] as string[]).join('|')}]` : String(m[k])}`).join(',')}}`;
}

function clock(seconds: number): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
}
