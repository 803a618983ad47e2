import { interactionPolicy, type Account, type AdapterFactory, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { ProviderSecrets } from './keys.ts';
import { messagePage, signOutConfirmPage, signOutContinuePage, type HtmlPage } from './pages.ts';
import { findUser, type UsersSnapshot } from './users-file.ts';

/**
 * oidc-provider settings for the built-in provider: one confidential client (Gatehouse's own
 * sign-in), authorization code with PKCE only, claims released by scope through UserInfo as
 * hosted providers do, explicit lifetimes for everything it stores, and Gatehouse's pages.
 */

export const CLIENT_ID = 'gatehouse';
export const SCOPES = ['openid', 'email', 'profile', 'groups'] as const;
/** Time to fill in the sign-in form (and the TOTP step) before starting again. */
export const INTERACTION_TTL_SECONDS = 5 * 60;

export interface ProviderConfigOptions {
  authOrigin: string;
  prefix: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  secrets: ProviderSecrets;
  users: () => UsersSnapshot;
  sessionTtlSeconds: number;
  adapter: AdapterFactory;
}

export function providerConfiguration(options: ProviderConfigOptions): Configuration {
  const { secrets, sessionTtlSeconds } = options;
  const cookie = { httpOnly: true, sameSite: 'lax' as const, path: options.prefix };
  return {
    adapter: options.adapter,
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: secrets.clientSecret,
        client_name: 'Gatehouse',
        redirect_uris: [options.redirectUri],
        post_logout_redirect_uris: [options.postLogoutRedirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'RS256',
        // auth_time ties each ID token to the provider session it came from (see confirmedAtGatehouse).
        require_auth_time: true,
      },
    ],
    jwks: secrets.jwks,
    cookies: {
      keys: secrets.cookieKeys,
      names: { session: 'gatehouse_idp_session', interaction: 'gatehouse_idp_interaction', resume: 'gatehouse_idp_resume' },
      long: cookie,
      short: cookie,
    },
    scopes: [...SCOPES],
    // amr (RFC 8176) says how the user signed in: pwd, otp, hwk, mfa (see interaction.ts); with acr it tells Gatehouse whether the sign-in used a second factor.
    claims: { openid: ['sub', 'acr', 'amr'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'], groups: ['groups'] },
    conformIdTokenClaims: true,
    pkce: { required: () => true },
    responseTypes: ['code'],
    issueRefreshToken: () => false,
    clientBasedCORS: () => false,
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => respond(ctx, confirmedAtGatehouse(ctx) ? signOutContinuePage(form) : signOutConfirmPage(form)),
        postLogoutSuccessSource: (ctx) => respond(ctx, messagePage(200, 'Signed out', 'You are signed out.')),
      },
    },
    ttl: {
      AuthorizationCode: 60,
      AccessToken: 10 * 60,
      IdToken: 10 * 60,
      // Anyone can start one without signing in: short-lived, and bounded per client (memory-adapter.ts).
      Interaction: INTERACTION_TTL_SECONDS,
      Session: sessionTtlSeconds,
      Grant: sessionTtlSeconds,
    },
    interactions: {
      url: (_ctx, interaction) => `${options.prefix}/interaction/${interaction.uid}`,
      policy: loginPolicy(),
    },
    findAccount: (_ctx, sub): Account | undefined => {
      const user = findUser(options.users(), sub);
      // Removed, disabled or renamed since the session began: no account, so no tokens and no claims.
      if (user === undefined || user.disabled || user.username !== sub) return undefined;
      return {
        accountId: user.username,
        claims: () => ({
          sub: user.username,
          email: user.email,
          email_verified: true,
          name: user.name,
          preferred_username: user.username,
          groups: [...user.groups],
        }),
      };
    },
    renderError: (ctx, out) => {
      const description = typeof out['error_description'] === 'string' ? out['error_description'] : String(out['error'] ?? 'unknown error');
      const page = messagePage(ctx.status >= 400 ? ctx.status : 400, 'Sign-in cannot continue', `${description}. Go back to the application and sign in again.`, {
        href: `${options.authOrigin}/`,
        text: 'Start again',
      });
      respond(ctx, page);
    },
  };
}

/** The default prompts, plus: a session whose account is gone (removed, disabled) must sign in again. */
function loginPolicy(): interactionPolicy.Prompt[] {
  const policy = interactionPolicy.base();
  policy.get('login')?.checks.add(
    new interactionPolicy.Check('account_unavailable', 'the signed-in account was removed or disabled', (ctx) =>
      ctx.oidc.session?.accountId !== undefined && ctx.oidc.account === undefined ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT,
    ),
  );
  return policy;
}

/**
 * Whether this sign-out comes from Gatehouse's own sign-out, which the user has just confirmed:
 * the end-session request carries an ID token Gatehouse received in this very provider session
 * (signature and audience checked by oidc-provider; same account and sign-in time). Gatehouse
 * keeps ID tokens sealed and sends one only on its way out, so another site cannot forge this,
 * and a token from an earlier session does not qualify.
 */
function confirmedAtGatehouse(ctx: KoaContextWithOIDC): boolean {
  const hint = ctx.oidc.entities.IdTokenHint?.payload;
  const session = ctx.oidc.session;
  if (hint === undefined || session?.accountId === undefined || session.loginTs === undefined) return false;
  return ctx.oidc.client?.clientId === CLIENT_ID && hint['sub'] === session.accountId && hint['auth_time'] === session.loginTs;
}

function respond(ctx: KoaContextWithOIDC, page: HtmlPage): void {
  for (const [name, value] of Object.entries(page.headers)) ctx.set(name, value);
  ctx.status = page.status;
  ctx.body = page.body;
}
