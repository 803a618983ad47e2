/**
 * Request-target normalisation. The string returned here is the one used for route matching,
 * for policy (bypass rules) and for forwarding, so all three always agree. The canonical form
 * is one that common servers cannot read as another path: where a server might normalise a
 * form (merge slashes, drop `;` parameters, trailing dots or spaces, decode twice, fold
 * Unicode), Gatehouse either does the same before matching or refuses the request. The rules,
 * and the servers they were checked against, are listed in SECURITY.md ("Request paths").
 */
export type NormalizedPath = { ok: true; path: string; query: string } | { ok: false; reason: string };

const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;
const SEMICOLON = 0x3b;

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

/** The value of each hex digit, by character code; -1 for every other ASCII character. */
const HEX_VALUE = new Int8Array(0x80).fill(-1);
for (const [value, digit] of [...HEX].entries()) {
  HEX_VALUE[digit.charCodeAt(0)] = value;
  HEX_VALUE[digit.toLowerCase().charCodeAt(0)] = value;
}

function hexValue(code: number): number {
  return code < 0x80 ? (HEX_VALUE[code] as number) : -1;
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
  if (QUERY_FORBIDDEN.test(query)) return reject('the query string contains a control character, a "#" or a non-ASCII character');

  if (!mayChange(rawPath)) return { ok: true, path: rawPath, query };

  const decoded = decodeUnreserved(rawPath);
  if (typeof decoded !== 'string') return decoded;
  const resolved = resolveSegments(decoded);
  if (typeof resolved !== 'string') return resolved;
  return { ok: true, path: resolved, query };
}

/** Printable ASCII only, and no `#` (the leading `?` is printable). */
const QUERY_FORBIDDEN = /[^\x20-\x7e]|#/;

/**
 * Anything but the characters that stand for themselves in a canonical path (so `%`, `;` and
 * every character refused raw), an empty segment, a segment ending in a dot (`.` and `..`
 * included), or `:$`.
 */
const MAY_CHANGE = /[^!$&'()*+,\-./0-9:=@A-Z[\]^_a-z|~]|\/\/|\.(?:\/|$)|:\$/;

/**
 * The fast path: a path in which none of MAY_CHANGE occurs is already canonical and is used
 * as it is. Anything else takes the full walk, which repeats every check.
 */
export function mayChange(path: string): boolean {
  return MAY_CHANGE.test(path);
}

function rejectRaw(code: number): NormalizedPath {
  if (code === 0x5c) return reject('the request path contains a backslash');
  if (code < 0x20 || code === 0x7f) return reject('the request path contains a control character');
  if (code >= 0x80) return reject('the request path contains a non-ASCII character that is not percent-encoded');
  return reject(`the request path contains "${String.fromCharCode(code)}", which must be percent-encoded`);
}

const NOT_UTF8 = 'the request path contains percent-encoded bytes that are not valid UTF-8';
const INCOMPLETE_UTF8 = 'the request path contains an incomplete percent-encoded UTF-8 sequence';

/**
 * Decodes escapes of unreserved characters (so `%2e` becomes a real dot before dot segments are
 * resolved), upper-cases every other escape, and checks that escaped bytes form valid UTF-8:
 * overlong forms such as `%C0%AE` or `%E0%80%AE` are a classic way to smuggle a dot past a
 * filter. Escapes a server would read as a separator (`%2F`, `%5C`, `%3B`) are refused.
 */
function decodeUnreserved(path: string): string | NormalizedPath {
  let out = '';
  // UTF-8 state: continuation bytes still expected, and the allowed range of the next one.
  let pending = 0;
  let low = 0x80;
  let high = 0xbf;
  // Only text with escaped non-ASCII can fold into another path: skip the Unicode check otherwise.
  let nonAscii = false;
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code !== PERCENT) {
      if (pending > 0) return reject(INCOMPLETE_UTF8);
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
      if (byte < low || byte > high) return reject(NOT_UTF8);
      pending--;
      low = 0x80;
      high = 0xbf;
    } else if (byte >= 0x80) {
      const lead = utf8Lead(byte);
      if (lead === null) return reject(NOT_UTF8);
      [pending, low, high] = lead;
      nonAscii = true;
    } else if (byte === SLASH || byte === 0x5c) {
      return reject('the request path contains an encoded slash or backslash (%2F, %5C)');
    } else if (byte === SEMICOLON) {
      // Servers that decode before splitting off `;` parameters would read a parameter here.
      return reject('the request path contains an encoded semicolon (%3B)');
    } else if (byte < 0x20 || byte === 0x7f) {
      return reject('the request path contains an encoded control character');
    } else if (isUnreserved(byte)) {
      out += String.fromCharCode(byte);
      continue;
    }
    out += '%' + HEX[hi] + HEX[lo];
  }
  if (pending > 0) return reject(INCOMPLETE_UTF8);
  // A server or framework that decodes twice would read `%252e` as a dot.
  if (/%25[0-9A-Fa-f]{2}/.test(out)) return reject('the request path is percent-encoded twice (such as %252e)');
  return nonAscii ? checkUnicode(out) : out;
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
 * Some servers and frameworks fold Unicode before they look a path up: compatibility
 * normalisation (NFKC turns `／` into `/`, `．` into `.`, `ａｄｍｉｎ` into `admin`, NBSP into a
 * space) or case mapping into ASCII (`ı` upper-cases to `I`, `İ` lower-cases to `i`). A path
 * that such a server would read as another one is refused; every other character is kept.
 */
