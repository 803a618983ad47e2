/**
 * The look shared by every page Gatehouse answers with itself (error pages, sign-in host and
 * /.iap/ pages), so they read as one product. Each page adds only what it needs beyond this.
 */
export const PAGE_CSS = `body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330}
main{max-width:34rem;margin:12vh auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.08)}
.brand{margin:0 0 1rem;font-weight:600;letter-spacing:.02em;color:#4a5568}
.status{display:inline-block;margin-right:.5rem;color:#6b7280}
h1{margin:0 0 .75rem;font-size:1.4rem}
.rid{margin-top:1.5rem;font-size:.85rem;color:#4b5563}
code{font:.85rem ui-monospace,SFMono-Regular,Menlo,monospace;background:#eef0f3;padding:.1rem .3rem;border-radius:4px}`;

/** The dark-scheme counterparts of PAGE_CSS, to go inside `@media (prefers-color-scheme:dark){…}`. */
export const PAGE_DARK_CSS = 'body{background:#14161b;color:#e6e8ec}main{background:#1d2027;box-shadow:none}.brand,.status,.rid{color:#a0a7b4}code{background:#2a2e37}';
