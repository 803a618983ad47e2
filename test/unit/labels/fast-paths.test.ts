import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortByCodeUnit } from '../../../src/util/sort-by-code-unit.ts';
import { parseFrom, parseOriginList } from '../../../src/labels/urls.ts';
import { plainHttpUrl } from '../../../src/labels/urls.ts';
import { listItemEnd, splitList, trimmedSlice } from '../../../src/labels/parsed.ts';
import { parsePolicyEntry } from '../../../src/labels/policy-entries.ts';
import { isSecretValue, parseBySchema, parsers, VALUE_SCHEMAS } from '../../../src/labels/values.ts';

/**
 * The translator reads the common, well-formed label values with plain checks and leaves the
 * rest to the parsers of record (the WHATWG URL parser, the zod schemas, the Unicode domain
 * test). Labels are the trust boundary, so each quick check is held here to the answer of the
 * parser it stands in for, on hostile text as well as on the everyday forms.
 */

const RUNS = 4000;

/** Text with the characters that make URLs and addresses odd: case, IDNA, dots, percent, userinfo, ports, white space. */
const odd = fc.constantFrom(
  ...'aAzZ09-._~:/?#[]@!$&\'()*+,;=%\\ \t\n',
  '\u00e9', '\u00df', '\u0130', '\u212a', '\uff0e', '\u3002', '\u00a0', '\u2028', '\ufeff', '\u017f',
  'xn--', 'XN--', '0x', '..', '%2e', '%41', '127.0.0.1', '[::1]', ':8080', ':443', ':99999', ':65536', ':0', ':', '@', 'user:pw@', 's', 'S',
);
const oddText = (maxLength: number) => fc.array(odd, { maxLength }).map((parts) => parts.join(''));
const label = fc.stringMatching(/^[a-zA-Z0-9-]{0,12}$/);
const hostLike = fc.oneof(
  fc.array(fc.oneof(label, label, oddText(3)), { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.')),
  // Near the plain form, so that it is reached often and its edges (hyphens, digits, xn--) are tried.
  fc.array(fc.stringMatching(/^(xn--)?[a-z0-9][a-z0-9-]{0,8}$/), { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.')),
  fc.array(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/), { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.')),
  fc.array(fc.stringMatching(/^[a-z0-9-]{1,70}$/), { minLength: 1, maxLength: 3 }).map((labels) => labels.join('.')),
);
const nearPlainHost = fc.array(fc.oneof(fc.stringMatching(/^(xn--)?[a-z0-9][a-z0-9-]{0,8}$/), fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/)), { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'));
const urlLike = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom('https://', 'http://'), nearPlainHost, fc.constantFrom('', '/', ':1', ':80', ':8080/', ':65535', ':65536', ':00080', ':', '.', '/x'))
      .map(([scheme, host, tail]) => scheme + host + tail),
  },
  fc.tuple(
    fc.constantFrom('https://', 'http://', 'HTTPS://', 'Http://', 'https:', 'https:/', 'https:///', 'https:\\\\', ' https://', 'ftp://', ''),
    hostLike,
    fc.constantFrom('', '', '/', '.', './', ':80', ':8080/', ':65535', ':65536', ':00080', ':', ':8a', '/x', '?', '#', '//', ' ', '\t'),
  ).map(([scheme, host, tail]) => scheme + host + tail),
  oddText(16),
  fc.string({ maxLength: 24 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }).map((text) => `https://${text}`),
);

describe('plain from URLs, read without the URL parser', () => {
  it('agree with the WHATWG URL parser on every text they accept', () => {
    let accepted = 0;
    fc.assert(
      fc.property(urlLike, (text) => {
        const plain = plainHttpUrl(text);
        if (plain === null) return;
        accepted++;
        const url = new URL(text);
        expect(url.protocol).toBe(`${plain.scheme}:`);
        expect(url.hostname).toBe(plain.host);
        expect(url.pathname).toBe('/');
        expect([url.username, url.password, url.search, url.hash]).toEqual(['', '', '', '']);
        expect(plain.host.endsWith('.')).toBe(false);
      }),
      { numRuns: RUNS },
    );
    // The generators must reach the plain form often enough for the check to mean something.
    expect(accepted).toBeGreaterThan(RUNS / 10);
  });

  it.each([
    ['https://app.example.com', 'app.example.com'],
    ['http://app-1.bench.test:8080/', 'app-1.bench.test'],
    ['https://localhost', 'localhost'],
  ])('take %s', (text, host) => {
    expect(plainHttpUrl(text)?.host).toBe(host);
  });

  // Each of these means something else to the URL parser (or nothing), so it must be left to it.
  it.each([
    'https://App.example.com',
    'HTTPS://app.example.com',
    'https://app.example.com.',
    'https://0x7f.1',
    'https://2130706433',
    'https://app.123',
    'https://xn--nxasmq6b.example',
    'https://a.xn--p1ai',
    'https://user@app.example.com',
    'https://user:pw@app.example.com',
    'https://app.example.com?x',
    'https://app.example.com#x',
    'https://app.example.com/path',
    'https://app.example.com:99999',
    'https://app.example.com:',
    'https://-app.example.com',
    'https://app-.example.com',
    'https://app..example.com',
    'https://app_1.example.com',
    'https://app%2eexample.com',
    'https:\\\\app.example.com',
    'https://app.example.com\\',
    'https://ａpp.example.com',
    'https://app\u3002example.com',
    'https://*.example.com',
    ' https://app.example.com',
  ])('leave %s to the URL parser', (text) => {
    expect(plainHttpUrl(text)).toBeNull();
  });

  it('leave parseFrom and parseOriginList answering as the URL parser does on the hostile forms', () => {
    expect(parseFrom('https://0x7f.1')).toEqual({ ok: true, value: { hosts: ['127.0.0.1'], scheme: 'https' } });
    expect(parseFrom('https://App.Example.com.')).toEqual({ ok: true, value: { hosts: ['app.example.com'], scheme: 'https' } });
    expect(parseFrom('https://user@app.example.com')).toEqual({ ok: false, problem: 'user info (user@) is not allowed' });
    expect(parseFrom('https://app.example.com, http://b.example.com')).toEqual({ ok: false, problem: 'all from URLs of a route must use the same scheme' });
    expect(parseFrom('https://a.example.com:99999')).toEqual({ ok: false, problem: 'not a valid URL' });
    expect(parseOriginList('https://a.example.com:443, http://b.example.com:8080/')).toEqual({ ok: true, value: ['https://a.example.com', 'http://b.example.com:8080'] });
  });
});

describe('list splitting without intermediate arrays', () => {
  const listText = fc.oneof(oddText(20), fc.string({ maxLength: 30 }), fc.array(fc.oneof(urlLike, oddText(4)), { maxLength: 5 }).map((items) => items.join(',')));

  it('splitList gives what split, trim and filter give', () => {
    fc.assert(
      fc.property(listText, (text) => {
        expect(splitList(text)).toEqual(
          text
            .split(',')
            .map((item) => item.trim())
            .filter((item) => item !== ''),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('trimmedSlice gives what slice and trim give, Unicode white space included', () => {
    fc.assert(
      fc.property(listText, fc.nat(), fc.nat(), (text, a, b) => {
        const start = Math.min(a, b) % (text.length + 1);
        const end = Math.max(start, Math.max(a, b) % (text.length + 1));
        expect(trimmedSlice(text, start, end)).toBe(text.slice(start, end).trim());
      }),
      { numRuns: RUNS },
    );
    expect(trimmedSlice(' \u00a0x\u2028 ', 0, 6)).toBe('x');
    expect(listItemEnd('a,b', 0)).toBe(1);
    expect(listItemEnd('a,b', 2)).toBe(3);
  });
});

describe('policy addresses, checked in place', () => {
  // The grammar of record, as it reads an address: the ASCII and the Unicode domain tests and the local part.
  const DOMAIN = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)*$/u;
  const LOCAL_PART = /^[^\s@,]+$/;
  function referenceAddress(item: string): unknown {
    const at = item.indexOf('@');
    if (at === -1 || item.indexOf('@', at + 1) !== -1) return null;
    const local = item.slice(0, at);
    const domain = item.slice(at + 1).toLowerCase();
    if (!DOMAIN.test(domain)) return null;
    if (local === '') return { kind: 'domain', domain };
    return LOCAL_PART.test(local) ? { kind: 'email', email: item.toLowerCase() } : null;
  }
  const part = fc.oneof(label, oddText(4), fc.string({ maxLength: 6 }), fc.string({ unit: 'grapheme', maxLength: 4 }));
  const address = fc.oneof(
    fc.tuple(part, fc.array(part, { minLength: 1, maxLength: 3 })).map(([local, labels]) => `${local}@${labels.join('.')}`),
    fc.tuple(fc.constantFrom('', 'alice', 'Bob.Smith+x', 'a b', 'ä', 'a,b'), hostLike).map(([local, domain]) => `${local}@${domain}`),
  );

  it('accept and read exactly the addresses the regular expressions do', () => {
    let accepted = 0;
    fc.assert(
      fc.property(address, (item) => {
        // `user:…@…` and the other prefixed forms are not addresses.
        fc.pre(!/^(group|user|provider|ip|claim):/.test(item));
        const expected = referenceAddress(item);
        if (expected !== null) accepted++;
        expect(parsePolicyEntry(item)).toEqual(expected);
      }),
      { numRuns: RUNS },
    );
    expect(accepted).toBeGreaterThan(RUNS / 10);
  });

  it.each([
    ['@Example.COM', { kind: 'domain', domain: 'example.com' }],
    ['@exämple.com', { kind: 'domain', domain: 'exämple.com' }],
    ['alice@\u212aelvin.example', { kind: 'email', email: 'alice@kelvin.example' }],
    ['Ünïcode@example.com', { kind: 'email', email: 'ünïcode@example.com' }],
    ['a\u00a0b@example.com', null],
    ['a\tb@example.com', null],
    ['@-x.example', null],
    ['@x-.example', null],
    ['@a..b', null],
    ['@', null],
  ])('%s', (item, expected) => {
    expect(parsePolicyEntry(item)).toEqual(expected);
  });
});

describe('value parsers with a fast check before their schema', () => {
  const valueText = fc.oneof(
    fc.constantFrom('8080', ' 8080 ', '08080', '0', '1', '65535', '65536', '99999', '+80', '80.0', '１２', '1e3', '', ' '),
    fc.stringMatching(/^\s?[0-9]{0,6}\s?$/),
    fc.constantFrom('http', 'HTTPS', ' https ', 'jwt', 'JWT', 'proxy', 'forward_auth', 'round_robin', 'docker', 'off', '\u212a', 'h\u0130'),
    fc.constantFrom('Wiki', ' Wiki ', 'a\tb', 'x'.repeat(1000), ` ${'x'.repeat(1000)} `, 'x'.repeat(1001), 'héllo', '\u0000', '\u007f', '\u2028x'),
    fc.constantFrom('proxy', '-net', 'net.work_1', ' my-net ', 'ä'),
    oddText(8),
    fc.string({ maxLength: 12 }),
  );
  const choices = [
    ['http', 'https'],
    ['headers', 'jwt', 'none'],
    ['round_robin', 'least_request'],
  ] as const;

  it('give the value or the problem their schema gives', () => {
    fc.assert(
      fc.property(valueText, (raw) => {
        expect(parsers.port(raw)).toEqual(parseBySchema(VALUE_SCHEMAS.port, raw));
        expect(parsers.text(raw)).toEqual(parseBySchema(VALUE_SCHEMAS.text, raw));
        expect(parsers.network(raw)).toEqual(parseBySchema(VALUE_SCHEMAS.network, raw));
        for (const values of choices) expect(parsers.oneOf(values)(raw)).toEqual(parseBySchema(VALUE_SCHEMAS.oneOf(values), raw));
      }),
      { numRuns: RUNS },
    );
  });

  it('isSecretValue answers as trimming and lowercasing would', () => {
    const text = fc.oneof(oddText(6), fc.constantFrom('secret:x', ' SECRET:x', '\u00a0secret:x', '\ufeffSecret:y', '\u2028secret:', 'sec', 'secrets:x', '\u017fecret:x'), fc.string({ maxLength: 10 }));
    fc.assert(
      fc.property(text, (raw) => {
        expect(isSecretValue(raw)).toBe(raw.trimStart().toLowerCase().startsWith('secret:'));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('label names, sorted in place', () => {
  it('in the order Array.prototype.sort gives strings', () => {
    const name = fc.oneof(fc.constantFrom('iap.from', 'iap.allow', 'iap.port', 'iap.admin.from', 'iap.a', 'iap.B', 'iap.é', 'iap.\u{1f600}', 'iap'), fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(fc.array(name, { maxLength: 24 }), (names) => {
        const mine = [...names];
        sortByCodeUnit(mine);
        expect(mine).toEqual([...names].sort());
      }),
      { numRuns: RUNS },
    );
  });
});
