import { existsSync, writeFileSync } from 'node:fs';
import { throughputRows } from './report.mjs';
import { shippedPeakRssBytes } from './targets.mjs';

/**
 * One picture of a run: throughput per scenario, the targets with pass/miss, memory against
 * its targets, and label-to-live against the Docker floor. Drawn as SVG here and turned into a
 * PNG by the Debian Chromium through playwright-core (no browser is ever downloaded).
 */

const MB = 2 ** 20;
const COLORS = { direct: '#9e9e9e', nginx: '#2e7d32', caddy: '#1565c0', gatehouse: '#ef6c00', 'gatehouse-auth': '#8e24aa' };
const FONT = 'font-family="DejaVu Sans, Arial, sans-serif"';
const WIDTH = 1400;

const esc = (text) => String(text).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
const text = (x, y, content, { size = 14, weight = 'normal', anchor = 'start', fill = '#212121' } = {}) =>
  `<text x="${x}" y="${y}" ${FONT} font-size="${size}" font-weight="${weight}" text-anchor="${anchor}" fill="${fill}">${esc(content)}</text>`;
const rect = (x, y, w, h, fill, extra = '') => `<rect x="${x}" y="${y}" width="${Math.max(0, w)}" height="${h}" fill="${fill}" ${extra}/>`;
const line = (x1, y1, x2, y2, stroke, extra = '') => `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${stroke}" ${extra}/>`;
const k = (v) => (v >= 10_000 ? `${(v / 1000).toFixed(1)}k` : Math.round(v).toLocaleString('en-US'));

/**
 * The proxies sit far below nginx and the direct ceiling; a linear axis up to those would leave
 * them as slivers. The axis ends a little above the fastest other row, and longer bars are cut
 * with a break mark and keep their figure.
 */
function throughputPanel(results, x, y, width) {
  const rows = throughputRows(results);
  const labelWidth = 330;
  const barMax = width - labelWidth - 150;
  const others = rows.filter((r) => r.group !== 'direct' && r.group !== 'nginx').map((r) => r.rps.max ?? 0);
  const top = Math.max(...(others.length > 0 ? others : rows.map((r) => r.rps.max ?? 0)), 1) * 1.15;
  const scale = (v) => Math.min(v, top) / top * barMax;
  const parts = [text(x, y, 'Requests per second, median of repetitions (black line: min–max)', { size: 17, weight: 'bold' })];
  let cy = y + 22;
  for (const row of rows) {
    const bx = x + labelWidth;
    const value = row.rps.median ?? 0;
    parts.push(text(bx - 10, cy + 19, row.label + (row.expectStatus !== 200 ? ` (${row.expectStatus})` : ''), { anchor: 'end', size: 14 }));
    parts.push(rect(bx, cy + 4, scale(value), 22, COLORS[row.group] ?? '#757575', 'rx="3"'));
    if (value > top) {
      const cut = bx + barMax - 40;
      parts.push(`<path d="M${cut} ${cy + 2} l6 13 l-6 13 M${cut + 8} ${cy + 2} l6 13 l-6 13" stroke="#ffffff" stroke-width="4" fill="none"/>`);
    } else if (row.rps.min !== null) {
      parts.push(line(bx + scale(row.rps.min), cy + 15, bx + scale(row.rps.max), cy + 15, '#212121', 'stroke-width="2"'));
    }
    const ratioText = row.vsCaddy !== null && row.group !== 'caddy' ? `  ${row.vsCaddy.toFixed(2)}× Caddy` : '';
    const end = value > top ? bx + barMax : bx + scale(Math.max(value, row.rps.max ?? 0));
    parts.push(text(end + 8, cy + 19, `${k(value)}${ratioText}${row.failed ? '  FAILED' : ''}`, { size: 13, weight: 'bold' }));
    cy += 32;
  }
  for (const [what] of Object.entries(results.unavailable)) {
    parts.push(text(x + labelWidth - 10, cy + 19, `${what}: not available`, { anchor: 'end', size: 14, fill: '#9e9e9e' }));
    cy += 28;
  }
  parts.push(text(x + labelWidth, cy + 12, 'bars with a break mark are cut: their figure is written beside them', { size: 11, fill: '#616161' }));
  return { svg: parts.join(''), height: cy + 20 - y };
}

