import { describe, expect, it } from 'vitest';
import { normalizeRequestPath } from '../../../src/routes/index.ts';
import { mayChange } from '../../../src/routes/path.ts';

/**
 * One table per defence, so that removing any one of them fails a test of its own. Each row is
 * [raw request-target, expected canonical path] or [raw request-target, words the reason must contain].
 */
type Accepted = Array<[string, string]>;
type Rejected = Array<[string, string]>;

const DEFENCES: Record<string, { accepted: Accepted; rejected: Rejected }> = {
  'the request-target is an absolute path': {
    accepted: [['/', '/'], ['/a/b', '/a/b'], ['/a/b/', '/a/b/']],
    rejected: [['', 'start with "/"'], ['a/b', 'start with "/"'], ['*', 'start with "/"'], ['http://evil.example/x', 'start with "/"'], ['?x=1', 'start with "/"']],
  },
  'dot segments are resolved, never above the root': {
    accepted: [
      ['/a/./b', '/a/b'], ['/a/../b', '/b'], ['/a/b/..', '/a/'], ['/a/b/.', '/a/b/'], ['/..', '/'], ['/.', '/'], ['/../..', '/'],
      ['/../a', '/a'], ['/a/../../b', '/b'], ['/a/b/../..', '/'], ['/a/b/../../', '/'], ['/.well-known/x', '/.well-known/x'],
      ['/a.b/c..d', '/a.b/c..d'], ['/.a', '/.a'], ['/..a/b', '/..a/b'],
    ],
    rejected: [],
  },
  'encoded dots are dot segments': {
    accepted: [['/%2e%2e', '/'], ['/%2E%2E/admin', '/admin'], ['/pub/%2e%2e/admin', '/admin'], ['/pub/.%2e/admin', '/admin'], ['/pub/%2e/admin', '/pub/admin'], ['/%2e', '/']],
    rejected: [],
  },
  'empty segments are merged (nginx merge_slashes)': {
    accepted: [
      ['//admin', '/admin'], ['/a//b', '/a/b'], ['///a///b///', '/a/b/'], ['//', '/'], ['//a/../b', '/b'], ['/pub//../admin', '/admin'],
      ['/admin//secret.txt', '/admin/secret.txt'], ['/a/.//b', '/a/b'], ['/a/b//', '/a/b/'],
    ],
    rejected: [],
  },
  '";" parameters only in the last segment': {
    accepted: [['/admin;x=1', '/admin;x=1'], ['/a/b;jsessionid=1', '/a/b;jsessionid=1'], ['/a/;jsessionid=1', '/a/;jsessionid=1'], ['/;x', '/;x'], ['/admin;x/', '/admin;x/'], ['/;/', '/;/'], ['/pub;/../admin', '/admin'], ['/a:b@c!$&\'()*+,;=', '/a:b@c!$&\'()*+,;=']],
    rejected: [
      ['/;/admin', 'parameters before its last segment'], ['/;x=1/admin/secret.txt', 'parameters before its last segment'],
      ['/admin;x/secret.txt', 'parameters before its last segment'], ['//;/admin', 'parameters before its last segment'],
      ['/pub/..;/admin', '..;'], ['/pub/.;x/admin', '..;'], ['/a/..;', '..;'], ['/a/.;', '..;'],
      ['/a%3bb', 'encoded semicolon'], ['/admin%3B/x', 'encoded semicolon'],
    ],
  },
  'no segment ends with a dot or a space (Windows drops them)': {
    accepted: [['/a%20b', '/a%20b'], ['/%20a', '/%20a'], ['/a.b', '/a.b'], ['/a./../b', '/b']],
    rejected: [
      ['/admin.', 'ends with a dot or a space'], ['/admin./secret.txt', 'ends with a dot or a space'], ['/admin%2e', 'ends with a dot or a space'],
      ['/admin%20', 'ends with a dot or a space'], ['/admin%20/secret.txt', 'ends with a dot or a space'], ['/admin.;x', 'ends with a dot or a space'],
      ['/admin%20;x', 'ends with a dot or a space'], ['/...', 'ends with a dot or a space'], ['/api../admin', 'ends with a dot or a space'],
      ['/a/..%2e', 'ends with a dot or a space'], ['/admin.%20', 'ends with a dot or a space'], ['/%20', 'ends with a dot or a space'],
    ],
  },
  'no Windows file streams': {
    accepted: [['/a:b', '/a:b'], ['/a$b', '/a$b'], ['/a:/$b', '/a:/$b'], ['/$:', '/$:']],
    rejected: [
      ['/admin::$DATA', 'file stream'], ['/admin:$I30:$INDEX_ALLOCATION/secret.txt', 'file stream'], ['/admin%3A%24DATA', 'file stream'],
      ['/admin%3a$x', 'file stream'], ['/admin:%24x', 'file stream'],
    ],
  },
  'unreserved escapes are decoded, at every boundary of the unreserved set': {
    accepted: [
      ['/%41', '/A'], ['/%5A', '/Z'], ['/%5a', '/Z'], ['/%61', '/a'], ['/%7A', '/z'], ['/%7a', '/z'], ['/%30', '/0'], ['/%39', '/9'],
      ['/%2D', '/-'], ['/%5F', '/_'], ['/%7E', '/~'], ['/%7e', '/~'], ['/%7E%5f%2D%2e%30', '/~_-.0'], ['/%2e%61', '/.a'],
    ],
    rejected: [],
  },
  'other escapes are kept, upper-cased, just outside each boundary': {
    accepted: [
      ['/%40', '/%40'], ['/%5B', '/%5B'], ['/%5b', '/%5B'], ['/%60', '/%60'], ['/%7B', '/%7B'], ['/%7b', '/%7B'], ['/%2C', '/%2C'],
      ['/%3A', '/%3A'], ['/%3a', '/%3A'], ['/%5E', '/%5E'], ['/%7D', '/%7D'], ['/%2B', '/%2B'], ['/a%2bb', '/a%2Bb'], ['/%25', '/%25'],
      ['/%25x', '/%25x'], ['/%23', '/%23'], ['/%3f', '/%3F'], ['/%22', '/%22'], ['/%20x', '/%20x'],
    ],
    rejected: [],
  },
  'hex digits are read at every boundary': {
    accepted: [['/%4a', '/J'], ['/%4A', '/J'], ['/%4f', '/O'], ['/%4F', '/O'], ['/%6a', '/j'], ['/%6A', '/j'], ['/%46', '/F'], ['/%66', '/f'], ['/%3a%3A', '/%3A%3A']],
    rejected: [
      ['/%zz', 'invalid percent-encoding'], ['/%', 'invalid percent-encoding'], ['/%4', 'invalid percent-encoding'], ['/a%g1', 'invalid percent-encoding'],
      ['/%4g', 'invalid percent-encoding'], ['/%4G', 'invalid percent-encoding'], ['/%G4', 'invalid percent-encoding'], ['/%/4', 'invalid percent-encoding'],
      ['/%:4', 'invalid percent-encoding'], ['/%4:', 'invalid percent-encoding'], ['/%@4', 'invalid percent-encoding'], ['/%4@', 'invalid percent-encoding'],
      ['/%`4', 'invalid percent-encoding'], ['/%4`', 'invalid percent-encoding'], ['/%4/', 'invalid percent-encoding'], ['/%u002e', 'invalid percent-encoding'],
      ['/%\u0080A', 'invalid percent-encoding'], ['/%A\u0080', 'invalid percent-encoding'], ['/%\u0100A', 'invalid percent-encoding'], ['/%\u0130A', 'invalid percent-encoding'],
    ],
  },
  'encoded separators are refused': {
    accepted: [],
    rejected: [
      ['/a%2Fb', 'encoded slash'], ['/a%2fb', 'encoded slash'], ['/app%2F..%2Fadmin', 'encoded slash'], ['/pub/%2e%2e%2fadmin', 'encoded slash'],
      ['/a%5Cb', 'encoded slash'], ['/a%5cb', 'encoded slash'],
    ],
  },
  'double encoding is refused': {
    accepted: [['/%25Ax', '/%25Ax'], ['/%25a', '/%25a'], ['/%25%7a', '/%25z'], ['/%25G0', '/%25G0']],
    rejected: [
      ['/a%2520', 'encoded twice'], ['/%252e%252e/admin', 'encoded twice'], ['/%252F', 'encoded twice'], ['/%25%34%31', 'encoded twice'],
      ['/%25aa', 'encoded twice'], ['/%2500', 'encoded twice'], ['/%25Ff', 'encoded twice'],
    ],
  },
  'controls are refused, raw or encoded': {
    accepted: [],
    rejected: [
      ['/%00', 'control character'], ['/%0a', 'control character'], ['/%1f', 'control character'], ['/%1F', 'control character'], ['/%7f', 'control character'],
      ['/a\u0000b', 'control character'], ['/a\nb', 'control character'], ['/a\tb', 'control character'], ['/a\u007fb', 'control character'],
    ],
  },
  'characters a browser encodes are refused raw': {
    accepted: [['/a|b^c[d]', '/a|b^c[d]'], ['/~', '/~'], ['/!', '/!']],
    rejected: [
      ['/a b', 'must be percent-encoded'], ['/a"b', 'must be percent-encoded'], ['/a<b', 'must be percent-encoded'], ['/a>b', 'must be percent-encoded'],
      ['/{x', 'must be percent-encoded'], ['/x}', 'must be percent-encoded'], ['/a`b', 'must be percent-encoded'], ['/é', 'non-ASCII'], ['/a\u0080', 'non-ASCII'],
      ['/a\\b', 'backslash'], ['/..\\admin', 'backslash'], ['/#/../admin', '"#"'], ['/a#frag', '"#"'],
      ['/a.b/ x', 'must be percent-encoded'], ['/a:b/c\\', 'backslash'],
    ],
  },
  'percent-encoded bytes are valid UTF-8 (no overlong forms, surrogates, invalid leads, broken sequences)': {
    accepted: [
      ['/%c3%a9', '/%C3%A9'], ['/%C2%80', '/%C2%80'], ['/%DF%BF', '/%DF%BF'], ['/%E0%A0%80', '/%E0%A0%80'], ['/%E2%82%AC', '/%E2%82%AC'],
      ['/%ED%9F%BF', '/%ED%9F%BF'], ['/%EE%80%80', '/%EE%80%80'], ['/%EF%BF%BD', '/%EF%BF%BD'], ['/%F0%90%80%80', '/%F0%90%80%80'],
      ['/%F0%9F%98%80', '/%F0%9F%98%80'], ['/%F3%BF%BF%BF', '/%F3%BF%BF%BF'], ['/%F4%8F%BF%BF', '/%F4%8F%BF%BF'], ['/%F1%80%80%80', '/%F1%80%80%80'],
      ['/%E1%80%80', '/%E1%80%80'], ['/%EC%80%80', '/%EC%80%80'], ['/%E1%BF%BF', '/%E1%BF%BF'], ['/%ED%80%80', '/%ED%80%80'], ['/%F0%BF%BF%BF', '/%F0%BF%BF%BF'],
      ['/%F4%80%80%80', '/%F4%80%80%80'], ['/%F2%80%80%80', '/%F2%80%80%80'],
    ],
    rejected: [
      // Overlong encodings of "." and "/".
      ['/%c0%ae%c0%ae/admin', 'not valid UTF-8'], ['/%C0%AF', 'not valid UTF-8'], ['/%C1%BF', 'not valid UTF-8'], ['/%E0%80%AE', 'not valid UTF-8'],
      ['/%E0%9F%BF', 'not valid UTF-8'], ['/%F0%80%80%AE', 'not valid UTF-8'], ['/%F0%8F%BF%BF', 'not valid UTF-8'],
      // Surrogates and code points above U+10FFFF.
      ['/%ed%a0%80', 'not valid UTF-8'], ['/%ED%BF%BF', 'not valid UTF-8'], ['/%F4%90%80%80', 'not valid UTF-8'],
      // Invalid lead bytes: continuation bytes alone, and bytes that never start a sequence.
      ['/%80', 'not valid UTF-8'], ['/%BF', 'not valid UTF-8'], ['/%C0', 'not valid UTF-8'], ['/%C1', 'not valid UTF-8'], ['/%F5%80%80%80', 'not valid UTF-8'],
      ['/%F8%88%80%80%80', 'not valid UTF-8'], ['/%FE', 'not valid UTF-8'], ['/%ff', 'not valid UTF-8'],
      // Broken sequences: a continuation out of range, missing or cut by a raw character.
      ['/%C3%28', 'not valid UTF-8'], ['/%C3%C3', 'not valid UTF-8'], ['/%E2%28%A1', 'not valid UTF-8'], ['/%E2%82%28', 'not valid UTF-8'],
      ['/%E1%7F%80', 'not valid UTF-8'], ['/%E1%C0%80', 'not valid UTF-8'], ['/%F1%80%80%C0', 'not valid UTF-8'],
      ['/%c3', 'incomplete'], ['/%c3a', 'incomplete'], ['/%C3a%A9', 'incomplete'], ['/%E2%82a%AC', 'incomplete'], ['/%E2/%82%AC', 'incomplete'], ['/%e2%82', 'incomplete'], ['/%e2%82/x', 'incomplete'], ['/%F0%9F%98', 'incomplete'], ['/%F0%9F%98a', 'incomplete'],
    ],
  },
  'Unicode that other servers fold into another path is refused': {
    accepted: [['/%C3%9F', '/%C3%9F'], ['/%C3%89', '/%C3%89'], ['/caf%C3%A9', '/caf%C3%A9'], ['/%E6%97%A5%E6%9C%AC', '/%E6%97%A5%E6%9C%AC']],
    rejected: [
      ['/%EF%BC%8Fadmin', 'normalisation'], // fullwidth solidus
      ['/%EF%BC%8E%EF%BC%8E/admin', 'normalisation'], // fullwidth full stops
      ['/%EF%BD%81dmin', 'normalisation'], // fullwidth a
      ['/admin%C2%A0', 'normalisation'], // no-break space
      ['/cafe%CC%81', 'normalisation'], // decomposed é
      ['/%EF%AC%81le', 'normalisation'], // ﬁ ligature
      ['/%E2%84%AA', 'normalisation'], // Kelvin sign (NFKC: K)
      ['/%C5%BF', 'normalisation'], // long s (NFKC: s)
      ['/adm%C4%B1n', 'ASCII letter'], // dotless ı upper-cases to I
      ['/%C4%B0', 'ASCII letter'], // İ lower-cases to i + dot
    ],
  },
};

