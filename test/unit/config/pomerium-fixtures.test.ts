import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicyEnv, parseRoutesFile } from '../../../src/config/index.ts';
import { decodePolicyEnv } from '../../../src/config/routes-file-policy-env.ts';
import { buildRouteTable, matchClaim, type TranslationResult } from '../../../src/routes/index.ts';

/**
 * Our Pomerium-format fixtures (test/fixtures/pomerium): every route loads, or is refused with a
 * reason that names the option, and then its address is held closed (misconfigured, 503) rather
 * than dropped or served by a broader route.
 */

const DIR = join(import.meta.dirname, '../../fixtures/pomerium');
const read = (name: string) => readFileSync(join(DIR, name), 'utf8');

type Outcome = 'loads' | { refused: string } | { loadsOrRefused: string };


const CONFIG: [string, Outcome][] = [
  ['grafana.example.com/', 'loads'],
  ['grafana.example.com/admin/users', 'loads'],
  ['wiki.example.com/', 'loads'],
  ['status.example.com/', 'loads'],
  ['chat.example.com/', 'loads'],
  ['ops.example.com/', 'loads'],
  ['vault.example.com/', 'loads'],
  ['api.example.com/', 'loads'],
  ['docs.example.com/exact', 'loads'],
  ['legacy.example.com/v1/x', 'loads'],
  ['rewrite.example.com/app/x', 'loads'],
  ['regex-rewrite.example.com/service/a/b', 'loads'],
  ['host.example.com/', 'loads'],
  ['host-header.example.com/', 'loads'],
  ['host-path.example.com/', 'loads'],
  ['jwt.example.com/', 'loads'],
  ['weighted.example.com/', 'loads'],
  ['tls.example.com/', 'loads'],
  ['skip.example.com/', 'loads'],
  ['device.example.com/', { refused: 'device: not supported: Gatehouse has no device identity' }],
  ['mtls.example.com/secure/x', { refused: 'invalid_client_certificate: not supported' }],
  ['certs.example.com/', { refused: 'client_certificate: not supported' }],
  ['office.example.com/', 'loads'],
];

/** `expected[i]` is the file's route i: an address it should match (host + path) and its outcome. */
function check(result: TranslationResult, expected: [string, Outcome][]): void {
  const table = buildRouteTable(result.specs, result.issues, { closed: result.closed ?? [], owners: new Map() });
  expected.forEach(([address, outcome], index) => {
    const slash = address.indexOf('/');
    const host = address.slice(0, slash);
    const claim = matchClaim(table, host, address.slice(slash));
    const mine = (source: { kind: string; index?: number | null }) => source.kind === 'file' && source.index === index;
    const served = claim?.route != null && claim.route.sources.some(mine);
    const closed = claim !== undefined && claim.route === null && claim.state === 'misconfigured' && (result.closed ?? []).some((c) => mine(c.source) && c.hosts.includes(host));
    const reasons = result.issues.filter((i) => mine(i.source)).map((i) => i.message).join('\n');
    if (outcome === 'loads') {
      expect(served, `${address} loads: ${reasons}`).toBe(true);
    } else if ('refused' in outcome) {
      expect(closed, `${address} is held closed`).toBe(true);
      expect(reasons, address).toContain(outcome.refused);
    } else if (!served) {
      // Loads, or is refused by name and held closed: never dropped, never served by a broader route.
      expect(closed, `${address} is held closed`).toBe(true);
      expect(reasons, address).toContain(outcome.loadsOrRefused);
    }
  });
}

describe('our Pomerium fixtures', () => {
  it('config.yaml: a whole Pomerium config, every option and criterion', () => {
    const parsed = parseRoutesFile(read('config.yaml'), 'config.yaml');
    if (!parsed.ok) throw new Error(parsed.error);
    check(parsed.result, CONFIG);
    // Every route is accounted for: served, or held closed with a reason.
    expect(parsed.result.specs.length > 0).toBe(true);
    const indexes = new Set([...parsed.result.specs.map((s) => (s.source.kind === 'file' ? s.source.index : -1)), ...(parsed.result.closed ?? []).map((c) => (c.source.kind === 'file' ? c.source.index : -1))]);
    expect(indexes.size).toBe(CONFIG.length);
  });

  it('policy.yaml: the bare-list policy file', () => {
    const parsed = parseRoutesFile(read('policy.yaml'), 'policy.yaml');
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.result.issues).toEqual([]);
    check(parsed.result, [
      ['code.example.com/', 'loads'],
      ['notes.example.com/', 'loads'],
      ['public.example.com/', 'loads'],
    ]);
    expect(parsed.result.specs.find((s) => s.hosts[0] === 'public.example.com')?.policy.public).toBe(true);
  });

  it('policy-key.yaml: the policy: key beside routes:', () => {
    const parsed = parseRoutesFile(read('policy-key.yaml'), 'policy-key.yaml');
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.result.issues).toEqual([]);
    check(parsed.result, [
      ['old.example.com/', 'loads'],
      ['old.example.com/reports/q1', 'loads'],
      ['new.example.com/', 'loads'],
    ]);
  });

  it('policy.b64: the base64 POLICY variable', () => {
    const decoded = decodePolicyEnv(read('policy.b64'));
    expect(decoded).not.toBeNull();
    const parsed = parsePolicyEnv(decoded as string);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.result.issues).toEqual([]);
    check(parsed.result, [['code.example.com/', 'loads']]);
  });
});