function cpuPanel(results, x, y, width) {
  const rows = throughputRows(results).filter((r) => r.group !== 'direct' && r.cpuUs !== null);
  return barsWithGoals(
    'CPU time of the proxy per request, µs (lower is better)',
    rows.map((r) => ({ label: r.label, value: r.cpuUs, color: COLORS[r.group] ?? '#757575' })),
    x,
    y,
    width,
    'µs',
    330,
    false,
  );
}

function targetsPanel(results, x, y, width) {
  const parts = [text(x, y, 'Targets (same run)', { size: 17, weight: 'bold' })];
  let cy = y + 16;
  for (const t of results.targets) {
    const color = t.pass === null ? '#9e9e9e' : t.pass ? '#2e7d32' : '#c62828';
    const badge = t.pass === null ? 'n/a' : t.pass ? 'PASS' : 'MISS';
    parts.push(rect(x, cy + 4, 52, 24, color, 'rx="4"'), text(x + 26, cy + 21, badge, { anchor: 'middle', size: 12, weight: 'bold', fill: '#ffffff' }));
    parts.push(text(x + 62, cy + 15, t.name, { size: 13, weight: 'bold' }));
    parts.push(text(x + 62, cy + 31, `${t.measured ?? '–'}  (goal ${t.target})`, { size: 12, fill: '#424242' }));
    cy += 40;
  }
  return { svg: parts.join(''), height: cy - y, width };
}

function barsWithGoals(title, items, x, y, width, unit, labelWidth = 330, legend = true) {
  const parts = [text(x, y, title, { size: 17, weight: 'bold' })];
  const barMax = width - labelWidth - 80;
  const top = Math.max(...items.flatMap((i) => [i.value ?? 0, i.goal ?? 0]), 1);
  let cy = y + 16;
  for (const item of items) {
    const bx = x + labelWidth;
    parts.push(text(bx - 10, cy + 19, item.label, { anchor: 'end', size: 13 }));
    parts.push(rect(bx, cy + 5, ((item.value ?? 0) / top) * barMax, 20, item.color, 'rx="3"'));
    parts.push(text(bx + ((item.value ?? 0) / top) * barMax + 8, cy + 20, item.value === null ? '–' : `${item.value.toFixed(0)} ${unit}`, { size: 12, weight: 'bold' }));
    if (item.goal !== undefined && item.goal !== null) {
      const gx = bx + (item.goal / top) * barMax;
      parts.push(line(gx, cy + 1, gx, cy + 29, '#c62828', 'stroke-width="2" stroke-dasharray="4 3"'));
    }
    cy += 30;
  }
  if (legend) parts.push(text(x + labelWidth, cy + 16, 'red dashed line: target', { size: 11, fill: '#c62828' }));
  return { svg: parts.join(''), height: cy + 20 - y };
}