describe('normalizeRequestPath', () => {
  for (const [defence, { accepted, rejected }] of Object.entries(DEFENCES)) {
    describe(defence, () => {
      if (accepted.length > 0) {
        it.each(accepted)('normalises %j to %j', (raw, path) => {
          expect(normalizeRequestPath(raw)).toEqual({ ok: true, path, query: '' });
        });
      }
      if (rejected.length > 0) {
        it.each(rejected)('rejects %j (%s)', (raw, reasonPart) => {
          const result = normalizeRequestPath(raw);
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.reason).toContain(reasonPart);
        });
      }
    });
  }

  it('splits the query off and keeps it verbatim, including its "?"', () => {
    expect(normalizeRequestPath('/a/../b?x=%2F..%2f&y=/../z')).toEqual({ ok: true, path: '/b', query: '?x=%2F..%2f&y=/../z' });
    expect(normalizeRequestPath('/a?')).toEqual({ ok: true, path: '/a', query: '?' });
    expect(normalizeRequestPath('/admin?x=/pub/')).toEqual({ ok: true, path: '/admin', query: '?x=/pub/' });
    expect(normalizeRequestPath('/a?x=%00&y=;z')).toEqual({ ok: true, path: '/a', query: '?x=%00&y=;z' });
    expect(normalizeRequestPath('/a?\u007f')).toMatchObject({ ok: false });
  });

  it.each([
    ['/a?x=1\u0000', 'query string'],
    ['/a?x\u001fy', 'query string'],
    ['/a?x#y', 'query string'],
    ['/a?é', 'query string'],
    ['/a??\u007f', 'query string'],
  ])('rejects the query of %j (%s)', (raw, reasonPart) => {
    const result = normalizeRequestPath(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reasonPart);
  });

  it('accepts every printable ASCII character in the query, including a first "?"', () => {
    let printable = '';
    for (let code = 0x20; code < 0x7f; code++) if (code !== 0x23) printable += String.fromCharCode(code);
    expect(normalizeRequestPath(`/a?${printable}`)).toEqual({ ok: true, path: '/a', query: `?${printable}` });
    expect(normalizeRequestPath('/a?\u0020')).toEqual({ ok: true, path: '/a', query: '?\u0020' });
  });

  describe('the fast path (mayChange): a path is used as it is only when it is already canonical', () => {
    it.each([
      '/', '/static/app.js', '/a.b/c', '/.well-known/x', '/a:b/$c', '/a.b.c', '/a/b/', '/:', '/$',
      // Every character that stands for itself, at once (so removing any one from the set fails).
      "/!$&'()*+,-.=@[]^_|~:/09AZaz/ok",
    ])('%j takes the fast path', (raw) => {
      expect(mayChange(raw)).toBe(false);
      expect(normalizeRequestPath(raw)).toEqual({ ok: true, path: raw, query: '' });
    });

    it.each([
      '//x', '/a//b', '/a/./b', '/a/../b', '/a/.', '/a/..', '/a.', '/a./b', '/%41', '/a;b', '/a:$b', '/a b', '/a"b', '/a#b', '/a<b', '/a>b',
      '/a\\b', '/a`b', '/a{b', '/a}b', '/é', '/a\u007f', '/a\u0000', '/a\u001f', '/a\u0080', '/a?b',
    ])('%j takes the full walk', (raw) => {
      expect(mayChange(raw)).toBe(true);
    });
  });

  it('returns the very input string when nothing needs changing', () => {
    for (const raw of ['/static/app.js', '/a.b/c', '/a:b/$c', '/.well-known/openid-configuration', '/a/b/']) {
      const result = normalizeRequestPath(raw);
      expect(result.ok && result.path).toBe(raw);
    }
  });

  it('names the offending character when a raw one must be encoded', () => {
    expect(normalizeRequestPath('/a{b')).toEqual({ ok: false, reason: 'the request path contains "{", which must be percent-encoded' });
    expect(normalizeRequestPath('/a%41{b')).toEqual({ ok: false, reason: 'the request path contains "{", which must be percent-encoded' });
  });
});
