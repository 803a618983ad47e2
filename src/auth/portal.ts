import { evaluate, networkAccess } from '../policy/index.ts';
import type { GateRequest, GateResponse } from '../http/index.ts';
import type { Route } from '../routes/index.ts';
import { displayName, liveSession, portalUrl, signInUrl, type IdentityContext } from './context.ts';
import { html, json, link, page, prefersJson } from './pages.ts';
import type { Html } from '../http/index.ts';
import { iconHtml } from './portal-icons.ts';
import type { Session } from './session.ts';
import { userJson } from './user-info.ts';

/**
 * The sign-in host's front page: who you are and the apps you may open, each judged by its own
 * policy exactly as a request to it would be. Apps you may not open are not listed at all.
 */

export interface PortalApp {
  readonly name: string;
  readonly url: string;
  readonly description: string | null;
  /** `iap.icon` as written; shown only when it is a built-in name, https or a data: image (portal-icons.ts). */
  readonly icon: string | null;
  /** `iap.group`: the section the app is listed under; null for the unnamed first section. */
  readonly group: string | null;
}

/** Images for app icons (https and data: only); everything else as on every Gatehouse page. */
const PORTAL_CSP = "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

export function portal(ctx: IdentityContext, req: GateRequest): GateResponse {
  const session = liveSession(ctx, req, ctx.settings.authSecure);
  if (session === null) {
    const target = signInUrl(ctx, portalUrl(ctx));
    return page(req, {
      status: 200,
      title: 'Sign in',
      message: 'You are not signed in.',
      body: html`<p>${link(target, 'Sign in')}</p>`,
      json: { signedIn: false, signIn: target },
    });
  }
  const apps = reachableApps(ctx, req, session);
  if (prefersJson(req.headers.accept)) return json(200, { signedIn: true, user: userJson(session), apps });
  return page(req, {
    status: 200,
    title: 'Your apps',
    message: `Signed in as ${displayName(session)}.`,
    body: html`${{ html: `<style>${PORTAL_CSS}</style>` }}${apps.length === 0 ? html`<p>No app is open to this account yet.</p>` : appSections(apps)}<p>${link('/account', 'Your account')} · ${link('/oauth2/sign_out', 'Sign out')}</p>`,
    headers: { 'content-security-policy': PORTAL_CSP },
  });
}

export function reachableApps(ctx: IdentityContext, req: GateRequest, session: Session): PortalApp[] {
  const seen = new Set<string>();
  const apps: PortalApp[] = [];
  for (const route of ctx.table.routes) {
    if (networkAccess(route.access, req.remoteAddress)?.allow === false) continue;
    const decision = evaluate(route.policy, session, { method: 'GET', path: route.path, headers: {}, clientIp: req.remoteAddress, now: Date.now() }, ctx.settings.defaultAllow);
    if (!decision.allow) continue;
    const url = appUrl(route, req);
    if (seen.has(url)) continue;
    seen.add(url);
    apps.push({ name: route.display.name, url, description: route.display.description, icon: route.display.icon, group: route.display.group });
  }
  return apps.sort((a, b) => a.name.localeCompare(b.name) || a.url.localeCompare(b.url));
}

const PORTAL_CSS = '.apps{list-style:none;padding:0}.apps li{display:flex;align-items:center;gap:.5rem;margin:.4rem 0}.icon{width:1.5rem;height:1.5rem;flex:none;fill:currentColor}h2{font-size:1.05rem;margin:1.25rem 0 .25rem}';

/** Apps without a group first, then one section per `iap.group`, in name order. */
function appSections(apps: readonly PortalApp[]): Html {
  const groups = new Map<string | null, PortalApp[]>();
  for (const app of apps) groups.set(app.group, [...(groups.get(app.group) ?? []), app]);
  const names = [...groups.keys()].sort((a, b) => (a === null ? -1 : b === null ? 1 : a.localeCompare(b)));
  return html`<div id="apps">${names.map((name) => {
    const items = (groups.get(name) ?? []).map((app) => html`<li>${iconHtml(app.icon) ?? html``}${link(app.url, app.name)}${app.description === null ? '' : ` — ${app.description}`}</li>`);
    return name === null ? html`<ul class="apps">${items}</ul>` : html`<section><h2>${name}</h2><ul class="apps">${items}</ul></section>`;
  })}</div>`;
}

/**
 * Apps usually share Gatehouse's listener, so the port the browser used for the sign-in host
 * is the best guess for an app with the same scheme; a Pomerium route bound to a port says its own.
 */
function appUrl(route: Route, req: GateRequest): string {
  const port = route.pomerium?.port ?? /:(\d{1,5})$/.exec(req.publicHost)?.[1];
  const samePort = port !== undefined && (route.pomerium?.port != null || route.fromScheme === req.scheme) ? `:${port}` : '';
  return `${route.fromScheme}://${route.hosts[0]}${samePort}${route.path}`;
}