export function renderSvg(results) {
  const m = results.machine;
  const header = [
    text(24, 36, 'Gatehouse benchmarks', { size: 24, weight: 'bold' }),
    text(24, 60, `${m.date.slice(0, 10)} · ${m.cpuModel}, ${m.cores} cores · Linux ${m.kernel} · Node ${m.versions.node} · ${results.mode} mode · proxy pinned to one core`, { size: 13, fill: '#424242' }),
  ];
  const left = throughputPanel(results, 24, 100, 860);
  const right = targetsPanel(results, 930, 100, 450);
  const cpuY = 100 + left.height + 30;
  const cpu = cpuPanel(results, 24, cpuY, 860);
  const idle = results.idle ?? {};
  const memY = cpuY + cpu.height + 20;
  const memory = barsWithGoals(
    'Memory, RSS in MB',
    [
      { label: 'Gatehouse idle, 1 route', value: idle.public1 == null ? null : idle.public1 / MB, goal: 70, color: COLORS.gatehouse },
      { label: 'Gatehouse idle, 1,000 routes', value: idle.public1000 == null ? null : idle.public1000 / MB, goal: 80, color: COLORS.gatehouse },
      { label: 'Gatehouse peak, signed-in load', value: (results.throughput['gh-auth']?.summary.peakRssBytes ?? 0) / MB || null, goal: 120, color: COLORS.gatehouse },
      { label: 'Gatehouse peak, redirect flood', value: (results.throughput['gh-redirect']?.summary.peakRssBytes ?? 0) / MB || null, goal: 150, color: COLORS.gatehouse },
      { label: 'Gatehouse peak under load (any row)', value: shippedPeakRssBytes(results) / MB || null, color: COLORS.gatehouse },
      ...(results.quickStart?.totalWithoutAppBytes ? [{ label: 'quick start, all but the app', value: results.quickStart.totalWithoutAppBytes / MB, goal: 130, color: COLORS.gatehouse }] : []),
      ...(results.throughput['gh-public-v8default']
        ? [{ label: "peak, Node's default heap", value: (results.throughput['gh-public-v8default'].summary.peakRssBytes ?? 0) / MB || null, color: COLORS.gatehouse }]
        : []),
      { label: 'bare Node', value: idle.bareNode == null ? null : idle.bareNode / MB, color: COLORS.direct },
      { label: 'Node + dependencies only', value: idle.dependencies == null ? null : idle.dependencies / MB, color: COLORS.direct },
      { label: 'nginx idle', value: idle.nginx == null ? null : idle.nginx / MB, color: COLORS.nginx },
      { label: 'Caddy idle', value: idle.caddy == null ? null : idle.caddy / MB, color: COLORS.caddy },
    ],
    24,
    memY,
    860,
    'MB',
  );
  const live = results.labelToLive;
  const liveY = 100 + right.height + 40;
  const liveItems =
    live && !live.error
      ? [
          { label: 'via Gatehouse, p50', value: live.liveMs.p50, color: COLORS.gatehouse },
          { label: 'Docker floor (direct), p50', value: live.floorMs.p50, color: COLORS.direct },
          { label: 'via Gatehouse, p95', value: live.liveMs.p95, color: COLORS.gatehouse },
          { label: 'Docker floor (direct), p95', value: live.floorMs.p95, color: COLORS.direct },
          { label: 'Gatehouse over the floor, p95', value: live.overheadMs.p95, goal: 100, color: COLORS.gatehouse },
          { label: 'docker stop → 503/404, p95', value: live.goneMs.p95, color: COLORS.direct },
          ...(live.burst ? [{ label: `burst of ${live.burst.count}: after last start`, value: live.burst.allLiveAfterLastStartMs, goal: 1000, color: COLORS.gatehouse }] : []),
        ]
      : [];
  const liveChart = liveItems.length > 0 ? barsWithGoals('Label to live, ms', liveItems, 930, liveY, 450, 'ms', 215) : { svg: '', height: 0 };
  const height = Math.max(liveY + liveChart.height + 80, memY + memory.height) + 20;
  const legend = Object.entries({ direct: 'direct / floor', nginx: 'nginx', caddy: 'Caddy', gatehouse: 'Gatehouse public', 'gatehouse-auth': 'Gatehouse sign-in' })
    .map(([group, label], i) => rect(930 + (i % 3) * 150, height - 70 + Math.floor(i / 3) * 24, 14, 14, COLORS[group]) + text(950 + (i % 3) * 150, height - 58 + Math.floor(i / 3) * 24, label, { size: 12 }))
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">${rect(0, 0, WIDTH, height, '#ffffff')}${header.join('')}${left.svg}${right.svg}${cpu.svg}${memory.svg}${liveChart.svg}${legend}</svg>`;
}

/** Writes the SVG and renders it to `pngPath` with /usr/bin/chromium. Returns null or the reason it could not. */
export async function writeChart(results, { svgPath, pngPath }) {
  const svg = renderSvg(results);
  writeFileSync(svgPath, svg);
  const executablePath = '/usr/bin/chromium';
  if (!existsSync(executablePath)) return `Chromium is not installed at ${executablePath}; the chart is only in ${svgPath}`;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const height = Number(/height="(\d+)"/.exec(svg)[1]);
    const page = await browser.newPage({ viewport: { width: WIDTH, height }, deviceScaleFactor: 1 });
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    await page.screenshot({ path: pngPath, clip: { x: 0, y: 0, width: WIDTH, height } });
    return null;
  } finally {
    await browser.close();
  }
}
