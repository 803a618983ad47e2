import { HEADER_NAME, HOP_BY_HOP, hasControlCharacter } from '../http/index.ts';
import { fail, ok, type Parsed } from './parsed.ts';

/**
 * `response_header.<Name>`: a header set on every response of the route, over the app's own.
 * The value is plain text (no templates, no secrets: responses go to every visitor). Refused:
 * hop-by-hop names and what framing depends on, cookies (an app sets its own), Gatehouse's
 * request id, and Strict-Transport-Security, which only the `hsts` preset sets (a container
 * must not pin HSTS with includeSubDomains over hosts it does not own).
 */

const REFUSED: ReadonlyMap<string, string> = new Map([
  ...[...HOP_BY_HOP].map((name) => [name, 'is a hop-by-hop header, which belongs to one connection'] as const),
  ['content-length', 'describes the body, which the app sends'],
  ['content-encoding', 'describes the body, which the app sends'],
  ['set-cookie', 'would set cookies on behalf of the app; let the app set its own'],
  ['x-request-id', 'is set by Gatehouse on every response'],
  ['strict-transport-security', 'is set by the hsts preset only: write hsts=true'],
]);

const MAX_VALUE = 4096;

/** The header name, lowercased (how responses are merged), or why it may not be set. */
export function parseResponseHeaderName(name: string): Parsed<string> {
  if (!HEADER_NAME.test(name)) return fail(`"${name}" is not a valid HTTP header name`);
  const lower = name.toLowerCase();
  const reason = REFUSED.get(lower);
  return reason === undefined ? ok(lower) : fail(`"${name}" ${reason}`);
}

export function parseResponseHeaderValue(value: string): Parsed<string> {
  if (hasControlCharacter(value)) return fail('the value contains a line break or control character');
  const trimmed = value.trim();
  if (trimmed === '') return fail('expected a value; to drop a header the app sends, ask the app not to send it');
  if (trimmed.length > MAX_VALUE) return fail(`the value is longer than ${MAX_VALUE} characters`);
  if (trimmed.toLowerCase().startsWith('secret:')) return fail('response headers go to every visitor: secret: values are refused');
  return ok(trimmed);
}

/** `iap.response_header` without a name: only reached when the label names none. */
export function parseUnnamedResponseHeader(): Parsed<Record<string, string>> {
  return fail('name the header: response_header.<Header-Name>');
}
