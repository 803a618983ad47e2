import { describe, expect, it } from 'vitest';
import { parsePolicyEnv, parseRoutesFile } from '../../../src/config/index.ts';

/** Pomerium's global pass_identity_headers and jwt_claims_headers as defaults for its routes. */

const ROUTES = `
  - from: https://quiet.example.com
    to: http://quiet:80
    allowed_domains: [example.com]
  - from: https://loud.example.com
    to: http://loud:80
    allowed_domains: [example.com]
    pass_identity_headers: true
  - from: https://off.example.com
    to: http://off:80
    allowed_domains: [example.com]
    pass_identity_headers: false
`;

/** What a route does about identity headers, however this build records it. */
const identityOf = (spec: object) => JSON.stringify([(spec as { identity: unknown }).identity, (spec as { pomerium?: { identityHeaders?: unknown } }).pomerium?.identityHeaders]);

describe('Pomerium route defaults from the global settings', () => {
  it("the file's own pass_identity_headers is the default for its Pomerium routes; a route's own value wins", () => {
    for (const global of [false, true]) {
      const parsed = parseRoutesFile(`pass_identity_headers: ${global}\nroutes:${ROUTES}`, 'c.yaml');
      if (!parsed.ok) throw new Error(parsed.error);
      expect(parsed.result.issues).toEqual([]);
      const [quiet, loud, off] = parsed.result.specs.map(identityOf);
      expect(loud).not.toBe(off);
      expect(quiet).toBe(global ? loud : off);
    }
  });

  it('defaults from the environment apply to POLICY routes; Gatehouse-format routes are left alone', () => {
    const parsed = parsePolicyEnv(`${ROUTES}\n  - from: https://ours.example.com\n    to: http://ours:80\n    allow: "*"\n`.replace(/^ {2}/gm, ''), { pass_identity_headers: false });
    if (!parsed.ok) throw new Error(parsed.error);
    const [quiet, loud, off, ours] = parsed.result.specs;
    expect(identityOf(quiet as object)).toBe(identityOf(off as object));
    expect(identityOf(loud as object)).not.toBe(identityOf(off as object));
    // A route in Gatehouse's own format keeps Gatehouse's default (identity headers on).
    expect(ours?.identity).toBe('headers');
  });

  it('a global jwt_claims_headers never makes a route refused', () => {
    const parsed = parseRoutesFile(`jwt_claims_headers: [email, groups]\nroutes:${ROUTES}`, 'c.yaml');
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.result.issues).toEqual([]);
    expect(parsed.result.specs).toHaveLength(3);
  });
});
