import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildRouteTable, isSegmentPrefix, matchRoute, normalizeRequestPath } from '../../../src/routes/index.ts';
import { containerSpec, inProject } from './fixtures.ts';

/** Pieces chosen to hit the interesting cases far more often than random text would. */
const piece = fc.constantFrom(
  '/', '//', '.', '..', '%2e', '%2E', '%2e%2e', '.%2e', '%2f', '%2F', '%5c', '%5C', '\\', '%', '%4', '%zz', '%41', '%7e', '%3a',
  '%00', '%c3%a9', '%c0%ae', ';', '..;', '?', '#', 'a', 'admin', 'ADMIN', 'pub', 'x y', '%25', '%252e', '\u0000', '\n', 'é', '~', '-',
  '%20', '%3b', '%3B', '%41', ':$', '%e0%80%ae', '%ef%bc%8f', 'x', 'y',
);
const rawTarget = fc.oneof(
  fc.array(piece, { maxLength: 12 }).map((parts) => '/' + parts.join('')),
  fc.array(piece, { maxLength: 12 }).map((parts) => parts.join('')),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => '/' + s),
);

describe('normalizeRequestPath properties', () => {
  it('never throws and always answers ok or a reason', () => {
    fc.assert(
      fc.property(rawTarget, (raw) => {
        const result = normalizeRequestPath(raw);
        if (result.ok) expect(result.path.startsWith('/')).toBe(true);
        else expect(result.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 5_000 },
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(rawTarget, (raw) => {
        const once = normalizeRequestPath(raw);
        if (!once.ok) return;
        expect(normalizeRequestPath(once.path + once.query)).toEqual(once);
      }),
      { numRuns: 5_000 },
    );
  });

  it('never leaves a dot segment or an encoded separator in the path', () => {
    fc.assert(
      fc.property(rawTarget, (raw) => {
        const result = normalizeRequestPath(raw);
        if (!result.ok) return;
        const segments = result.path.split('/');
        expect(segments).not.toContain('.');
        expect(segments).not.toContain('..');
        expect(result.path).not.toMatch(/\/\.\.?(\/|$)/);
        expect(result.path.toUpperCase()).not.toContain('%2F');
        expect(result.path.toUpperCase()).not.toContain('%5C');
        expect(result.path).not.toContain('\\');
        expect(result.path).not.toContain('?');
        expect(result.path).not.toMatch(/%(2e|2E|[0-9A-F][a-f]|[a-f][0-9A-F])/);
      }),
      { numRuns: 5_000 },
    );
  });

  it('leaves no form another server reads differently: empty segments, early parameters, trailing dots or spaces, double encoding', () => {
    fc.assert(
      fc.property(rawTarget, (raw) => {
        const result = normalizeRequestPath(raw);
        if (!result.ok) return;
        const segments = result.path.split('/').slice(1);
        // A trailing slash leaves one empty segment at the end; parameters may sit in the last named one.
        const lastNamed = segments.at(-1) === '' ? segments.length - 2 : segments.length - 1;
        segments.forEach((segment, i) => {
          if (i < segments.length - 1) expect(segment).not.toBe('');
          if (i < lastNamed) expect(segment).not.toContain(';');
          const head = segment.split(';')[0] as string;
          expect(head).not.toMatch(/(\.|%20)$/);
        });
        expect(result.path).not.toMatch(/%25[0-9A-Fa-f]{2}/);
        expect(result.path.toUpperCase()).not.toContain('%3B');
        expect(result.path).not.toMatch(/(:|%3A)(\$|%24)/);
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('matching a normalised path', () => {
  const prefixes = ['/', '/pub', '/pub/', '/Admin', '/admin/api', '/a', '/a/b', '/x;y'];
  const specs = prefixes.map((path, i) => containerSpec({ name: `c${i}`, hosts: ['app.example'], path }));
  const table = buildRouteTable(specs, [], inProject('app', specs));

  it('only ever picks a route whose path is a segment prefix, and the longest such', () => {
    fc.assert(
      fc.property(rawTarget, (raw) => {
        const result = normalizeRequestPath(raw);
        if (!result.ok) return;
        const route = matchRoute(table, 'app.example', result.path);
        const candidates = prefixes.filter((prefix) => {
          if (!result.path.toLowerCase().startsWith(prefix.toLowerCase())) return false;
          const next = result.path[prefix.length];
          return next === undefined || next === '/' || next === ';' || prefix.endsWith('/');
        });
        expect(route).toBeDefined();
        expect(isSegmentPrefix(route?.path ?? '', result.path)).toBe(true);
        expect(route?.path.length).toBe(Math.max(...candidates.map((p) => p.length)));
      }),
      { numRuns: 5_000 },
    );
  });
});
