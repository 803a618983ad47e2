import type { GateRequest, GateResponse } from '../http/index.ts';
import type { Shortfall } from '../policy/index.ts';
import { html, link, page } from './pages.ts';

/**
 * The pages of choosing a sign-in method: the chooser itself, the page for an app that offers
 * no configured method, and the end of a step-up the provider did not honour. No scripts: the
 * chooser is a list of links, each starting the sign-in at one method.
 */

export interface MethodLink {
  readonly name: string;
  readonly label: string;
  /** `/oauth2/start?…&provider=<name>`, relative to the sign-in host. */
  readonly href: string;
  /** The method chosen last time in this browser. */
  readonly last: boolean;
}

export function choosePage(req: GateRequest, methods: readonly MethodLink[]): GateResponse {
  const items = methods.map(
    (method) => html`<li>${link(method.href, method.label)}${method.last ? html` <small>(last used)</small>` : html``}</li>`,
  );
  return page(req, {
    status: 200,
    title: 'Sign in',
    message: 'Choose how to sign in.',
    body: html`<ul id="methods">${items}</ul>`,
    json: { error: 'choose_sign_in_method', methods: methods.map(({ name, label, href }) => ({ name, label, href })), requestId: req.requestId },
  });
}

export function noMethodPage(req: GateRequest, named: readonly string[]): GateResponse {
  const message = `This app only accepts sign-in with ${named.join(', ')}, and this Gatehouse has none of them configured.`;
  return page(req, {
    status: 403,
    title: 'No way to sign in to this app',
    message,
    body: html`<p>Ask whoever runs this server to configure one of these sign-in methods, or to change the app's providers setting.</p>`,
    json: { error: 'no_sign_in_method', message, requestId: req.requestId },
  });
}

const SHORTFALL_TEXT: Record<Shortfall, string> = {
  mfa: 'This app needs a sign-in with a second factor (a one-time code, a passkey, or your provider\'s two-step verification), and the sign-in that just happened did not use one.',
  max_age: 'This app needs a recent sign-in, and the provider did not confirm one.',
  provider: 'This app does not accept the sign-in method you just used.',
};

/** The end of a step-up that did not deliver: a page with a way to try again, never another redirect. */
export function secondFactorMissingPage(req: GateRequest, retry: string, shortfall: Shortfall | null, provider: string, setCookies: string[] = []): GateResponse {
  const message = SHORTFALL_TEXT[shortfall ?? 'mfa'];
  return page(req, {
    status: 403,
    title: 'A stronger sign-in is needed',
    message,
    body: html`<p>${provider === '' ? '' : `Signed in with ${provider}. `}Set up two-step verification for your account, then try again.</p><p>${link(retry, 'Try again')}</p>`,
    json: { error: 'step_up_failed', reason: shortfall ?? 'mfa', message, requestId: req.requestId },
    ...(setCookies.length > 0 ? { headers: { 'set-cookie': setCookies } } : {}),
  });
}
