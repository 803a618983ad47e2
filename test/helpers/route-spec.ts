import { keyFields } from '../../src/labels/index.ts';
import type { RoutePolicy, RouteSpec } from '../../src/routes/spec.ts';

/** A route nobody may use: the policy a route gets when its labels name no rule. */
export const NO_POLICY: RoutePolicy = Object.freeze(keyFields({}, '').policy);

/**
 * Every key-filled field at its default, read from the key table (labels/key-table.ts), plus
 * the structural fields a spec without headers has. What users are promised is pinned by the
 * golden files (test/golden/labels) and the README check, not by a second list here.
 */
export const SPEC_DEFAULTS = Object.freeze({
  fromScheme: 'https',
  setHeaders: {},
  removeHeaders: [],
  ...keyFields({}, 'App'),
} as const satisfies Partial<RouteSpec>);
