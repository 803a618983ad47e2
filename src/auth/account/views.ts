import { html, PAGE_HEADERS, renderDocument, type Html } from '../../http/index.ts';
import type { BuiltinProfile, PasskeyInfo, TotpEnrolment } from '../../idp/index.ts';
import type { AppPasswordInfo } from '../app-passwords.ts';
import type { SessionInfo } from '../user-sessions.ts';

/**
 * The self-service page, drawn with the one page kit: plain forms that work without script
 * (only adding a passkey needs the passkey script, allowed by its hash), each POST carrying the
 * CSRF token. Everything shown is escaped by `html`; secrets appear once, on the page that made them.
 */

export const ACCOUNT_PATH = '/account';

export interface AccountView {
  readonly user: { sub: string; email: string | null; name: string | null; groups: readonly string[] };
  /** Null for users of an outside provider: no password, TOTP or passkeys here. */
  readonly builtin: { profile: BuiltinProfile; passkeys: PasskeyInfo[] } | null;
  readonly appPasswords: AppPasswordInfo[];
  readonly sessions: SessionInfo[];
  readonly currentSid: string;
  readonly csrf: string;
  /** A fixed message for the outcome of the last action (never text from the request). */
  readonly notice: { kind: 'ok' | 'error'; text: string } | null;
  readonly passkeyScript: string;
}

const CSS = `section{margin:1.5rem 0;padding-top:1rem;border-top:1px solid #e5e7eb}
h2{font-size:1.1rem;margin:0 0 .5rem}
label{display:block;margin:.5rem 0 .2rem;font-weight:600}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.45rem .6rem;font:inherit;border:1px solid #9ca3af;border-radius:6px}
button{font:inherit;margin-top:.6rem;padding:.45rem 1rem;border-radius:8px;border:1px solid #c4c9d2;background:#fff;cursor:pointer}
table{width:100%;border-collapse:collapse;font-size:.9rem}td,th{text-align:left;padding:.3rem .4rem;border-bottom:1px solid #eef0f3;vertical-align:top}
td form{display:inline}td button{margin:0;padding:.2rem .6rem}
.notice{padding:.6rem .8rem;border-radius:6px;background:#ecfdf5;color:#065f46}.notice.error{background:#fef2f2;color:#7f1d1d}
.secret{font:1rem ui-monospace,monospace;padding:.6rem;background:#eef0f3;border-radius:6px;overflow-wrap:anywhere;user-select:all}
.hint{font-size:.85rem;color:#4b5563}.qr svg{width:12rem;height:12rem;background:#fff}`;
const DARK_CSS = 'section{border-color:#2a2e37}input[type=text],input[type=password]{background:#14161b;color:inherit}button{background:#2a2e37;color:inherit;border-color:#3a3f4a}.notice{background:#064e3b;color:#d1fae5}.notice.error{background:#450a0a;color:#fecaca}.hint{color:#a0a7b4}td,th{border-color:#2a2e37}';

