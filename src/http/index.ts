/**
 * The HTTP vocabulary (header names and their folding, Gatehouse's cookie names, escaping) and
 * the one page kit every Gatehouse page is drawn with. A floor room: it imports no other room.
 */
export {
  CLIENT_IP_HEADERS,
  HEADER_NAME,
  HOP_BY_HOP,
  IDENTITY_HEADERS,
  IDENTITY_PREFIX,
  connectionTokens,
  foldHeaderName,
  hasControlCharacter,
  isClientAddressHeader,
  isForwardingHeader,
  isIdentityHeader,
  sanitizeHeaderValue,
} from './headers.ts';
export { isGatehouseCookieName, setsGatehouseCookie, stripGatehouseCookies } from './cookies.ts';
export { escapeHtml } from './escape.ts';
export type { GateRequest, GateResponse, RawHandler } from './exchange.ts';
export {
  PAGE_CSS,
  PAGE_DARK_CSS,
  PAGE_HEADERS,
  heading,
  html,
  prefersJson,
  renderDocument,
  requestIdLine,
  type DocumentOptions,
  type Html,
} from './page.ts';
export { PASSKEY_SCRIPT, PASSKEY_SCRIPT_HASH, withPasskeyScript } from './passkey-script.ts';
export { readUrlEncodedForm } from './forms.ts';
