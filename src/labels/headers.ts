import { HEADER_NAME, HOP_BY_HOP, IDENTITY_PREFIX, foldHeaderName, hasControlCharacter } from '../http/index.ts';
import { compileHeaderTemplate } from '../routes/index.ts';
import { fail, ok, type Parsed } from './parsed.ts';

/**
 * `header.<Name>` (and the routes file's `set_request_headers`): which names a route may set,
 * and what a value may hold. Values are templates kept as written; `secret:NAME` is resolved
 * when the request is forwarded.
 */

/**
 * Compared after folding, because many backends read `X_Iap_User` and `X.Iap.User` as `X-Iap-User`:
 * the hop-by-hop names plus what the proxy itself manages.
 */
const FORBIDDEN: ReadonlySet<string> = new Set([...HOP_BY_HOP, 'host', 'content-length', 'cookie']);

export { foldHeaderName };

export function parseHeaderName(name: string): Parsed<string> {
  if (!HEADER_NAME.test(name)) return fail(`"${name}" is not a valid HTTP header name`);
  const folded = foldHeaderName(name);
  if (folded.startsWith(IDENTITY_PREFIX)) return fail(`"${name}": X-IAP-* headers carry the signed-in identity and are set by Gatehouse alone`);
  if (FORBIDDEN.has(folded)) return fail(`"${name}" is managed by the proxy and cannot be set`);
  return ok(name);
}

/** A plain file name in the label secrets folder: no separator, no `..`, no dotfile. */
const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Never echoes the value: it may be a credential. */
export function parseHeaderValue(value: string): Parsed<string> {
  if (hasControlCharacter(value)) return fail('the value contains a line break or control character');
  const trimmed = value.trim();
  if (trimmed.toLowerCase().startsWith('secret:')) {
    const name = trimmed.slice('secret:'.length);
    if (!SECRET_NAME.test(name) || name.includes('..')) {
      return fail('expected secret:NAME with NAME a plain file name in the label secrets folder: letters, digits, ".", "_" and "-", not starting with "." and without ".."');
    }
    return ok(`secret:${name}`);
  }
  const compiled = compileHeaderTemplate(value);
  return compiled.ok ? ok(value) : fail(compiled.error);
}
