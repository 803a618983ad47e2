import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../../src/http/index.ts';
import { prefersJson, renderPage } from '../../../src/proxy/pages.ts';

describe('prefersJson', () => {
  it.each([
    [undefined, false],
    ['*/*', false],
    ['application/json', true],
    ['application/problem+json', true],
    ['application/json, text/plain, */*', true],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', false],
    ['text/html;q=0.5, application/json', true],
    ['text/html, application/json', false],
    ['application/json;q=0', false],
    [['text/plain', 'application/json'], true],
  ])('%j → %s', (accept, expected) => {
    expect(prefersJson(accept as string | string[] | undefined)).toBe(expected);
  });
});

describe('renderPage', () => {
  it('renders a small self-contained HTML page with the request id, escaped', () => {
    const page = renderPage('upstream_unavailable', { requestId: '<id>', accept: undefined, appName: 'A "b" & <c>', detail: "it's <here>" });
    expect(page.status).toBe(503);
    expect(page.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'retry-after': '5', 'cache-control': 'no-store' });
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).toContain('<html lang="en">');
    expect(page.body).toContain('Gatehouse');
    expect(page.body).toContain('&lt;id&gt;');
    expect(page.body).toContain('A &quot;b&quot; &amp; &lt;c&gt; is starting or unavailable');
    expect(page.body).toContain('it&#39;s &lt;here&gt;');
    expect(page.body).not.toMatch(/<script|src=|href=/);
  });

  it('renders JSON {error, status, message, requestId} when JSON is preferred', () => {
    const page = renderPage('bad_gateway', { requestId: 'r1', accept: 'application/json' });
    expect(page.status).toBe(502);
    expect(page.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(page.body)).toEqual({ error: 'bad_gateway', status: 502, message: 'The app is not responding', requestId: 'r1' });
  });

  it('escapes the five HTML special characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
