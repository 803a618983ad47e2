import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeRequestPath } from '../../../src/routes/index.ts';
import { ensureNginxImage } from '../../helpers/images.ts';
import {
  ADMIN_CONTENT,
  makeTree,
  PUBLIC_CONTENT,
  startBusybox,
  startNginx,
  startNodeLenient,
  startNodeStatic,
  startPython,
  type PathServer,
} from './path-servers.ts';
import { rawGet, spec, startProxy, table, type Harness, type RawResponse } from './support.ts';

/**
 * The path table: Gatehouse in front of real servers, each serving a tree with
 * `/admin/secret.txt` and public files, with a strict `/admin` route (nobody is let in) and a
 * public `/` route to the same server. For every request form below, the rule that decided
 * must be the rule whose content the server served: the admin file is never served under the
 * `/` rule. Each form is also sent to each server directly, which shows what the server makes
 * of it (the attack that Gatehouse stands between).
 */
type Outcome = 'admin' | 'public' | 'refused';

const CASES: Array<[raw: string, outcome: Outcome]> = [
  // Controls: the plain forms.
  ['/admin/secret.txt', 'admin'],
  ['/pub/file.txt', 'public'],
  ['/', 'public'],
  // Empty segments, merged for matching and forwarding.
  ['//admin/secret.txt', 'admin'],
  ['///admin//secret.txt', 'admin'],
  ['/pub//../admin/secret.txt', 'admin'],
  // Dot segments, raw and encoded, resolved.
  ['/./admin/secret.txt', 'admin'],
  ['/pub/../admin/secret.txt', 'admin'],
  ['/pub/%2e%2e/admin/secret.txt', 'admin'],
  ['/%2E%2E/admin/secret.txt', 'admin'],
  ['/pub/.%2e/admin/secret.txt', 'admin'],
  // Encoded letters and case.
  ['/%61dmin/secret.txt', 'admin'],
  ['/ad%6Din/secret.txt', 'admin'],
  ['/ADMIN/secret.txt', 'admin'],
  ['/Admin/SECRET.TXT', 'admin'],
  // `;` parameters.
  ['/admin;x=1/secret.txt', 'refused'],
  ['/;/admin/secret.txt', 'refused'],
  ['/;x/admin/secret.txt', 'refused'],
  ['/admin/secret.txt;x=1', 'admin'],
  ['/admin;x=1', 'admin'],
  ['/pub/..;/admin/secret.txt', 'refused'],
  ['/admin%3b/secret.txt', 'refused'],
  // Trailing dots and spaces.
  ['/admin./secret.txt', 'refused'],
  ['/admin%20/secret.txt', 'refused'],
  ['/admin%2e/secret.txt', 'refused'],
  ['/admin/secret.txt.', 'refused'],
  ['/admin.%20/secret.txt', 'refused'],
  ['/admin::$INDEX_ALLOCATION/secret.txt', 'refused'],
  // Encoded separators.
  ['/pub%2f..%2fadmin/secret.txt', 'refused'],
  ['/admin%2fsecret.txt', 'refused'],
  ['/pub%5c..%5cadmin/secret.txt', 'refused'],
  ['/pub\\..\\admin/secret.txt', 'refused'],
  // Overlong UTF-8, double encoding, Unicode folding.
  ['/pub/%c0%ae%c0%ae/admin/secret.txt', 'refused'],
  ['/pub/%e0%80%ae%e0%80%ae/admin/secret.txt', 'refused'],
  ['/pub/%252e%252e/admin/secret.txt', 'refused'],
  ['/%2561dmin/secret.txt', 'refused'],
  ['/pub/%EF%BC%8E%EF%BC%8E/admin/secret.txt', 'refused'],
  ['/%EF%BD%81dmin/secret.txt', 'refused'],
  ['/adm%C4%B1n/secret.txt', 'refused'],
  // Fragments and the query.
  ['/#/../admin/secret.txt', 'refused'],
  ['/pub/file.txt?x=/../../admin/secret.txt', 'public'],
  ['/admin/secret.txt?x=/pub/', 'admin'],
];

const ROUTE_STATUS: Record<Outcome, number> = { admin: 403, public: -1, refused: 400 };

