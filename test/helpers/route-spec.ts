import type { RoutePolicy, RouteSpec } from '../../src/routes/spec.ts';

/** A route nobody may use: the policy a route gets when its labels name no rule. */
export const NO_POLICY: RoutePolicy = Object.freeze({ public: false, allow: [], deny: [], bypass: [], corsPreflight: false });

/**
 * The route settings every label and file key defaults to, written out by hand so tests
 * state what users are promised rather than reading it back from the code under test.
 */
export const SPEC_DEFAULTS = Object.freeze({
  fromScheme: 'https',
  path: '/',
  stripPath: false,
  identity: 'headers',
  setHeaders: {},
  removeHeaders: [],
  hostHeader: { mode: 'preserve' },
  websockets: true,
  timeoutMs: 30_000,
  idleTimeoutMs: null,
  tlsSkipVerify: false,
  health: 'docker',
  lb: 'round_robin',
} as const satisfies Partial<RouteSpec>);
