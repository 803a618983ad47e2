import { html, PAGE_HEADERS, renderDocument, type Html } from '../http/index.ts';
import type { AuditRecord } from '../observability/index.ts';
import type { RouteIssue, RouteTable } from '../routes/index.ts';
import { accessText, tableReport, type RouteReport } from './table-report.ts';

/**
 * The admin status page: what the running Gatehouse serves right now, read from the published
 * table generation (never a fresh listing). Every value from labels, the routes file or Docker
 * is hostile text: the page kit escapes all of it, and the page carries no script at all
 * (its CSP forbids any).
 */

export interface CertificateLine {
  readonly names: readonly string[];
  readonly source: string;
  readonly notAfter: string;
  readonly daysLeft: number;
}

export interface StatusSnapshot {
  readonly generation: { readonly id: number; readonly createdAt: number; readonly table: RouteTable };
  readonly discovery: { readonly state: string; readonly since: number; readonly lastError: string | null; readonly engineVersion: string | null };
  readonly identity: { readonly authUrl: string; readonly kind: string; readonly provider: string } | null;
  readonly certificates: readonly CertificateLine[];
  readonly refusals: readonly AuditRecord[];
  readonly now: number;
}

const STATUS_CSS = `main{max-width:72rem;margin:2rem auto}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem;font-size:.9rem}
th,td{text-align:left;vertical-align:top;padding:.35rem .5rem;border-bottom:1px solid #e2e5ea}
th{font-weight:600;color:#4a5568}
h2{font-size:1.1rem;margin:1.5rem 0 .25rem}
.state-live,.state-forward_auth,.ok{color:#17803d}
.state-starting,.state-unhealthy,.warn{color:#a15c00}
.state-stopped,.state-misconfigured,.bad{color:#b42318}
.none{color:#6b7280}`;

export function renderStatusPage(snapshot: StatusSnapshot): { status: number; headers: Record<string, string>; body: string } {
  const table = snapshot.generation.table;
  const report = tableReport(table);
  const conflicts = table.issues.filter((issue) => issue.code === 'conflict');
  const rejected = table.issues.filter((issue) => issue.code !== 'conflict');
  const content = html`<h1>Status</h1>
${summary(snapshot)}
<h2 id="routes">Routes (${String(report.routes.length)})</h2>
${report.routes.length === 0 ? none('No routes are published.') : routesTable(report.routes)}
<h2 id="closed">Closed addresses (${String(report.closed.length)})</h2>
${
  report.closed.length === 0
    ? none('None.')
    : html`<table><thead><tr><th>Address</th><th>State</th><th>Owner</th></tr></thead><tbody>${report.closed.map(
        (claim) => html`<tr><td>${claim.urls.join(', ')}</td><td class="${`state-${claim.state}`}">${claim.state}</td><td>${claim.owner.description}</td></tr>`,
      )}</tbody></table>`
}
<h2 id="rejected">Rejected labels and routes (${String(rejected.length)})</h2>
${issuesTable(rejected)}
<h2 id="conflicts">Conflicts (${String(conflicts.length)})</h2>
${issuesTable(conflicts)}
<h2 id="networks">Networks chosen</h2>
${networksTable(report.routes)}
<h2 id="certificates">Certificates (${String(snapshot.certificates.length)})</h2>
${certificatesTable(snapshot.certificates)}
<h2 id="refusals">Recent refusals (${String(snapshot.refusals.length)})</h2>
${refusalsTable(snapshot.refusals)}`;
  const body = renderDocument({ title: 'Status', content, extraCss: STATUS_CSS, extraDarkCss: 'th,td{border-color:#2a2e37}', noIndex: true });
  return { status: 200, headers: { ...PAGE_HEADERS }, body };
}

function none(text: string): Html {
  return html`<p class="none">${text}</p>`;
}