export interface RenderedPage {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function accountDocument(status: number, title: string, content: Html, allowPasskeyScript: string | null): RenderedPage {
  const headers: Record<string, string> = { ...PAGE_HEADERS, 'referrer-policy': 'same-origin' };
  if (allowPasskeyScript !== null) headers['content-security-policy'] = allowPasskeyScript;
  return { status, headers, body: renderDocument({ title, content, extraCss: CSS, extraDarkCss: DARK_CSS, noIndex: true }) };
}

const date = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

function csrfField(csrf: string): Html {
  return html`<input type="hidden" name="csrf" value="${csrf}">`;
}

function currentPasswordField(id: string): Html {
  return html`<label for="${id}">Current password</label><input id="${id}" name="current" type="password" autocomplete="current-password" required>`;
}

export function accountPage(view: AccountView): Html {
  const { user } = view;
  const notice = view.notice === null ? html`` : html`<p class="notice${view.notice.kind === 'error' ? ' error' : ''}" role="status">${view.notice.text}</p>`;
  return html`<h1>Your account</h1>
${notice}
<dl><dt>Signed in as</dt><dd>${user.email ?? user.sub}</dd><dt>Name</dt><dd>${user.name ?? ''}</dd><dt>Groups</dt><dd>${user.groups.join(', ') || 'none'}</dd></dl>
${view.builtin === null ? html`` : builtinSections(view, view.builtin)}
${appPasswordSection(view)}
${sessionSection(view)}
<p><a href="/">Your apps</a></p>`;
}

function builtinSections(view: AccountView, builtin: NonNullable<AccountView['builtin']>): Html {
  const passkeyRows = builtin.passkeys.map(
    (passkey) => html`<tr><td>${passkey.name}</td><td>${date(passkey.created)}</td><td>${passkey.lastUsed === null ? 'never' : date(passkey.lastUsed)}</td>
<td><form method="post" action="/account/passkeys/remove">${csrfField(view.csrf)}<input type="hidden" name="id" value="${passkey.id}"><button type="submit">Remove</button></form></td></tr>`,
  );
  return html`<section id="password"><h2>Password</h2>
<form method="post" action="/account/password">${csrfField(view.csrf)}
${currentPasswordField('password-current')}
<label for="password-new">New password</label><input id="password-new" name="password" type="password" autocomplete="new-password" minlength="10" required>
<label for="password-confirm">New password again</label><input id="password-confirm" name="confirm" type="password" autocomplete="new-password" required>
<button type="submit">Change password</button></form></section>
<section id="totp"><h2>Authenticator app (TOTP)</h2>
${builtin.profile.totp
    ? html`<p>A code from your authenticator app is asked after your password.</p><form method="post" action="/account/totp/remove">${csrfField(view.csrf)}${currentPasswordField('totp-current')}<button type="submit">Remove the authenticator app</button></form>`
    : html`<p>Not set up. With it, a code from an app on your phone is asked after your password.</p><form method="post" action="/account/totp">${csrfField(view.csrf)}${currentPasswordField('totp-current')}<button type="submit">Set up an authenticator app</button></form>`}
</section>
<section id="passkeys"><h2>Passkeys</h2>
${builtin.passkeys.length === 0 ? html`<p>No passkey yet. A passkey signs you in with your device's screen lock, without a password.</p>` : html`<table><thead><tr><th>Name</th><th>Added</th><th>Last used</th><th></th></tr></thead><tbody>${passkeyRows}</tbody></table>`}
<form method="post" action="/account/passkeys">${csrfField(view.csrf)}
<label for="passkey-name">Name for the new passkey</label><input id="passkey-name" name="name" type="text" maxlength="64" value="" placeholder="e.g. Laptop">
${currentPasswordField('passkey-current')}
<input type="hidden" name="credential" value="">
<button type="button" data-passkey="create" data-options-url="/account/passkeys/options" hidden>Add a passkey</button>
<p class="notice error passkey-error" role="alert" hidden></p>
<noscript><p class="hint">Adding a passkey needs JavaScript.</p></noscript>
</form></section>
<script>${{ html: view.passkeyScript }}</script>`;
}

function appPasswordSection(view: AccountView): Html {
  const rows = view.appPasswords.map(
    (password) => html`<tr><td>${password.name}</td><td>${date(password.created)}</td><td>${password.hosts.length === 0 ? 'every app that accepts them' : password.hosts.join(', ')}</td>
<td><form method="post" action="/account/app-passwords/revoke">${csrfField(view.csrf)}<input type="hidden" name="id" value="${password.id}"><button type="submit">Revoke</button></form></td></tr>`,
  );
  return html`<section id="app-passwords"><h2>App passwords</h2>
<p class="hint">For programs that cannot sign in with a browser (git, WebDAV, calendar and contacts sync, scripts), on apps that accept them. Use your ${view.builtin === null ? 'email' : 'user name'} as the user name. As a bearer token, the same text works on apps that accept tokens.</p>
${view.appPasswords.length === 0 ? html`<p>None yet.</p>` : html`<table><thead><tr><th>Name</th><th>Created</th><th>Works on</th><th></th></tr></thead><tbody>${rows}</tbody></table>`}
<form method="post" action="/account/app-passwords">${csrfField(view.csrf)}
<label for="app-name">Name</label><input id="app-name" name="name" type="text" maxlength="64" required placeholder="e.g. git on my laptop">
<label for="app-hosts">Only for these app addresses (optional)</label><input id="app-hosts" name="hosts" type="text" placeholder="git.example.com, dav.example.com">
${view.builtin === null ? html`` : currentPasswordField('app-current')}
<button type="submit">Create an app password</button></form></section>`;
}

function sessionSection(view: AccountView): Html {
  const rows = view.sessions.map(
    (session) => html`<tr><td>${date(session.iat * 1000)}${session.sid === view.currentSid ? ' (this browser)' : ''}</td><td>${session.ip}</td><td>${session.agent}</td>
<td><form method="post" action="/account/sessions/revoke">${csrfField(view.csrf)}<input type="hidden" name="sid" value="${session.sid}"><button type="submit">Sign out</button></form></td></tr>`,
  );
  return html`<section id="sessions"><h2>Where you are signed in</h2>
${view.sessions.length === 0 ? html`<p>No session is listed (sessions made before the last restart are not).</p>` : html`<table><thead><tr><th>Signed in</th><th>Address</th><th>Browser</th><th></th></tr></thead><tbody>${rows}</tbody></table>`}
<form method="post" action="/account/sign-out-everywhere">${csrfField(view.csrf)}<button type="submit" id="sign-out-everywhere">Sign out everywhere</button></form>
<p class="hint">Ends every session of your account, in every browser and app, this one included. App passwords keep working until you revoke them.</p></section>`;
}

export function newAppPasswordPage(name: string, secret: string, username: string): Html {
  return html`<h1>Your new app password</h1>
<p>Copy it now: it is shown only this once.</p>
<p class="secret" id="app-password">${secret}</p>
<dl><dt>Name</dt><dd>${name}</dd><dt>User name</dt><dd>${username}</dd></dl>
<p class="hint">For git: <code>git clone https://${username.replace(/@/g, '%40')}@git.example.com/repo.git</code>, then paste it when asked for the password.</p>
<p><a href="/account">Back to your account</a></p>`;
}

export function totpEnrolmentPage(enrolment: TotpEnrolment, csrf: string, error: string | null): Html {
  return html`<h1>Set up your authenticator app</h1>
${error === null ? html`` : html`<p class="notice error" role="alert">${error}</p>`}
<p>Scan this code with your authenticator app, or type the key by hand.</p>
<div class="qr">${{ html: enrolment.qrSvg }}</div>
<p class="secret">${enrolment.secret}</p>
<form method="post" action="/account/totp/confirm">${csrfField(csrf)}
<label for="code">The 6-digit code the app shows now</label><input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="6" required autofocus>
<button type="submit">Confirm</button></form>
<p><a href="/account">Cancel</a></p>`;
}

export function messageContent(title: string, message: string, link: { href: string; text: string }): Html {
  return html`<h1>${title}</h1><p>${message}</p><p><a href="${link.href}">${link.text}</a></p>`;
}
