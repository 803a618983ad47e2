import { loadConfig, readIdentitySettings } from '../config/index.ts';
import { accessText, explain, type ExplainQuery, type Explanation } from '../proxy/index.ts';
import { buildLocalTable } from './routes.ts';
import { askRunning } from './running.ts';

const USAGE = `Usage: gatehouse explain [--user EMAIL] [--sub ID] [--groups a,b] [--claim KEY=VALUE] [--provider NAME]
                         [--ip ADDRESS] [--method GET] [--origin URL --request-method PUT]
                         [--json] [--local] URL

Which route answers URL, in which state, which rule decides for this user and why, and where the
request would go. Without --user: nobody signed in. Asks the running Gatehouse (its admin
listener) when one answers with the same settings, else builds the table like "gatehouse routes".`;

/** `gatehouse explain …`: the decision a real request would get, from the same passes. */
export async function explainCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args);
  if (!parsed.ok) {
    process.stderr.write(`gatehouse explain: ${parsed.problem}\n\n${USAGE}\n`);
    return 2;
  }
  const { query, json, local } = parsed;
  const config = loadConfig();
  if (!local) {
    const params = new URLSearchParams({ url: query.url });
    if (query.user) params.set('user', query.user);
    if (query.sub) params.set('sub', query.sub);
    if (query.method) params.set('method', query.method);
    if (query.provider) params.set('provider', query.provider);
    if (query.ip) params.set('ip', query.ip);
    if (query.origin) params.set('origin', query.origin);
    if (query.requestMethod) params.set('request_method', query.requestMethod);
    for (const group of query.groups ?? []) params.append('groups', group);
    for (const [key, value] of Object.entries(query.claims ?? {})) params.append('claim', `${key}=${value}`);
    const running = await askRunning<Explanation>(config, `/api/explain?${params}`);
    if (running.ok) {
      process.stderr.write(`gatehouse explain: asked the running Gatehouse at ${running.url}\n`);
      return print(running.body, json);
    }
    process.stderr.write(`gatehouse explain: ${running.reason}; building the table from Docker and the routes file instead\n`);
  }
  const { table } = await buildLocalTable(config, 'explain');
  const result = explain(table, query, readIdentitySettings(config)?.defaultAllow ?? []);
  if (!result.ok) {
    process.stderr.write(`gatehouse explain: ${result.problem}\n`);
    return 2;
  }
  return print(result.explanation, json);
}

function print(explanation: Explanation, json: boolean): number {
  const { instance: _instance, ...rest } = explanation as Explanation & { instance?: unknown };
  process.stdout.write(json ? `${JSON.stringify(rest, null, 2)}\n` : renderExplanation(explanation));
  return 0;
}

export function renderExplanation(e: Explanation): string {
  const who = e.request.user === null ? 'nobody signed in' : `${e.request.user}${e.request.groups.length > 0 ? ` (groups: ${e.request.groups.join(', ')})` : ''}`;
  const lines = [`${e.request.method} ${e.request.host}${e.request.path} as ${who}${e.request.provider ? `, signed in at ${e.request.provider}` : ''}${e.request.ip ? `, from ${e.request.ip}` : ''}`];
  if (e.route === null) {
    lines.push(`  route:    none`);
  } else {
    lines.push(`  route:    ${e.route.urls.join(', ')}  (${e.route.id})`);
    lines.push(`  state:    ${e.route.state}${e.route.owner === null ? '' : `, owner ${e.route.owner.description}`}`);
    lines.push(`  access:   ${accessText(e.route)}${e.route.bypass.length > 0 ? `; bypass ${e.route.bypass.join(', ')}` : ''}`);
  }
  const verdict = { allow: 'allowed', sign_in: 'sign-in required', deny: 'refused', page: 'answered by Gatehouse' }[e.outcome];
  lines.push(`  decision: ${verdict}${e.decision === null ? '' : ` (${e.decision.reason}${e.decision.entry === null ? '' : `, entry "${e.decision.entry}"`})`}`);
  lines.push(`  why:      ${e.why}`);
  lines.push(`  answer:   ${e.status}${e.page === null ? '' : ` (${e.page})`}`);
  if (e.destination === 'outer_proxy') lines.push('  goes to:  the outer proxy forwards it (forward-auth mode)');
  else if (e.destination !== null) {
    for (const target of e.destination) lines.push(`  goes to:  ${target.origin}${target.network === null ? '' : ` on network ${target.network}`}${target.ready ? '' : ` (${target.state})`}`);
  }
  return `${lines.join('\n')}\n`;
}

type Parsed = { ok: true; query: ExplainQuery; json: boolean; local: boolean } | { ok: false; problem: string };

function parseArgs(args: string[]): Parsed {
  const groups: string[] = [];
  const claims: Record<string, string> = {};
  const values: Record<string, string> = {};
  let url: string | undefined;
  let json = false;
  let local = false;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] as string;
    if (arg === '--json') json = true;
    else if (arg === '--local') local = true;
    else if (['--user', '--sub', '--groups', '--claim', '--provider', '--ip', '--method', '--origin', '--request-method'].includes(arg)) {
      const value = args[i + 1];
      if (value === undefined) return { ok: false, problem: `${arg} needs a value` };
      i += 1;
      if (arg === '--groups') groups.push(...value.split(',').map((g) => g.trim()).filter(Boolean));
      else if (arg === '--claim') {
        const eq = value.indexOf('=');
        if (eq <= 0) return { ok: false, problem: `--claim takes KEY=VALUE, not "${value}"` };
        claims[value.slice(0, eq)] = value.slice(eq + 1);
      } else values[arg === '--request-method' ? 'requestMethod' : arg.slice(2)] = value;
    } else if (arg.startsWith('-')) return { ok: false, problem: `unknown option ${arg}` };
    else if (url === undefined) url = arg;
    else return { ok: false, problem: `one URL only (got "${url}" and "${arg}")` };
  }
  if (url === undefined) return { ok: false, problem: 'which URL? e.g. gatehouse explain --user bob@example.com https://wiki.example.com/admin' };
  return {
    ok: true,
    json,
    local,
    query: { url, groups, claims, ...values, ...(values.method ? { method: values.method.toUpperCase() } : {}) },
  };
}
