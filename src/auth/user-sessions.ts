import type { ExpiringMap } from '../state/index.ts';
import type { Session } from './session.ts';

/**
 * Each user's sessions, for the self-service page, and "sign out everywhere". Sessions are
 * sealed cookies that nothing on the server has to remember, so two things are kept here:
 * the sessions made at the sign-in host (id, times, address, browser), to list them, and per
 * user the moment they signed out everywhere. Every session of that user issued before that
 * moment is over, on every route host, whether or not it is in the list (a session from before
 * a restart, a route host's copy made at hand-off): the check is one map lookup per request.
 */

export interface SessionInfo {
  readonly sid: string;
  readonly sub: string;
  /** Seconds since the epoch. */
  readonly iat: number;
  readonly exp: number;
  readonly ip: string;
  readonly agent: string;
}

export interface UserSessions {
  /** At sign-in, on the sign-in host. */
  record(session: Session, client: { ip: string; agent: string }): void;
  /** The user's sessions that are neither expired nor ended, newest first. */
  list(sub: string, isRevoked: (sid: string) => boolean): SessionInfo[];
  /** Ends every session of this user made up to now; returns the listed ones (to revoke them by id too). */
  signOutEverywhere(sub: string): SessionInfo[];
  /** Whether the user signed out everywhere after this session was made. */
  isCut(session: Pick<Session, 'sub' | 'iat'>): boolean;
}

export interface UserSessionsOptions {
  sessions: ExpiringMap<SessionInfo>;
  /** sub → seconds: sessions issued before are over. */
  cuts: ExpiringMap<number>;
  /** The longest a session lives: after that, a cut has nothing left to end. */
  sessionTtlMs: number;
  now: () => number;
}

const MAX_AGENT_LENGTH = 200;

export function openUserSessions(options: UserSessionsOptions): UserSessions {
  const { sessions, cuts, now } = options;
  const mine = (sub: string): SessionInfo[] => {
    const found: SessionInfo[] = [];
    for (const [, info] of sessions.entries()) if (info.sub === sub) found.push(info);
    return found;
  };
  return {
    record(session, client) {
      sessions.set(session.sid, { sid: session.sid, sub: session.sub, iat: session.iat, exp: session.exp, ip: client.ip, agent: client.agent.slice(0, MAX_AGENT_LENGTH) }, session.exp * 1000);
    },
    list(sub, isRevoked) {
      const cut = cuts.get(sub);
      return mine(sub)
        .filter((info) => !isRevoked(info.sid) && (cut === undefined || info.iat >= cut))
        .sort((a, b) => b.iat - a.iat);
    },
    signOutEverywhere(sub) {
      // Sessions of earlier seconds are cut by time; those of this very second are in the list
      // and revoked by id, so signing in again at once is not cut as well.
      const cut = Math.floor(now() / 1000);
      cuts.set(sub, cut, now() + options.sessionTtlMs + 1_000);
      const ended = mine(sub);
      for (const info of ended) sessions.delete(info.sid);
      return ended;
    },
    isCut(session) {
      if (cuts.size === 0) return false;
      const cut = cuts.get(session.sub);
      return cut !== undefined && session.iat < cut;
    },
  };
}

export function parseSessionInfo(stored: unknown): SessionInfo | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  const s = stored as Record<string, unknown>;
  return typeof s['sid'] === 'string' && typeof s['sub'] === 'string' && typeof s['iat'] === 'number' && typeof s['exp'] === 'number' && typeof s['ip'] === 'string' && typeof s['agent'] === 'string'
    ? (s as unknown as SessionInfo)
    : undefined;
}

export const parseCut = (stored: unknown): number | undefined => (typeof stored === 'number' ? stored : undefined);
