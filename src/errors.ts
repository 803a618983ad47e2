/**
 * The one error type Gatehouse raises for conditions a user or operator can act on.
 * `code` is stable (tests and callers switch on it); `status` is the HTTP status when the
 * error ends a request. Bad user input in pure modules is returned as values, not thrown.
 */
export type GatehouseErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_FILE_INVALID'
  | 'DOCKER_UNAVAILABLE'
  | 'ROUTE_NOT_FOUND'
  | 'BAD_REQUEST_PATH'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_CONNECT_FAILED'
  | 'UPSTREAM_TIMEOUT'
  | 'ACCESS_DENIED'
  | 'NOT_SIGNED_IN'
  | 'IDP_UNREACHABLE'
  | 'SIGN_IN_FAILED'
  /** Shared state (Redis) cannot be reached. */
  | 'STATE_UNAVAILABLE'
  /** Another replica claimed the same one-time entry first (a sign-in link used twice). */
  | 'STATE_CONFLICT'
  | 'INTERNAL';

export class GatehouseError extends Error {
  readonly code: GatehouseErrorCode;
  readonly status: number | undefined;

  constructor(code: GatehouseErrorCode, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatehouseError';
    this.code = code;
    this.status = options.status;
  }
}

export function isGatehouseError(value: unknown, code?: GatehouseErrorCode): value is GatehouseError {
  return value instanceof GatehouseError && (code === undefined || value.code === code);
}
