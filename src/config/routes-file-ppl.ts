import { parsePolicyEntry } from '../labels/index.ts';
import type { PolicyEntry } from '../routes/index.ts';

/**
 * The part of Pomerium's policy language (PPL) that maps onto allow/deny entries:
 *
 *   policy:
 *     allow:
 *       or:
 *         - email: { is: alice@example.com }
 *         - domain: { is: example.com }
 *         - groups: { has: admins }
 *         - claim/role: admin
 *         - user: { is: 1234 }
 *         - authenticated_user: true
 *         - accept: true            # allow only: no sign-in at all
 *     deny:
 *       or: [...]
 *
 * `policy` may also be a list of such blocks. Anything else (and, not, nor, other criteria or
 * matchers) is refused: approximating a policy could let in someone its author kept out.
 */

export interface PplPolicy {
  allow: PolicyEntry[];
  deny: PolicyEntry[];
  public: boolean;
}

export type PplResult = { ok: true; value: PplPolicy } | { ok: false; problem: string };

const SUPPORTED =
  'supported: allow/deny with or: [email: {is: …}, domain: {is: …}, groups: {has: …}, claim/NAME: …, user: {is: …}, authenticated_user: true, accept: true (allow only)]';

export function parsePpl(value: unknown): PplResult {
  const blocks = Array.isArray(value) ? value : [value];
  const policy: PplPolicy = { allow: [], deny: [], public: false };
  for (const block of blocks) {
    if (!isRecord(block)) return fail(`expected allow: and/or deny: blocks; ${SUPPORTED}`);
    for (const [action, body] of Object.entries(block)) {
      if (action !== 'allow' && action !== 'deny') return fail(`"${action}" is not a policy action (allow or deny)`);
      const problem = readAction(action, body, policy);
      if (problem !== null) return fail(problem);
    }
  }
  return { ok: true, value: policy };
}

function readAction(action: 'allow' | 'deny', body: unknown, policy: PplPolicy): string | null {
  if (!isRecord(body) || Object.keys(body).length !== 1 || !Array.isArray(body.or)) {
    const operator = isRecord(body) ? Object.keys(body).join(', ') : typeof body;
    return `${action}: only an or: list is supported (found ${operator || 'nothing'}); ${SUPPORTED}`;
  }
  for (const criterion of body.or) {
    const read = readCriterion(action, criterion);
    if ('problem' in read) return `${action}: ${read.problem}`;
    if ('entry' in read) policy[action].push(read.entry);
    else policy.public = true;
  }
  return null;
}

type Criterion = { entry: PolicyEntry } | { public: true } | { problem: string };

function readCriterion(action: 'allow' | 'deny', criterion: unknown): Criterion {
  if (!isRecord(criterion) || Object.keys(criterion).length !== 1) return { problem: `each criterion is a mapping with one key; ${SUPPORTED}` };
  const [name, matcher] = Object.entries(criterion)[0] as [string, unknown];
  const is = matcherValue(matcher, 'is');
  switch (name) {
    case 'email':
      return entryOr(is === null ? null : parsePolicyEntry(is), 'email', 'email: {is: alice@example.com}');
    case 'domain':
      return entryOr(is === null ? null : parsePolicyEntry(`@${is}`), 'domain', 'domain: {is: example.com}');
    case 'user':
      return is === null ? { problem: 'expected user: {is: SUBJECT}' } : { entry: { kind: 'user', sub: is } };
    case 'groups': {
      const group = matcherValue(matcher, 'has');
      return group === null ? { problem: 'expected groups: {has: NAME}' } : { entry: { kind: 'group', group } };
    }
    case 'authenticated_user':
      return matcher === true ? { entry: { kind: 'any' } } : { problem: 'expected authenticated_user: true' };
    case 'accept':
      if (matcher !== true) return { problem: 'expected accept: true' };
      return action === 'allow' ? { public: true } : { problem: '{accept: true} would block everyone; remove the route instead' };
  }
  if (name.startsWith('claim/') && name.length > 'claim/'.length) {
    const value = typeof matcher === 'string' || typeof matcher === 'number' || typeof matcher === 'boolean' ? String(matcher).trim() : '';
    return value === '' ? { problem: `expected ${name}: VALUE` } : { entry: { kind: 'claim', claim: name.slice('claim/'.length), value } };
  }
  return { problem: `the criterion "${name}" is not supported; ${SUPPORTED}` };
}

/** `{is: "x"}` → "x"; any other matcher (starts_with, in, …) → null. */
function matcherValue(matcher: unknown, key: 'is' | 'has'): string | null {
  if (!isRecord(matcher) || Object.keys(matcher).length !== 1) return null;
  const value = matcher[key];
  const text = typeof value === 'string' || typeof value === 'number' ? String(value).trim() : '';
  return text === '' ? null : text;
}

function entryOr(entry: PolicyEntry | null, kind: PolicyEntry['kind'], shape: string): Criterion {
  return entry !== null && entry.kind === kind ? { entry } : { problem: `expected ${shape}` };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function fail(problem: string): PplResult {
  return { ok: false, problem };
}
