import { describe, expect, it } from 'vitest';
import type { Route } from '../../../src/routes/index.ts';
import { HSTS_VALUE, routeResponseHeaders } from '../../../src/proxy/response-headers.ts';

const route = (fields: Partial<Route>): Route => ({ responseHeaders: {}, hsts: false, fromScheme: 'https', ...fields }) as unknown as Route;

describe('routeResponseHeaders', () => {
  it('adds the HSTS preset on https routes only, one year for this host alone', () => {
    expect(HSTS_VALUE).toBe('max-age=31536000');
    expect(routeResponseHeaders(route({ hsts: true }))).toEqual({ 'strict-transport-security': HSTS_VALUE });
    expect(routeResponseHeaders(route({ hsts: true, fromScheme: 'http' }))).toEqual({});
    expect(routeResponseHeaders(route({ hsts: false }))).toEqual({});
  });

  it("keeps the labelled headers, lowercased as the app's response headers are, and answers the same object for the same route", () => {
    const r = route({ responseHeaders: { 'x-frame-options': 'DENY' }, hsts: true });
    expect(routeResponseHeaders(r)).toEqual({ 'x-frame-options': 'DENY', 'strict-transport-security': HSTS_VALUE });
    expect(routeResponseHeaders(r)).toBe(routeResponseHeaders(r));
    expect(Object.isFrozen(routeResponseHeaders(r))).toBe(true);
  });
});
