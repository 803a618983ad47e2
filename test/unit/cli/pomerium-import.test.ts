import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planImport, renderImport } from '../../../src/cli/pomerium-import.ts';
import { parseRoutesFile } from '../../../src/config/index.ts';
import { translateContainers } from '../../../src/labels/index.ts';
import { evaluate, openAccess, type Identity, type PolicyRequest } from '../../../src/policy/index.ts';
import type { RouteSpec } from '../../../src/routes/index.ts';
import { container, listing, OPTIONS } from '../labels/containers.ts';

/**
 * `gatehouse import pomerium` round-trips: the labels it prints, translated by Gatehouse's own
 * label translator, decide every request exactly as the file's routes do.
 */

const DIR = join(import.meta.dirname, '../../fixtures/pomerium');

const people: (Identity | null)[] = [
  null,
  ...[
    ['alice@example.com', ['grafana-admins'], {}],
    ['bob@example.com', [], { department: 'engineering' }],
    ['mallory@example.com', ['banned'], { role: 'admin' }],
    ['eve@evil.test', [], { department: ['sales', 'research'] }],
    ['dave@example.org', ['grafana-admins'], { role: 'viewer' }],
    ['ALICE@Example.com', [], {}],
  ].map(([email, groups, claims]) => ({ sub: `sub-${String(email).split('@')[0]}`, email: email as string, emailVerified: true, name: null, groups: groups as string[], claims: claims as Record<string, unknown> })),
  { sub: 'sub-carol', email: null, emailVerified: null, name: 'Carol', groups: [], claims: {} },
  { sub: 'sub-frank', email: 'frank@example.com', emailVerified: false, name: null, groups: [], claims: {} },
];
const paths = ['/', '/admin', '/admin/users', '/administrator', '/api/x'];
const methods = ['GET', 'POST', 'DELETE', 'OPTIONS'];
const headerSets: PolicyRequest['headers'][] = [{}, { origin: 'https://web.example.com', 'access-control-request-method': 'PUT' }];

function decide(spec: RouteSpec, who: Identity | null, request: PolicyRequest) {
  return openAccess(spec.policy, request) ?? evaluate(spec.policy, who, request, []);
}

/** The labels of each service on one container, through the label translator. */
function labelSpecs(plan: ReturnType<typeof planImport>): RouteSpec[] {
  const containers = plan.containers.map((c, i) =>
    container({ id: `c0ffee00000${i}`, name: c.service, labels: Object.assign({}, ...c.routes.map((r) => r.labels)), exposedPorts: [80, 3000, 8080] }),
  );
  const result = translateContainers(listing(containers), OPTIONS);
  expect(result.issues).toEqual([]);
  return result.specs;
}

describe('gatehouse import pomerium', () => {
  it('round-trips: the printed labels decide every identity × path × method × preflight as the file does', () => {
    const text = readFileSync(join(DIR, 'roundtrip.yaml'), 'utf8');
    const plan = planImport(text, 'roundtrip.yaml');
    expect(plan.error).toBeNull();
    const file = parseRoutesFile(text, 'roundtrip.yaml');
    if (!file.ok) throw new Error(file.error);
    const fromLabels = labelSpecs(plan);
    const translated = plan.containers.flatMap((c) => c.routes.map((r) => r.index));
    expect(translated.sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(plan.kept.map((k) => k.index)).toEqual([7]);

    let compared = 0;
    for (const index of translated) {
      const original = file.result.specs.find((s) => s.source.kind === 'file' && s.source.index === index) as RouteSpec;
      // A Pomerium prefix may keep its trailing `/`; the label path is the same prefix by segment.
      const bare = (path: string) => (path === '/' ? path : path.replace(/\/$/, ''));
      const twin = fromLabels.find((s) => s.hosts.join() === original.hosts.join() && bare(s.path) === bare(original.path));
      expect(twin, `routes[${index}] has a label twin`).toBeDefined();
      for (const who of people) {
        for (const path of paths) {
          for (const method of methods) {
            for (const headers of headerSets) {
              const request: PolicyRequest = { method, path, headers, now: Date.UTC(2026, 11, 2, 12) };
              expect(decide(twin as RouteSpec, who, request), `routes[${index}] ${who?.email ?? who?.sub ?? 'anonymous'} ${method} ${path}`).toEqual(decide(original, who, request));
              compared += 1;
            }
          }
        }
      }
      // The upstream and the rest of the route carry over too.
      const port = (origin: string) => {
        const url = new URL(origin);
        return `${url.protocol}${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
      };
      expect(port((twin as RouteSpec).upstream.origin)).toBe(port(original.upstream.origin));
      expect([(twin as RouteSpec).websockets, (twin as RouteSpec).hostHeader, (twin as RouteSpec).policy.corsPreflight]).toEqual([original.websockets, original.hostHeader, original.policy.corsPreflight]);
    }
    expect(compared).toBe(7 * people.length * paths.length * methods.length * headerSets.length);
  });

  it('says which routes stay in the file, and why; prints usable compose YAML', () => {
    const plan = planImport(readFileSync(join(DIR, 'roundtrip.yaml'), 'utf8'), 'roundtrip.yaml');
    expect(plan.kept).toEqual([{ index: 7, from: 'https://ops.example.com', reasons: [expect.stringContaining('policy: and(domain:example.com, http_method:GET) is a rule labels cannot say')] }]);
    const text = renderImport(plan);
    expect(text).toContain('# service grafana: paste under its labels:\nlabels:\n');
    expect(text).toContain('  iap.r-grafana.allow: "@example.com"\n  iap.r-grafana.deny: "mallory@example.com"\n');
    expect(text).toContain('#   routes[7] https://ops.example.com\n');
  });

  it('the global settings come out as the GATEHOUSE_* environment, secrets never printed', () => {
    const plan = planImport(readFileSync(join(DIR, 'config.yaml'), 'utf8'), 'config.yaml');
    const env = Object.fromEntries(plan.env.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      GATEHOUSE_OIDC_ISSUER: 'https://login.microsoftonline.com/0b5e0c8e-1111-2222-3333-444455556666/v2.0',
      GATEHOUSE_AUTH_URL: 'https://authenticate.example.com',
      GATEHOUSE_OIDC_CLIENT_SECRET_FILE: '/run/secrets/idp_client_secret',
      GATEHOUSE_SECRET: '<the value of config.yaml: cookie_secret>',
      GATEHOUSE_TLS_DIR: '/etc/pomerium/certs',
      GATEHOUSE_HTTPS_LISTEN: '0.0.0.0:8443',
    });
    expect(renderImport(plan)).not.toContain('V2hhdCBhIGxvdmVseSB0aGlydHktdHdvIGJ5dGUga2V5IQ==');
    // Refused routes stay in the file with the refusal.
    expect(plan.kept.find((k) => k.from === 'https://device.example.com')?.reasons.join('\n')).toContain('device: not supported');
  });

  it('a file that does not parse says so', () => {
    expect(planImport('routes: [', 'bad.yaml').error).toMatch(/^bad\.yaml:/);
  });
});
