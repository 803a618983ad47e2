import { evaluate } from '../policy/index.ts';
import { createSecretReader, DEFAULT_LABEL_SECRETS_DIR, type SecretReader } from '../util/secrets.ts';
import type { Route } from '../routes/table.ts';
import type { Logger } from '../observability/logger.ts';
import type { AccessGate, GateRequest, GateResult } from './gate.ts';
import { pageFor } from './pages.ts';

/**
 * The gate Gatehouse runs with until sign-in is configured: public routes, bypass rules and
 * CORS preflights are forwarded; everything else is refused (fail closed), never opened.
 */
export interface PublicOnlyGateOptions {
  /** Where `secret:NAME` header values are read from (GATEHOUSE_LABEL_SECRETS_DIR). */
  readonly secretsDir?: string;
  /** Gatehouse's own settings files, never readable through a label (see util/secrets.ts). */
  readonly ownFiles?: readonly string[];
  /** Told when a `secret:` file cannot be read (the name, never a value). */
  readonly logger?: Logger;
}

export function createPublicOnlyGate(options: PublicOnlyGateOptions = {}): AccessGate {
  const secretsDir = options.secretsDir ?? DEFAULT_LABEL_SECRETS_DIR;
  const secrets = createSecretReader({ dir: secretsDir, ownFiles: options.ownFiles ?? [] });
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

/** True when the route lets this request through without a signed-in user (public, bypass, CORS preflight). */
function isOpenRequest(req: GateRequest, route: Route): boolean {
  const { origin, 'access-control-request-method': preflightMethod } = req.headers;
  const headers = {
    ...(typeof origin === 'string' ? { origin } : {}),
    ...(typeof preflightMethod === 'string' ? { 'access-control-request-method': preflightMethod } : {}),
  };
  return evaluate(route.policy, null, { method: req.method, path: req.path, headers }, []).allow;
}

/**
 * A header template the public gate can fill without a user: a literal, or `secret:NAME`.
 * Identity templates (`{…}`) yield undefined (not set: there is nobody to describe); an
 * unreadable secret yields null.
 */
function literalValue(template: string, secrets: SecretReader): string | null | undefined {
  if (template.startsWith('secret:')) return secrets(template.slice('secret:'.length));
  if (/\{[^}]*\}/.test(template)) return undefined;
  return template;
}
