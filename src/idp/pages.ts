import { createHash } from 'node:crypto';
import { PAGE_HEADERS, PASSKEY_SCRIPT, escapeHtml, renderDocument, withPasskeyScript } from '../http/index.ts';

/**
 * The built-in provider's pages: sign-in, second step, sign-out confirmation, errors. Plain
 * HTML forms that work without JavaScript, labels tied to their inputs, errors announced to
 * screen readers and linked to the field they concern, a visible focus ring, and colours
 * that pass WCAG AA contrast.
 */

export interface HtmlPage {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const CSS = `
:root{color-scheme:light dark}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f4f6;color:#111827}
main{width:100%;max-width:24rem;margin:1rem;padding:2rem;background:#fff;border-radius:.75rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
.brand{margin:0 0 1.25rem;font-size:.875rem;font-weight:600;letter-spacing:.06em;text-transform:uppercase;color:#374151}
h1{margin:0 0 1rem;font-size:1.5rem;line-height:1.25}
p{margin:0 0 1rem}
label{display:block;margin:0 0 .25rem;font-weight:600}
input{display:block;width:100%;margin:0 0 1rem;padding:.625rem .75rem;font:inherit;color:inherit;background:#fff;border:1px solid #6b7280;border-radius:.375rem}
input[aria-invalid=true]{border-color:#b91c1c}
button{width:100%;padding:.625rem 1rem;font:inherit;font-weight:600;color:#fff;background:#1d4ed8;border:0;border-radius:.375rem;cursor:pointer}
button:hover{background:#1e40af}
a{color:#1d4ed8}
:focus-visible{outline:3px solid #2563eb;outline-offset:2px}
.error{padding:.75rem;margin:0 0 1rem;border-left:4px solid #b91c1c;background:#fef2f2;color:#7f1d1d}
.hint{font-size:.875rem;color:#374151}
.passkey{margin-top:1rem}
@media (prefers-color-scheme:dark){
body{background:#111827;color:#f9fafb}main{background:#1f2937}.brand,.hint{color:#d1d5db}
input{background:#111827;border-color:#9ca3af}button{background:#2563eb}button:hover{background:#1d4ed8}
a{color:#93c5fd}.error{background:#450a0a;color:#fecaca;border-color:#f87171}
}`;

/** No script, no external resource, never framed; the form posts to this origin only. */
const SECURITY_HEADERS: Record<string, string> = {
  ...PAGE_HEADERS,
  // Not no-referrer: with it, browsers send `Origin: null` on form posts and the origin check could not tell.
  'referrer-policy': 'same-origin',
};

export { escapeHtml };

/** The provider's forms in the shared frame, with their own stylesheet. */
function layout(title: string, content: string): string {
  return renderDocument({ title, content: { html: content }, style: CSS, noIndex: true });
}

function page(status: number, title: string, content: string): HtmlPage {
  return { status, headers: { ...SECURITY_HEADERS }, body: layout(title, content) };
}

function errorBlock(message: string | null): string {
  return message === null ? '' : `<p class="error" id="form-error" role="alert">${escapeHtml(message)}</p>`;
}

export function minutesText(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

export const WRONG_PASSWORD = 'Wrong username or password.';
export const WRONG_PASSKEY = 'That passkey was not accepted. Try again, or use your password.';
export const WRONG_CODE = 'That code is not right, or it was already used. Enter the current code from your app.';
export function lockedMessage(retryAfterMs: number): string {
  return `Too many attempts — try again in ${minutesText(retryAfterMs)}.`;
}

/** The passkey form: a button the script shows (when the browser can), and the assertion it posts. */
export interface PasskeyForm {
  readonly action: string;
  /** The WebAuthn request options, as JSON. */
  readonly options: unknown;
  readonly label: string;
}

function passkeyBlock(passkey: PasskeyForm | undefined): string {
  if (passkey === undefined) return '';
  return `<form method="post" action="${escapeHtml(passkey.action)}" class="passkey">
<input type="hidden" name="credential" value="">
<button type="button" data-passkey="get" data-options="${escapeHtml(JSON.stringify(passkey.options))}" hidden>${escapeHtml(passkey.label)}</button>
<p class="error passkey-error" role="alert" hidden></p>
</form>
<script>${PASSKEY_SCRIPT}</script>`;
}

/** Pages with a passkey button may run the one passkey script, nothing else. */
function withPasskey(result: HtmlPage, passkey: PasskeyForm | undefined): HtmlPage {
  if (passkey === undefined) return result;
  return { ...result, headers: { ...result.headers, 'content-security-policy': withPasskeyScript(result.headers['content-security-policy']!) } };
}

export function signInPage(options: { action: string; username: string; error: string | null; status?: number; passkey?: PasskeyForm }): HtmlPage {
  const invalid = options.error === null ? '' : ' aria-invalid="true" aria-describedby="form-error"';
  const focusPassword = options.username !== '';
  return withPasskey(page(
    options.status ?? 200,
    'Sign in',
    `<h1>Sign in</h1>
${errorBlock(options.error)}
<form method="post" action="${escapeHtml(options.action)}" novalidate>
<label for="username">Username or email</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${escapeHtml(options.username)}"${invalid}${focusPassword ? '' : ' autofocus'}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${invalid}${focusPassword ? ' autofocus' : ''}>
<button type="submit">Sign in</button>
</form>
${passkeyBlock(options.passkey)}`,
  ), options.passkey);
}

/** The second step: the TOTP code (when enrolled) and/or a passkey of this user. */
export function totpPage(options: { action: string | null; error: string | null; status?: number; passkey?: PasskeyForm }): HtmlPage {
  const invalid = options.error === null ? '' : ' aria-invalid="true" aria-describedby="form-error code-hint"';
  const codeForm =
    options.action === null
      ? ''
      : `<form method="post" action="${escapeHtml(options.action)}" novalidate>
<label for="code">6-digit code</label>
<p class="hint" id="code-hint">Open your authenticator app and enter the code it shows for Gatehouse.</p>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required autofocus${invalid || ' aria-describedby="code-hint"'}>
<button type="submit">Continue</button>
</form>`;
  const title = options.action === null ? 'Confirm with your passkey' : 'Enter your code';
  return withPasskey(page(
    options.status ?? 200,
    title,
    `<h1>${title}</h1>
${errorBlock(options.error)}
${codeForm}
${passkeyBlock(options.passkey)}`,
  ), options.passkey);
}

export function messagePage(status: number, title: string, message: string, link?: { href: string; text: string }): HtmlPage {
  const action = link === undefined ? '' : `<p><a href="${escapeHtml(link.href)}">${escapeHtml(link.text)}</a></p>`;
  return page(status, title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>\n${action}`);
}

/** `form` is oidc-provider's hidden logout form (id `op.logoutForm`); the buttons submit it. */
export function signOutConfirmPage(form: string): HtmlPage {
  return page(
    200,
    'Sign out',
    `<h1>Sign out?</h1>
<p>You will be signed out of Gatehouse's sign-in page on this browser.</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Sign out</button>`,
  );
}

/** Clicks the page's one button: the second half of a sign-out the user already confirmed at Gatehouse. */
const CONTINUE_SCRIPT = "document.getElementById('finish').click()";
const CONTINUE_SCRIPT_HASH = createHash('sha256').update(CONTINUE_SCRIPT).digest('base64');

/**
 * For a sign-out confirmed on Gatehouse's own page: ends the provider session without asking
 * again. The one allowed script (by hash) submits the form; without JavaScript it is one click.
 */
export function signOutContinuePage(form: string): HtmlPage {
  const signingOut = page(
    200,
    'Signing out',
    `<h1>Signing out…</h1>
${form}
<button type="submit" id="finish" form="op.logoutForm" name="logout" value="yes" autofocus>Finish signing out</button>
<script>${CONTINUE_SCRIPT}</script>`,
  );
  const csp = SECURITY_HEADERS['content-security-policy']!.replace("default-src 'none';", `default-src 'none'; script-src 'sha256-${CONTINUE_SCRIPT_HASH}';`);
  return { ...signingOut, headers: { ...signingOut.headers, 'content-security-policy': csp } };
}
