import { describe, expect, it } from 'vitest';
import { normalizeRequestPath } from '../../../src/routes/index.ts';

/** [raw request-target, expected path] */
const accepted: Array<[string, string]> = [
  ['/', '/'],
  ['/a/b', '/a/b'],
  ['/a/b/', '/a/b/'],
  ['/a/./b', '/a/b'],
  ['/a/../b', '/b'],
  ['/a/b/..', '/a/'],
  ['/a/b/.', '/a/b/'],
  ['/..', '/'],
  ['/.', '/'],
  ['/../..', '/'],
  ['/../a', '/a'],
  ['/a/../../b', '/b'],
  ['/%2e%2e', '/'],
  ['/%2E%2E/admin', '/admin'],
  ['/pub/%2e%2e/admin', '/admin'],
  ['/pub/.%2e/admin', '/admin'],
  ['/pub/%2e/admin', '/pub/admin'],
  ['/%2e', '/'],
  ['/a/..%2e', '/a/...'],
  ['/api../admin', '/api../admin'],
  ['/a.b/c..d', '/a.b/c..d'],
  ['/.well-known/x', '/.well-known/x'],
  ['/...', '/...'],
  ['/%41', '/A'],
  ['/%7e', '/~'],
  ['/%7E%5f%2D%2e%30', '/~_-.0'],
  ['/%3a', '/%3A'],
  ['/%3A', '/%3A'],
  ['/a%20b', '/a%20b'],
  ['/a%2bb', '/a%2Bb'],
  ['/a%2520', '/a%2520'],
  ['/%25', '/%25'],
  ['/%c3%a9', '/%C3%A9'],
  ['/%E2%82%AC', '/%E2%82%AC'],
  ['/%F0%9F%98%80', '/%F0%9F%98%80'],
  ['/%23', '/%23'],
  ['/%3f', '/%3F'],
  ['//admin', '//admin'],
  ['/a//b', '/a//b'],
  ['//a/../b', '//b'],
  ['/pub//../admin', '/pub/admin'],
  ['/admin;x=1', '/admin;x=1'],
  ['/pub;/../admin', '/admin'],
  ['/a:b@c!$&\'()*+,;=', '/a:b@c!$&\'()*+,;='],
  ['/a|b^c[d]', '/a|b^c[d]'],
];

/** [raw request-target, words the reason must contain] */
const rejected: Array<[string, string]> = [
  ['', 'start with "/"'],
  ['a/b', 'start with "/"'],
  ['*', 'start with "/"'],
  ['http://evil.example/x', 'start with "/"'],
  ['?x=1', 'start with "/"'],
  ['/a%2Fb', 'encoded slash'],
  ['/a%2fb', 'encoded slash'],
  ['/app%2F..%2Fadmin', 'encoded slash'],
  ['/pub/%2e%2e%2fadmin', 'encoded slash'],
  ['/a%5Cb', 'encoded slash'],
  ['/a%5cb', 'encoded slash'],
  ['/a\\b', 'backslash'],
  ['/..\\admin', 'backslash'],
  ['/%zz', 'invalid percent-encoding'],
  ['/%', 'invalid percent-encoding'],
  ['/%4', 'invalid percent-encoding'],
  ['/a%g1', 'invalid percent-encoding'],
  ['/%00', 'control character'],
  ['/%0a', 'control character'],
  ['/%7f', 'control character'],
  ['/a\u0000b', 'control character'],
  ['/a\nb', 'control character'],
  ['/a\tb', 'control character'],
  ['/a\u007fb', 'control character'],
  ['/a b', 'must be percent-encoded'],
  ['/a"b', 'must be percent-encoded'],
  ['/a<b>', 'must be percent-encoded'],
  ['/{x}', 'must be percent-encoded'],
  ['/a`b', 'must be percent-encoded'],
  ['/é', 'non-ASCII'],
  ['/#/../admin', '"#"'],
  ['/a#frag', '"#"'],
  ['/%c0%ae%c0%ae/admin', 'not valid UTF-8'],
  ['/%ff', 'not valid UTF-8'],
  ['/%c3', 'incomplete'],
  ['/%c3a', 'incomplete'],
  ['/%e2%82', 'incomplete'],
  ['/%ed%a0%80', 'not valid UTF-8'],
  ['/pub/..;/admin', '..;'],
  ['/pub/.;x/admin', '..;'],
  ['/a?x=1\u0000', 'query string'],
  ['/a?x#y', 'query string'],
];

describe('normalizeRequestPath', () => {
  it.each(accepted)('normalises %j to %j', (raw, path) => {
    expect(normalizeRequestPath(raw)).toEqual({ ok: true, path, query: '' });
  });

  it.each(rejected)('rejects %j (%s)', (raw, reasonPart) => {
    const result = normalizeRequestPath(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reasonPart);
  });

  it('splits the query off and keeps it verbatim, including its "?"', () => {
    expect(normalizeRequestPath('/a/../b?x=%2F..%2f&y=/../z')).toEqual({ ok: true, path: '/b', query: '?x=%2F..%2f&y=/../z' });
    expect(normalizeRequestPath('/a?')).toEqual({ ok: true, path: '/a', query: '?' });
    expect(normalizeRequestPath('/admin?x=/pub/')).toEqual({ ok: true, path: '/admin', query: '?x=/pub/' });
  });

  it('returns the very input string when nothing needs changing', () => {
    const raw = '/static/app.js';
    const result = normalizeRequestPath(raw);
    expect(result.ok && result.path).toBe(raw);
  });
});
