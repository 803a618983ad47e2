import { escapeHtml } from './escape.ts';

/**
 * The one page kit every page Gatehouse answers with itself is drawn with: the proxy's error
 * pages, the sign-in pages and the built-in provider's forms. Self-contained (inline CSS, no
 * scripts, no external assets), escaped by construction, and the same frame everywhere so the
 * pages read as one product. Each page kind adds only its own CSS and content.
 */

/** Trusted markup: built by `html` from escaped parts only. */
export interface Html {
  readonly html: string;
}

/** A template tag: interpolated strings are escaped, `Html` values and lists of them are kept. */
export function html(strings: TemplateStringsArray, ...values: (string | Html | readonly Html[])[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    if (typeof value === 'string') out += escapeHtml(value);
    else if (Array.isArray(value)) out += value.map((part: Html) => part.html).join('');
    else out += (value as Html).html;
    out += strings[i + 1] ?? '';
  });
  return { html: out };
}

/** The house look: a card on a quiet background, light and dark. */
export const PAGE_CSS = `body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330}
main{max-width:34rem;margin:12vh auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.08)}
.brand{margin:0 0 1rem;font-weight:600;letter-spacing:.02em;color:#4a5568}
.status{display:inline-block;margin-right:.5rem;color:#6b7280}
h1{margin:0 0 .75rem;font-size:1.4rem}
.rid{margin-top:1.5rem;font-size:.85rem;color:#4b5563}
code{font:.85rem ui-monospace,SFMono-Regular,Menlo,monospace;background:#eef0f3;padding:.1rem .3rem;border-radius:4px}`;

/** The dark-scheme counterparts of PAGE_CSS, to go inside `@media (prefers-color-scheme:dark){…}`. */
export const PAGE_DARK_CSS = 'body{background:#14161b;color:#e6e8ec}main{background:#1d2027;box-shadow:none}.brand,.status,.rid{color:#a0a7b4}code{background:#2a2e37}';

/** Headers every HTML page carries: never cached, never sniffed, never framed, no script. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
});

export interface DocumentOptions {
  /** The `<title>`, before " · Gatehouse". */
  readonly title: string;
  /** The card's content, after the brand line. */
  readonly content: Html;
  /** Replaces the house style entirely (the provider's forms have their own). */
  readonly style?: string;
  /** CSS added after the house style, and its dark-scheme part. */
  readonly extraCss?: string;
  readonly extraDarkCss?: string;
  /** Reload the page after this many seconds (pages about an app that is starting). */
  readonly refreshSeconds?: number;
  /** Keep the page out of search engines. */
  readonly noIndex?: boolean;
}

export function renderDocument(options: DocumentOptions): string {
  const style = options.style ?? `${PAGE_CSS}\n${options.extraCss ?? ''}\n@media (prefers-color-scheme:dark){${PAGE_DARK_CSS}${options.extraDarkCss ?? ''}}`;
  const meta =
    (options.refreshSeconds === undefined ? '' : `<meta http-equiv="refresh" content="${options.refreshSeconds}">`) +
    (options.noIndex ? '<meta name="robots" content="noindex">' : '');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">${meta}
<title>${escapeHtml(options.title)} · Gatehouse</title>
<style>
${style}
</style></head>
<body><main role="main">
<p class="brand">Gatehouse</p>
${options.content.html}
</main></body></html>
`;
}

/** The page heading, with the status code in front for errors. */
export function heading(status: number, title: string): Html {
  return status >= 400 ? html`<h1><span class="status">${String(status)}</span>${title}</h1>` : html`<h1>${title}</h1>`;
}

/** The line users quote when they ask for help. */
export function requestIdLine(requestId: string): Html {
  return html`<p class="rid">Request ID: <code>${requestId}</code></p>`;
}

/**
 * JSON when the client asks for it more than for HTML: `Accept: application/json` yes,
 * a browser's `text/html,…,*\/*;q=0.8` no, a bare `*\/*` no (HTML is the default).
 */
export function prefersJson(accept: string | string[] | undefined): boolean {
  if (accept === undefined) return false;
  let json = -1;
  let htmlQ = -1;
  for (const line of Array.isArray(accept) ? accept : [accept]) {
    for (const range of line.split(',')) {
      const [type = '', ...params] = range.split(';');
      const media = type.trim().toLowerCase();
      let q = 1;
      for (const param of params) {
        const [key, value] = param.split('=');
        if (key?.trim().toLowerCase() === 'q') q = Number(value);
      }
      if (!Number.isFinite(q)) q = 0;
      if (media === 'application/json' || (media.startsWith('application/') && media.endsWith('+json'))) json = Math.max(json, q);
      else if (media === 'text/html') htmlQ = Math.max(htmlQ, q);
    }
  }
  return json > 0 && json > htmlQ;
}
