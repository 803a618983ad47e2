import type { ClosedState } from '../routes/index.ts';
import type { PageKind } from './pages.ts';

/**
 * The page for a request that matched a closed claim: the address is held, so the answer is a
 * 503 about this app, never a 404 and never a broader route. Nothing here names the app, its
 * container or why its labels were rejected: those details are for the log and `gatehouse routes`.
 */
export function closedClaimPage(state: ClosedState): PageKind {
  return state === 'stopped' ? 'app_stopped' : 'app_misconfigured';
}