function checkUnicode(path: string): string | NormalizedPath {
  // Every escape left in `path` is valid (checked above), so this cannot throw.
  const text = decodeURIComponent(path);
  if (text.normalize('NFKC') !== text) {
    return reject('the request path contains a Unicode character that normalisation changes (a fullwidth letter, a ligature, a decomposed accent)');
  }
  for (const char of text) {
    if (char.charCodeAt(0) < 0x80) continue;
    const upper = char.toUpperCase();
    if (char.toLowerCase().charCodeAt(0) < 0x80 || (upper.length === 1 && upper.charCodeAt(0) < 0x80)) {
      return reject('the request path contains a non-ASCII character whose upper or lower case is an ASCII letter');
    }
  }
  return path;
}

const DOUBLE_DOT = '..';
const TRAILING_SPACE = '%20';
/** `name::$DATA`, `dir:$I30:$INDEX_ALLOCATION`: an NTFS stream, which Windows servers serve as the file. */
const NTFS_STREAM = /(?::|%3A)(?:\$|%24)/;

/**
 * RFC 3986 §5.2.4 on an absolute path, never climbing above the root, with empty segments
 * merged first (as nginx's merge_slashes, Python's http.server and many frameworks read them):
 * `//admin` is `/admin`. A trailing `/` is kept, since it is part of what the app sees.
 * Each remaining segment is then checked for forms other servers read as another segment.
 */
function resolveSegments(path: string): string | NormalizedPath {
  const segments = path.split('/');
  const out: string[] = [];
  for (const segment of segments) {
    if (segment === DOUBLE_DOT) out.pop();
    else if (segment !== '.' && segment !== '') out.push(segment);
  }
  for (const [i, segment] of out.entries()) {
    const problem = segmentProblem(segment, i === out.length - 1);
    if (problem !== null) return reject(problem);
  }
  // `..`, `.` and an empty segment leave a directory: at the end, that is a trailing slash.
  const last = segments[segments.length - 1];
  const directory = last === '' || last === '.' || last === DOUBLE_DOT;
  return directory && out.length > 0 ? `/${out.join('/')}/` : `/${out.join('/')}`;
}

/** Why one segment of the resolved path could be read as another segment, or null. */
function segmentProblem(segment: string, isLast: boolean): string | null {
  const semicolon = segment.indexOf(';');
  const head = semicolon === -1 ? segment : segment.slice(0, semicolon);
  // Servlet containers read `..;x` as `..`; an upstream resolving what we did not is a bypass.
  if (head === '.' || head === DOUBLE_DOT) return 'the request path contains a dot segment with parameters ("..;")';
  // Servlet containers drop `;…` from every segment (so `/;/admin` is `/admin`, and `/admin;x/y`
  // is `/admin/y`), others keep it: only the last segment may carry parameters.
  if (semicolon !== -1 && !isLast) return 'the request path has ";" parameters before its last segment, which servers read in different ways';
  // Windows drops trailing dots and spaces, so `/admin.` and `/admin%20` would be `/admin` there.
  if (head.charCodeAt(head.length - 1) === DOT || head.endsWith(TRAILING_SPACE)) {
    return 'a segment of the request path ends with a dot or a space, which some servers drop';
  }
  if (NTFS_STREAM.test(segment)) return 'the request path names a Windows file stream (":$")';
  return null;
}