function summary(snapshot: StatusSnapshot): Html {
  const d = snapshot.discovery;
  const discoveryClass = d.state === 'up' ? 'ok' : 'bad';
  const identity = snapshot.identity;
  return html`<table><tbody>
<tr><th>Table generation</th><td>${String(snapshot.generation.id)}, published ${new Date(snapshot.generation.createdAt).toISOString()}</td></tr>
<tr><th>Discovery</th><td><span class="${discoveryClass}" id="discovery-state">${d.state}</span> since ${new Date(d.since).toISOString()}${d.engineVersion === null ? '' : `, Docker ${d.engineVersion}`}${d.lastError === null ? '' : html` — last error: ${d.lastError}`}</td></tr>
<tr><th>Sign-in</th><td>${identity === null ? 'not configured (only public routes pass)' : `${identity.authUrl} (${identity.kind}, provider ${identity.provider})`}</td></tr>
</tbody></table>`;
}

function routesTable(routes: readonly RouteReport[]): Html {
  return html`<table><thead><tr><th>Address</th><th>Name</th><th>State</th><th>Owner</th><th>Access</th><th>Forwards to</th></tr></thead><tbody>${routes.map(
    (route) => html`<tr><td>${route.urls.join(', ')}</td><td>${route.name}</td><td class="${`state-${route.state}`}">${route.state}</td><td>${route.owner?.description ?? ''}</td><td>${accessText(route)}${
      route.bypass.length > 0 ? `; bypass ${route.bypass.join(', ')}` : ''
    }</td><td>${
      route.mode === 'forward_auth'
        ? 'the outer proxy (forward-auth)'
        : route.upstreams.map((u) => `${u.origin}${u.ready ? '' : ` (${u.state})`}`).join(', ')
    }</td></tr>`,
  )}</tbody></table>`;
}

function issuesTable(issues: readonly RouteIssue[]): Html {
  if (issues.length === 0) return none('None.');
  return html`<table><thead><tr><th>Source</th><th>Label</th><th>Problem</th></tr></thead><tbody>${issues.map(
    (issue) =>
      html`<tr><td>${issue.source.kind === 'container' ? `container ${issue.source.containerName}` : `file ${issue.source.file}`}</td><td>${issue.label ?? ''}${
        issue.value === null ? '' : html`=<code>${issue.value}</code>`
      }</td><td class="bad">${issue.message}</td></tr>`,
  )}</tbody></table>`;
}

function networksTable(routes: readonly RouteReport[]): Html {
  const rows = routes.flatMap((route) => route.upstreams.filter((u) => u.network !== undefined).map((u) => ({ route, upstream: u })));
  if (rows.length === 0) return none('No route reaches a container over a Docker network.');
  return html`<table><thead><tr><th>Route</th><th>Network</th><th>Address</th></tr></thead><tbody>${rows.map(
    ({ route, upstream }) => html`<tr><td>${route.urls[0] ?? route.id}</td><td>${upstream.network ?? ''}</td><td>${upstream.origin}</td></tr>`,
  )}</tbody></table>`;
}

function certificatesTable(certificates: readonly CertificateLine[]): Html {
  if (certificates.length === 0) return none('No certificates: Gatehouse serves no HTTPS itself.');
  return html`<table><thead><tr><th>Names</th><th>Source</th><th>Expires</th></tr></thead><tbody>${certificates.map(
    (c) => html`<tr><td>${c.names.join(', ')}</td><td>${c.source}</td><td class="${c.daysLeft < 7 ? 'bad' : c.daysLeft < 21 ? 'warn' : 'ok'}">${c.notAfter} (${String(c.daysLeft)} days)</td></tr>`,
  )}</tbody></table>`;
}

function refusalsTable(refusals: readonly AuditRecord[]): Html {
  const rows = refusals.flatMap((r) => (r.event === 'refused' ? [r] : []));
  if (rows.length === 0) return none('No refusals since Gatehouse started.');
  return html`<table><thead><tr><th>Time</th><th>User</th><th>Request</th><th>Route</th><th>Why</th></tr></thead><tbody>${rows.map(
    (r) =>
      html`<tr><td>${r.time}</td><td>${r.user ?? 'nobody'}</td><td>${r.method} ${r.host}${r.path}${r.via === 'forward_auth' ? ' (forward-auth)' : ''}</td><td>${r.route}</td><td>${r.reason}${
        r.entry === null ? '' : html` by <code>${r.entry}</code>`
      }</td></tr>`,
  )}</tbody></table>`;
}
