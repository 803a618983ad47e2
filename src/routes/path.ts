/**
 * Request-target normalisation. The string returned here is the one used for route matching,
 * for policy (bypass rules) and for forwarding, so all three always agree: a request that
 * could be read two ways is rejected instead of guessed at.
 */
export type NormalizedPath = { ok: true; path: string; query: string } | { ok: false; reason: string };

const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;

const HEX = '0123456789ABCDEF';

/** Characters a browser always percent-encodes in a path; seeing them raw means a hand-made or hostile request. */
function isForbiddenRaw(code: number): boolean {
  return (
    code <= 0x20 || // controls, NUL and space
    code >= 0x7f || // DEL and anything outside ASCII
    code === 0x22 || // "
    code === 0x23 || // # (a fragment never belongs in a request-target)
    code === 0x3c || // <
    code === 0x3e || // >
    code === 0x5c || // \
    code === 0x60 || // `
    code === 0x7b || // {
    code === 0x7d // }
  );
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    (byte >= 0x30 && byte <= 0x39) ||
    byte === 0x2d ||
    byte === 0x2e ||
    byte === 0x5f ||
    byte === 0x7e
  );
}

const reject = (reason: string): NormalizedPath => ({ ok: false, reason });

export function normalizeRequestPath(rawPathWithQuery: string): NormalizedPath {
  const q = rawPathWithQuery.indexOf('?');
  const rawPath = q === -1 ? rawPathWithQuery : rawPathWithQuery.slice(0, q);
  const query = q === -1 ? '' : rawPathWithQuery.slice(q);

  if (rawPath.charCodeAt(0) !== SLASH) return reject('the request path must start with "/"');
  for (let i = 1; i < query.length; i++) {
    const code = query.charCodeAt(i);
    if (code < 0x20 || code >= 0x7f || code === 0x23) {
      return reject('the query string contains a control character, a "#" or a non-ASCII character');
    }
  }

  // Fast path: nothing to decode and no segment starting with a dot, so the path is already normal.
  let needsWork = false;
  for (let i = 0; i < rawPath.length; i++) {
    const code = rawPath.charCodeAt(i);
    if (code === PERCENT || (code === DOT && rawPath.charCodeAt(i - 1) === SLASH)) {
      needsWork = true;
      break;
    }
    if (isForbiddenRaw(code)) return rejectRaw(code);
  }
  if (!needsWork) return { ok: true, path: rawPath, query };

  const decoded = decodeUnreserved(rawPath);
  if (typeof decoded !== 'string') return decoded;
  const resolved = removeDotSegments(decoded);
  if (typeof resolved !== 'string') return resolved;
  return { ok: true, path: resolved, query };
}

function rejectRaw(code: number): NormalizedPath {
  if (code === 0x5c) return reject('the request path contains a backslash');
  if (code === 0x23) return reject('the request path contains a "#"');
  if (code < 0x20 || code === 0x7f) return reject('the request path contains a control character');
  if (code >= 0x80) return reject('the request path contains a non-ASCII character that is not percent-encoded');
  return reject(`the request path contains "${String.fromCharCode(code)}", which must be percent-encoded`);
}

/**
 * Decodes escapes of unreserved characters (so `%2e` becomes a real dot before dot segments are
 * resolved), upper-cases every other escape, and checks that escaped bytes form valid UTF-8:
 * overlong forms such as `%C0%AE` are a classic way to smuggle a dot past a filter.
 */
function decodeUnreserved(path: string): string | NormalizedPath {
  let out = '';
  // UTF-8 state: continuation bytes still expected, and the allowed range of the next one.
  let pending = 0;
  let low = 0x80;
  let high = 0xbf;
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code !== PERCENT) {
      if (pending > 0) return reject('the request path contains an incomplete percent-encoded UTF-8 sequence');
      if (isForbiddenRaw(code)) return rejectRaw(code);
      out += path[i];
      continue;
    }
    const hi = hexValue(path.charCodeAt(i + 1));
    const lo = hexValue(path.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return reject('the request path contains an invalid percent-encoding ("%" must be followed by two hex digits)');
    const byte = hi * 16 + lo;
    i += 2;
    if (pending > 0) {
      if (byte < low || byte > high) return reject('the request path contains percent-encoded bytes that are not valid UTF-8');
      pending--;
      low = 0x80;
      high = 0xbf;
    } else if (byte >= 0x80) {
      const lead = utf8Lead(byte);
      if (lead === null) return reject('the request path contains percent-encoded bytes that are not valid UTF-8');
      [pending, low, high] = lead;
    } else if (byte === SLASH || byte === 0x5c) {
      return reject('the request path contains an encoded slash or backslash (%2F, %5C)');
    } else if (byte < 0x20 || byte === 0x7f) {
      return reject('the request path contains an encoded control character');
    } else if (isUnreserved(byte)) {
      out += String.fromCharCode(byte);
      continue;
    }
    out += '%' + HEX[hi] + HEX[lo];
  }
  if (pending > 0) return reject('the request path contains an incomplete percent-encoded UTF-8 sequence');
  return out;
}

/** For a UTF-8 lead byte: [continuation bytes, min and max of the first continuation] (RFC 3629 table). */
function utf8Lead(byte: number): [number, number, number] | null {
  if (byte >= 0xc2 && byte <= 0xdf) return [1, 0x80, 0xbf];
  if (byte === 0xe0) return [2, 0xa0, 0xbf];
  if (byte === 0xed) return [2, 0x80, 0x9f];
  if (byte >= 0xe1 && byte <= 0xef) return [2, 0x80, 0xbf];
  if (byte === 0xf0) return [3, 0x90, 0xbf];
  if (byte >= 0xf1 && byte <= 0xf3) return [3, 0x80, 0xbf];
  if (byte === 0xf4) return [3, 0x80, 0x8f];
  return null;
}

/**
 * RFC 3986 §5.2.4 on an absolute path, never climbing above the root. Empty segments (`//`)
 * are kept: they are forwarded as they are and matched as they are.
 */
function removeDotSegments(path: string): string | NormalizedPath {
  const segments = path.split('/');
  const out: string[] = [''];
  const last = segments.length - 1;
  for (let i = 1; i <= last; i++) {
    const segment = segments[i] as string;
    if (segment === '..') {
      if (out.length > 1) out.pop();
      if (i === last) out.push('');
    } else if (segment === '.') {
      if (i === last) out.push('');
    } else {
      // Servlet containers read `..;x` as `..`; an upstream resolving what we did not is a bypass.
      const semicolon = segment.indexOf(';');
      const head = semicolon === -1 ? segment : segment.slice(0, semicolon);
      if (head === '.' || head === '..') return reject('the request path contains a dot segment with parameters ("..;")');
      out.push(segment);
    }
  }
  return out.join('/');
}
