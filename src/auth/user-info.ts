import { html, type Html } from './pages.ts';
import type { Session } from './session.ts';

/**
 * The signed-in user as `/.iap/`, `/.iap/user` and the portal show it: identity claims and the
 * session's expiry. The session never holds tokens (see claims.ts), so nothing here can leak one.
 */
export function userJson(session: Session): Record<string, unknown> {
  return {
    sub: session.sub,
    email: session.email,
    emailVerified: session.emailVerified,
    name: session.name,
    groups: session.groups,
    claims: session.claims,
    host: session.host,
    expiresAt: new Date(session.exp * 1000).toISOString(),
  };
}

export function userDetails(session: Session): Html {
  const email = session.email === null ? '—' : session.emailVerified === false ? `${session.email} (not verified)` : session.email;
  return html`<dl>
<dt>Email</dt><dd id="iap-email">${email}</dd>
<dt>Name</dt><dd id="iap-name">${session.name ?? '—'}</dd>
<dt>User ID</dt><dd id="iap-user">${session.sub}</dd>
<dt>Groups</dt><dd id="iap-groups">${session.groups.length === 0 ? '—' : session.groups.join(', ')}</dd>
<dt>Signed in until</dt><dd>${new Date(session.exp * 1000).toUTCString()}</dd>
</dl>`;
}
