import type { PageKind } from './pages.ts';

/**
 * What went wrong with an upstream request, read from the error's cause chain: the kind a
 * user is told about (and the status and page that say it), and the codes the log keeps.
 */
export type UpstreamFailureKind = 'refused' | 'timed_out' | 'bad_response' | 'unreachable';

export interface UpstreamFailure {
  readonly kind: UpstreamFailureKind;
  readonly status: 502 | 504;
  readonly page: PageKind;
  /** Every code in the cause chain (an error without one is named by its class, such as HTTPParserError). */
  readonly codes: string[];
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

/** The app answered, or hung up, in a way that cannot be relayed. */
const BAD_RESPONSE_CODES = new Set([
  'HTTPParserError', // undici's parser: leaves `code` unset, hence the class name
  'UND_ERR_SOCKET', // the connection closed before a whole response arrived
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_HEADERS_OVERFLOW',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
  'UND_ERR_INFO',
  'ERR_INVALID_CHAR', // a header Node refuses to send on
  'ERR_HTTP_INVALID_HEADER_VALUE',
  'ERR_INVALID_HTTP_TOKEN',
  'GATEHOUSE_AMBIGUOUS_FRAMING',
]);

const PAGES: Record<UpstreamFailureKind, PageKind> = {
  refused: 'upstream_refused',
  timed_out: 'gateway_timeout',
  bad_response: 'upstream_bad_response',
  unreachable: 'bad_gateway',
};

export function describeUpstreamFailure(error: unknown): UpstreamFailure {
  const codes = upstreamErrorCodes(error);
  const kind = failureKind(codes);
  return { kind, status: kind === 'timed_out' ? 504 : 502, page: PAGES[kind], codes };
}

function failureKind(codes: readonly string[]): UpstreamFailureKind {
  if (codes.some((code) => TIMEOUT_CODES.has(code))) return 'timed_out';
  if (codes.includes('ECONNREFUSED')) return 'refused';
  if (codes.some((code) => BAD_RESPONSE_CODES.has(code) || code.startsWith('HPE_'))) return 'bad_response';
  return 'unreachable';
}

export function upstreamErrorCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    else if (current.name !== 'Error') codes.push(current.name);
    current = current.cause;
  }
  return codes;
}
