import { describe, expect, it } from 'vitest';
import { BUILTIN_ICONS, iconHtml } from '../../../src/auth/portal-icons.ts';

describe('portal icons from iap.icon', () => {
  it('draws a built-in name inline, whatever its case', () => {
    for (const name of Object.keys(BUILTIN_ICONS)) expect(iconHtml(name.toUpperCase())?.html).toMatch(/^<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="[-0-9A-Za-z .]+"\/><\/svg>$/);
  });

  it('shows an https URL or a base64 raster data: URL as an image, escaped', () => {
    expect(iconHtml('https://cdn.example/grafana.svg')?.html).toBe('<img class="icon" src="https://cdn.example/grafana.svg" alt="" referrerpolicy="no-referrer" loading="lazy">');
    expect(iconHtml('https://cdn.example/a.png?x="><script>')?.html).toBe('<img class="icon" src="https://cdn.example/a.png?x=%22%3E%3Cscript%3E" alt="" referrerpolicy="no-referrer" loading="lazy">');
    expect(iconHtml('data:image/png;base64,iVBORw0KGgo=')?.html).toBe('<img class="icon" src="data:image/png;base64,iVBORw0KGgo=" alt="">');
  });

  it.each([
    'javascript:alert(1)',
    ' JavaScript:alert(1)',
    'http://cdn.example/a.png',
    'https://user:pw@cdn.example/a.png',
    'data:image/svg+xml;base64,PHN2Zz48c2NyaXB0Pg==',
    'data:text/html,<script>alert(1)</script>',
    'wikijs',
    '"><script>alert(1)</script>',
    'toString',
    '__proto__',
  ])('shows no icon for %s', (value) => {
    expect(iconHtml(value)).toBeNull();
  });
});
