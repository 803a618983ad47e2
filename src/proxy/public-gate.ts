import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Route } from '../routes/table.ts';
import type { BypassRule } from '../routes/spec.ts';
import type { Logger } from '../observability/logger.ts';
import type { AccessGate, GateRequest, GateResult } from './gate.ts';
import { pageFor } from './pages.ts';

/**
 * The gate Gatehouse runs with until sign-in is configured: public routes, bypass rules and
 * CORS preflights are forwarded; everything else is refused (fail closed), never opened.
 */
export interface PublicOnlyGateOptions {
  /** Where `secret:NAME` header values are read from. */
  readonly secretsDir?: string;
  /** Told when a `secret:` file cannot be read (the name, never a value). */
  readonly logger?: Logger;
}

export function createPublicOnlyGate(options: PublicOnlyGateOptions = {}): AccessGate {
  const secretsDir = options.secretsDir ?? '/run/secrets';
  const secrets = createSecretReader(secretsDir);
  return {
    check(req: GateRequest, route: Route): GateResult {
      if (!isOpenRequest(req, route)) {
        const page = pageFor('sign_in_not_configured', req.headers, req.requestId);
        return { kind: 'respond', status: page.status, headers: page.headers, body: page.body };
      }
      const setHeaders: Record<string, string> = {};
      for (const [name, template] of Object.entries(route.setHeaders)) {
        const value = literalValue(template, secrets);
        if (value === null) {
          options.logger?.error(
            { route: route.id, header: name, requestId: req.requestId },
            `cannot read ${template} from ${secretsDir}: the header is not sent and the request is refused`,
          );
          const page = pageFor('internal_error', req.headers, req.requestId, 'A secret this app needs is missing on the Gatehouse host.');
          return { kind: 'respond', status: page.status, headers: page.headers, body: page.body };
        }
        if (value !== undefined) setHeaders[name] = value;
      }
      return { kind: 'forward', setHeaders };
    },
  };
}

export const publicOnlyGate: AccessGate = createPublicOnlyGate();

/** True when the route lets this request through without a signed-in user. */
export function isOpenRequest(req: GateRequest, route: Route): boolean {
  const policy = route.policy;
  if (policy.public) return true;
  if (policy.bypass.some((rule) => bypassMatches(rule, req.method, req.path))) return true;
  return policy.corsPreflight && isCorsPreflight(req);
}

/** Exact path, or a prefix when the rule ends with `/`; the query never takes part. */
export function bypassMatches(rule: BypassRule, method: string, path: string): boolean {
  if (rule.method !== null && rule.method !== method.toUpperCase()) return false;
  return rule.path.endsWith('/') ? path.startsWith(rule.path) : path === rule.path;
}

export function isCorsPreflight(req: GateRequest): boolean {
  return req.method === 'OPTIONS' && req.headers.origin !== undefined && req.headers['access-control-request-method'] !== undefined;
}

/**
 * A header template the public gate can fill without a user: a literal, or `secret:NAME`.
 * Identity templates (`{…}`) yield undefined (not set: there is nobody to describe); an
 * unreadable secret yields null.
 */
function literalValue(template: string, secrets: (name: string) => string | null): string | null | undefined {
  if (template.startsWith('secret:')) return secrets(template.slice('secret:'.length));
  if (/\{[^}]*\}/.test(template)) return undefined;
  return template;
}

const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Reads each secret file once, trimmed; a missing file is retried on the next request. */
function createSecretReader(dir: string): (name: string) => string | null {
  const cache = new Map<string, string>();
  return (name) => {
    const cached = cache.get(name);
    if (cached !== undefined) return cached;
    if (!SECRET_NAME.test(name) || name.includes('..')) return null;
    try {
      const value = readFileSync(join(dir, name), 'utf8').trim();
      cache.set(name, value);
      return value;
    } catch {
      return null;
    }
  };
}
