import { html, type Html } from '../http/index.ts';

/**
 * App icons on the portal, from `iap.icon`, which the container's owner writes: a name from the
 * small built-in set below (drawn inline, nothing fetched), an `https:` image URL, or a
 * base64 `data:` raster image. Anything else (`javascript:`, `http:`, SVG data that could carry
 * script, a misspelt name) shows no icon; every value is escaped into an attribute, and the
 * portal's Content-Security-Policy allows images from https and data only, never script.
 */

const SVG = (path: string) => `<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="${path}"/></svg>`;

/** 24×24 single-path glyphs: enough to tell apps apart at a glance. */
export const BUILTIN_ICONS: Readonly<Record<string, string>> = Object.freeze({
  app: 'M4 4h7v7H4zM13 4h7v7h-7zM4 13h7v7H4zM13 13h7v7h-7z',
  book: 'M5 3h11a3 3 0 0 1 3 3v15H8a3 3 0 0 1-3-3zM8 17h9V6a1 1 0 0 0-1-1H8z',
  chart: 'M4 20V4h2v14h14v2zM8 16v-5h2v5zm4 0V8h2v8zm4 0v-3h2v3z',
  cloud: 'M7 19a5 5 0 0 1-.6-10A6 6 0 0 1 18 9a4.5 4.5 0 0 1-.5 10z',
  code: 'M8.6 16.6 4 12l4.6-4.6L10 8.8 6.8 12l3.2 3.2zm6.8 0L14 15.2l3.2-3.2L14 8.8l1.4-1.4L20 12z',
  database: 'M12 3c4.4 0 8 1.3 8 3v12c0 1.7-3.6 3-8 3s-8-1.3-8-3V6c0-1.7 3.6-3 8-3zm0 2C8.1 5 6 6 6 6.5S8.1 8 12 8s6-1 6-1.5S15.9 5 12 5z',
  file: 'M6 2h8l6 6v14H6zm7 1.5V9h5.5z',
  home: 'M12 3 2 12h3v9h6v-6h2v6h6v-9h3z',
  mail: 'M3 5h18v14H3zm2 2v.5l7 4.5 7-4.5V7z',
  music: 'M9 17a3 3 0 1 1-2-2.8V5l12-2v11a3 3 0 1 1-2-2.8V6.4l-8 1.4z',
  photo: 'M3 5h18v14H3zm2 12h14l-4.5-6-3.5 4.5-2.5-3z',
  shield: 'M12 2 4 5v6c0 5 3.4 9.7 8 11 4.6-1.3 8-6 8-11V5z',
  terminal: 'M3 4h18v16H3zm3.4 4L5 9.4 7.6 12 5 14.6 6.4 16l4-4zM11 15v1.5h6V15z',
  video: 'M3 6h13v12H3zm14 4 4-3v10l-4-3z',
});

const DATA_IMAGE = /^data:image\/(?:png|gif|jpeg|webp);base64,[A-Za-z0-9+/]+={0,2}$/;

/** The icon markup for an `iap.icon` value, or null when it shows none. */
export function iconHtml(value: string | null): Html | null {
  if (value === null) return null;
  const name = value.trim().toLowerCase();
  const glyph = Object.hasOwn(BUILTIN_ICONS, name) ? BUILTIN_ICONS[name] : undefined;
  if (glyph !== undefined) return { html: SVG(glyph) };
  if (DATA_IMAGE.test(value.trim())) return html`<img class="icon" src="${value.trim()}" alt="">`;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') return null;
  return html`<img class="icon" src="${url.href}" alt="" referrerpolicy="no-referrer" loading="lazy">`;
}