/** What a response served: the admin file, public content, or only a status. */
function served(response: RawResponse): string {
  if (response.body.includes(ADMIN_CONTENT)) return 'ADMIN';
  if (response.body.includes(PUBLIC_CONTENT)) return 'public';
  return String(response.status);
}

describe('the path table against real servers', () => {
  let tree: Awaited<ReturnType<typeof makeTree>>;
  const servers: PathServer[] = [];
  let gh: Harness;
  const restricted = { public: false, allow: [{ kind: 'any' as const }], deny: [], bypass: [], corsPreflight: false };
  const hostOf = (i: number) => `s${i}.test`;

  beforeAll(async () => {
    tree = await makeTree();
    await ensureNginxImage();
    const started = await Promise.allSettled([
      startBusybox(tree.root),
      startNginx(tree.root),
      startPython(tree.root),
      startNodeStatic(tree.root),
      startNodeLenient(tree.root),
    ]);
    for (const result of started) if (result.status === 'fulfilled') servers.push(result.value);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const specs = servers.flatMap((server, i) => [
      spec({ name: `root-${i}`, hosts: [hostOf(i)], path: '/', origin: `http://127.0.0.1:${server.port}` }),
      spec({ name: `admin-${i}`, hosts: [hostOf(i)], path: '/admin', origin: `http://127.0.0.1:${server.port}`, policy: restricted }),
    ]);
    gh = await startProxy({ table: table(...specs) });
  });

  afterAll(async () => {
    await gh?.close();
    await Promise.all(servers.map((server) => server.close()));
    await tree?.remove();
  });

  it('every server serves the admin file at its plain path, so the table can fail', async () => {
    expect(servers.length).toBe(5);
    for (const server of servers) {
      expect(served(await rawGet(server.port, '/admin/secret.txt', [], 'upstream.test')), server.name).toBe('ADMIN');
      expect(served(await rawGet(server.port, '/pub/file.txt', [], 'upstream.test')), server.name).toBe('public');
    }
  });

  it.each(CASES)('%s: the rule that decides is the rule whose content is served (%s)', async (raw, outcome) => {
    for (const [i, server] of servers.entries()) {
      const before = server.received?.length ?? 0;
      const response = await rawGet(gh.port, raw, [], hostOf(i));
      const what = `${server.name}: ${raw}`;
      if (outcome === 'public') {
        // Forwarded under the `/` rule: whatever the server made of it, never the admin file.
        expect(served(response), what).not.toBe('ADMIN');
        expect([ROUTE_STATUS.admin, ROUTE_STATUS.refused], what).not.toContain(response.status);
      } else {
        expect(response.status, what).toBe(ROUTE_STATUS[outcome]);
        expect(response.body, what).not.toContain(ADMIN_CONTENT);
      }
      if (server.received !== null) {
        const forwarded = server.received.slice(before);
        if (outcome === 'public') {
          // The upstream receives exactly the canonical path the decision was made on.
          const canonical = normalizeRequestPath(raw);
          expect(canonical.ok && forwarded).toEqual([canonical.ok ? canonical.path + canonical.query : '']);
        } else {
          expect(forwarded, what).toEqual([]);
        }
      }
    }
  });

  it('what each server makes of each form on its own (the table in SECURITY.md)', async () => {
    const rows: string[] = [];
    let adminReachable = 0;
    for (const [raw, outcome] of CASES) {
      const cells: string[] = [];
      for (const server of servers) {
        const direct = served(await rawGet(server.port, raw, [], 'upstream.test'));
        if (direct === 'ADMIN') adminReachable++;
        // Where a server alone serves the admin file, Gatehouse decided with the admin rule or refused.
        if (direct === 'ADMIN') expect(outcome, `${server.name}: ${raw}`).not.toBe('public');
        cells.push(direct);
      }
      rows.push(`| \`${raw.replace(/\|/g, '\\|')}\` | ${outcome} | ${cells.join(' | ')} |`);
    }
    // Far more forms than the plain one reach the admin file on some server: the table is not vacuous.
    expect(adminReachable).toBeGreaterThan(servers.length * 5);
    const header = `| request path | Gatehouse decides | ${servers.map((s) => s.name).join(' | ')} |\n|---|---|${servers.map(() => '---').join('|')}|`;
    const out = process.env.GATEHOUSE_PATH_TABLE_OUT;
    if (out) await writeFile(out, `${header}\n${rows.join('\n')}\n`);
  });
});
