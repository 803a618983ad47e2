import { describe, expect, it } from 'vitest';
import { buildRouteTable, matchRoute, normalizeHost } from '../../../src/routes/index.ts';
import { containerSpec, inProject } from './fixtures.ts';

const specs = [
  containerSpec({ name: 'root', hosts: ['app.example', 'alias.example'], path: '/' }),
  containerSpec({ name: 'admin', hosts: ['app.example'], path: '/admin' }),
  containerSpec({ name: 'admin-api', hosts: ['app.example'], path: '/admin/api' }),
  containerSpec({ name: 'docs', hosts: ['docs.example'], path: '/docs/' }),
  containerSpec({ name: 'v6', hosts: ['[::1]'], path: '/' }),
];
const table = buildRouteTable(specs, [], inProject('app', specs));

function matchedName(host: string, path: string): string | undefined {
  const route = matchRoute(table, host, path);
  const source = route?.sources[0];
  return source?.kind === 'container' ? source.containerName : undefined;
}

describe('matchRoute', () => {
  it.each([
    ['/admin', 'admin'],
    ['/admin/', 'admin'],
    ['/admin/x', 'admin'],
    ['/admin/api', 'admin-api'],
    ['/admin/api/v1', 'admin-api'],
    ['/admin/apis', 'admin'],
    ['/other/admin', 'root'],
    ['/x/admin/api', 'root'],
    ['/administrator', 'root'],
    ['/admin;x=1', 'admin'],
    ['/admin/api;jsessionid=1', 'admin-api'],
    ['/admin;/api', 'admin'],
    ['/', 'root'],
    ['/anything/else', 'root'],
    ['//admin', 'root'],
  ])('on app.example sends %s to %s', (path, name) => {
    expect(matchedName('app.example', path)).toBe(name);
  });

  it.each([
    ['/ADMIN', 'admin'],
    ['/Admin/x', 'admin'],
    ['/aDMIN/API/v1', 'admin-api'],
    ['/ADMIN;x=1', 'admin'],
    ['/ADMINISTRATOR', 'root'],
    ['/@dmin', 'root'],
    ['/admin[', 'root'],
    ['/admim', 'root'],
  ])('compares ASCII letters without case (case-insensitive servers read %s as /admin): %s → %s', (path, name) => {
    expect(matchedName('app.example', path)).toBe(name);
  });

  it('folds only the letters A-Z: the neighbours of each end stay distinct', () => {
    const edgeSpecs = [
      containerSpec({ name: 'root', hosts: ['e.example'], path: '/' }),
      containerSpec({ name: 'az', hosts: ['e.example'], path: '/az' }),
      containerSpec({ name: 'brackets', hosts: ['e.example'], path: '/[`' }),
    ];
    const edges = buildRouteTable(edgeSpecs, [], inProject('edges', edgeSpecs));
    const name = (path: string) => {
      const source = matchRoute(edges, 'e.example', path)?.sources[0];
      return source?.kind === 'container' ? source.containerName : undefined;
    };
    expect(name('/AZ')).toBe('az');
    expect(name('/Az')).toBe('az');
    expect(name('/@Z')).toBe('root');
    expect(name('/a[')).toBe('root');
    expect(name('/{`')).toBe('root');
    expect(name('/[@')).toBe('root');
    expect(name('/[`')).toBe('brackets');
    expect(name('/{@')).toBe('root');
  });

  it('a path shorter than the prefix never matches it, whatever its case', () => {
    expect(matchedName('app.example', '/ADMI')).toBe('root');
    expect(matchedName('docs.example', '/DOC')).toBeUndefined();
    expect(matchedName('docs.example', '/DOCS/')).toBe('docs');
  });

  it('treats a route path ending in "/" as a prefix of everything below it only', () => {
    expect(matchedName('docs.example', '/docs/')).toBe('docs');
    expect(matchedName('docs.example', '/docs/a/b')).toBe('docs');
    expect(matchedName('docs.example', '/docs')).toBeUndefined();
    expect(matchedName('docs.example', '/')).toBeUndefined();
  });

  it('finds routes on every alias', () => {
    expect(matchedName('alias.example', '/admin')).toBe('root');
  });

  it('ignores host case, port and a trailing dot', () => {
    expect(matchedName('APP.Example', '/admin')).toBe('admin');
    expect(matchedName('app.example:8443', '/admin')).toBe('admin');
    expect(matchedName('app.example.', '/admin')).toBe('admin');
    expect(matchedName('App.Example.:443', '/admin')).toBe('admin');
    expect(matchedName('[::1]:8080', '/')).toBe('v6');
    expect(matchedName('[::1]', '/')).toBe('v6');
  });

  it('finds nothing on an unknown host', () => {
    expect(matchRoute(table, 'evil.example', '/')).toBeUndefined();
    expect(matchRoute(table, '', '/')).toBeUndefined();
    expect(matchRoute(table, 'app.example.evil', '/')).toBeUndefined();
  });
});

describe('normalizeHost', () => {
  it.each([
    ['Example.COM', 'example.com'],
    ['example.com:80', 'example.com'],
    ['example.com.', 'example.com'],
    ['example.com.:80', 'example.com'],
    ['[2001:DB8::1]:443', '[2001:db8::1]'],
    ['[::1]', '[::1]'],
    ['::1', '::1'],
    ['[::1', '[::1'],
    ['[]:80', '[]'],
    ['[::1]x', '[::1]'],
    ['', ''],
  ])('%j → %j', (raw, host) => {
    expect(normalizeHost(raw)).toBe(host);
  });
});
