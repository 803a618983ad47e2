import { describe, expect, it } from 'vitest';
import { parseBypassList, parsePathPrefix } from '../../../src/labels/index.ts';
import { normalizeRequestPath } from '../../../src/routes/path.ts';

describe('path prefixes', () => {
  const CASES: [string, string][] = [
    ['/', '/'],
    ['//', '/'],
    ['/admin', '/admin'],
    ['/admin/', '/admin'],
    ['/admin///', '/admin'],
    [' /admin ', '/admin'],
    ['/a/./b', '/a/b'],
    ['/a/b/..', '/a'],
    ['/../../etc', '/etc'],
    ['/%2e%2e/admin', '/admin'],
    ['/%2E/x', '/x'],
    ['/%7Euser', '/~user'],
    ['/a%20b', '/a%20b'],
    ['/a%3fb', '/a%3Fb'],
    ['/a//b', '/a/b'],
  ];
  it.each(CASES)('%j → %j', (raw, expected) => {
    expect(parsePathPrefix(raw)).toEqual({ ok: true, value: expected });
  });

  it('a prefix is normalised exactly like the request paths it is matched against', () => {
    for (const [raw] of CASES) {
      const prefix = parsePathPrefix(raw);
      const request = normalizeRequestPath(raw.trim());
      expect(prefix.ok && request.ok).toBe(true);
      if (prefix.ok && request.ok) expect(request.path.replace(/(.)\/+$/, '$1')).toBe(prefix.value);
    }
  });

  it.each(['', 'admin', '/a?x', '/a#x', '/a\\b', '/a%2Fb', '/a%5cb', '/a%', '/a%g1', '/a%00', '/é', '/a b', '/a"b', '/%C0%AE%C0%AE/', '/admin.', '/admin%20', '/;/admin', '/a%2520', '/%EF%BC%8Fadmin'])('%j is refused', (raw) => {
    expect(parsePathPrefix(raw).ok).toBe(false);
  });
});

describe('bypass rules', () => {
  it('keeps a trailing / as a prefix rule and upper-cases methods', () => {
    expect(parseBypassList('GET /healthz, /share/, delete /api/x/../y, /static//')).toEqual({
      ok: true,
      value: [
        { method: 'GET', path: '/healthz' },
        { method: null, path: '/share/' },
        { method: 'DELETE', path: '/api/y' },
        { method: null, path: '/static/' },
      ],
    });
  });

  it('an encoded # or ? stays encoded, so it can only match itself', () => {
    expect(parseBypassList('/public%23/x, /a%3f')).toEqual({ ok: true, value: [{ method: null, path: '/public%23/x' }, { method: null, path: '/a%3F' }] });
  });

  it('empty entries are ignored', () => {
    expect(parseBypassList(' , ,')).toEqual({ ok: true, value: [] });
  });

  it.each([
    ['/api?x=/health', 'query'],
    ['/p/%2F/x', '%2F'],
    ['GET  ', 'expected'],
    ['GET POST /x', 'expected [METHOD ]PATH'],
    ['/share/*', 'write the prefix as "/share/"'],
    ['healthz', 'starting with /'],
  ])('%j is refused (%s)', (raw, problem) => {
    const parsed = parseBypassList(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toContain(problem);
  });
});
