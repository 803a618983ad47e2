import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRoutesFile } from '../../../src/config/index.ts';
import { RouteSpec } from '../../../src/routes/spec.ts';

describe('routes carrying Pomerium rules', () => {
  it("are valid RouteSpecs: the rule trees fit the routes room's schema", () => {
    const parsed = parseRoutesFile(readFileSync(join(import.meta.dirname, '../../fixtures/pomerium/config.yaml'), 'utf8'), 'config.yaml');
    if (!parsed.ok) throw new Error(parsed.error);
    const withRules = parsed.result.specs.filter((s) => [...s.policy.allow, ...s.policy.deny].some((e) => e.kind === 'ppl'));
    expect(withRules.length).toBeGreaterThanOrEqual(3);
    for (const spec of withRules) expect(RouteSpec.safeParse(spec).success, spec.hosts[0]).toBe(true);
  });

  it('a rule tree the reader could never make is not a valid RouteSpec', () => {
    const parsed = parseRoutesFile('routes:\n  - from: https://a.example.com\n    to: http://a\n    policy: { allow: { and: [{ http_method: GET }] } }\n', 'c.yaml');
    if (!parsed.ok) throw new Error(parsed.error);
    const spec = parsed.result.specs[0] as RouteSpec;
    const broken = { ...spec, policy: { ...spec.policy, allow: [{ kind: 'ppl', rule: { op: 'xor', items: [] } }] } };
    expect(RouteSpec.safeParse(broken).success).toBe(false);
  });
});
