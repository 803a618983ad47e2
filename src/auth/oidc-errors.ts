import * as client from 'openid-client';
import { GatehouseError } from '../errors.ts';

/**
 * Sorts openid-client failures into the two things a user can act on: the provider could not
 * be reached (retry later, 502) or the sign-in response was refused (start again, 400).
 */

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'OAUTH_TIMEOUT',
  'OAUTH_ABORT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

function* causes(error: unknown): Generator<unknown> {
  let current = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth += 1) {
    yield current;
    current = current instanceof Error ? current.cause : undefined;
  }
}

function codeOf(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || !('code' in value)) return undefined;
  return typeof value.code === 'string' ? value.code : undefined;
}

/** A status code the provider answered with, when the failure is an unexpected HTTP response. */
function providerStatus(error: unknown): number | undefined {
  for (const item of causes(error)) {
    if (item instanceof client.ResponseBodyError) return item.status;
    if (item instanceof Response) return item.status;
  }
  return undefined;
}

export function isUnreachable(error: unknown): boolean {
  for (const item of causes(error)) {
    const code = codeOf(item);
    if (code !== undefined && NETWORK_CODES.has(code)) return true;
    if (item instanceof Error && (item.name === 'TimeoutError' || item.name === 'AbortError')) return true;
    if (item instanceof TypeError && item.message === 'fetch failed') return true;
  }
  const status = providerStatus(error);
  return status !== undefined && status >= 500;
}

const GENERIC = new Set(['fetch failed', 'something went wrong', 'invalid response encountered', 'unexpected JWT claim value encountered']);

function messageOf(item: unknown): string | undefined {
  if (item instanceof client.ResponseBodyError || item instanceof client.AuthorizationResponseError) {
    return item.error_description ? `${item.error}: ${item.error_description}` : item.error;
  }
  if (item instanceof Response) return `HTTP ${item.status}`;
  if (item instanceof Error) return item.message !== '' ? item.message : codeOf(item);
  return undefined;
}

/** The specific messages of the cause chain, e.g. `connect ECONNREFUSED 127.0.0.1:9` rather than `fetch failed`. */
export function describeError(error: unknown): string {
  const messages: string[] = [];
  for (const item of causes(error)) {
    const message = messageOf(item);
    if (message !== undefined && !GENERIC.has(message) && !messages.includes(message)) messages.push(message);
  }
  if (messages.length > 0) return messages.join(': ');
  return messageOf(error) ?? String(error);
}

export function unreachableError(issuer: string, step: string, error: unknown, status = 502): GatehouseError {
  return new GatehouseError(
    'IDP_UNREACHABLE',
    `Could not reach the identity provider ${issuer} while ${step} (${describeError(error)}). Try signing in again in a moment.`,
    { status, cause: error },
  );
}

export function signInFailed(reason: string, cause?: unknown): GatehouseError {
  return new GatehouseError('SIGN_IN_FAILED', `Sign-in failed: ${reason}. Go back to the application and sign in again.`, {
    status: 400,
    cause,
  });
}

export function toSignInError(issuer: string, step: string, error: unknown): GatehouseError {
  if (error instanceof GatehouseError) return error;
  if (isUnreachable(error)) return unreachableError(issuer, step, error);
  if (error instanceof client.AuthorizationResponseError) {
    return signInFailed(`the identity provider answered with an error (${describeError(error)})`, error);
  }
  if (error instanceof client.ResponseBodyError) {
    return signInFailed(`the identity provider refused the sign-in code (${describeError(error)}); it may have expired or been used already`, error);
  }
  return signInFailed(`the response from the identity provider did not pass verification (${describeError(error)})`, error);
}
