import { join } from 'node:path';
import { labelTrust, loadConfig } from '../config/index.ts';
import { appClientsDir, APPS_PREFIX, createAppClientSecrets } from '../idp/index.ts';
import { formatEntry } from '../policy/index.ts';
import type { Route, RouteTable } from '../routes/index.ts';
import { createSecretReader } from '../util/secrets.ts';
import { buildTableOnce } from './table.ts';

const USAGE = `Usage: gatehouse oidc clients [--json]

The OpenID clients that containers declare with iap.oidc.* labels, as "serve" would publish
them now: client id, redirect URIs, who may sign in, and the client secret to give the app
(a generated one is created in GATEHOUSE_DATA_DIR on first use and printed here; a secret:NAME
one is named, not printed). Also prints the issuer to configure in each app.`;

/** `gatehouse oidc clients [--json]`. */
export async function oidcCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h' || sub === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  const unknown = rest.filter((a) => a !== '--json');
  if (sub !== 'clients' || unknown.length > 0) {
    process.stderr.write(`gatehouse oidc: unknown ${sub !== 'clients' ? `command "${sub}"` : `option ${unknown.join(' ')}`}\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfig();
  const { table } = await buildTableOnce(config, 'oidc clients');
  const issuer = config.GATEHOUSE_AUTH_URL === undefined ? null : `${new URL(config.GATEHOUSE_AUTH_URL).origin}${APPS_PREFIX}`;
  const secrets = createAppClientSecrets({ dataDir: config.GATEHOUSE_DATA_DIR, readSecret: createSecretReader(labelTrust(config).secrets) });
  const clients = listClients(table, (route) => secrets.secretOf(route), config.GATEHOUSE_DATA_DIR);
  const conflicts = table.issues.filter((issue) => issue.code === 'conflict' && issue.message.includes('OpenID client id'));
  if (rest.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ issuer, clients, refused: conflicts }, null, 2)}\n`);
  } else {
    process.stdout.write(renderText(issuer, clients, conflicts.map((issue) => issue.message)));
  }
  return conflicts.length > 0 ? 1 : 0;
}

export interface ClientListing {
  clientId: string;
  name: string;
  redirectUris: string[];
  access: string;
  /** The value for a generated secret; null for `secret:NAME` (never printed) or when it cannot be read. */
  secret: string | null;
  secretSource: string;
  route: string;
}

export function listClients(table: RouteTable, secretOf: (route: Route) => string | null, dataDir: string): ClientListing[] {
  return [...table.oidcClients.entries()].map(([clientId, route]) => {
    const named = route.oidc.secret;
    const secret = secretOf(route);
    return {
      clientId,
      name: route.display.name,
      redirectUris: [...route.oidc.redirectUris],
      access: accessText(route),
      secret: named === null ? secret : null,
      secretSource: named === null ? `generated, kept in ${join(appClientsDir(dataDir), `${clientId}.secret`)}` : `secret:${named}${secret === null ? ' (cannot be read: the client is refused)' : ''}`,
      route: route.id,
    };
  });
}

function accessText(route: Route): string {
  if (route.policy.public) return 'every signed-in user (the route is public)';
  const allow = route.policy.allow.length === 0 ? 'GATEHOUSE_DEFAULT_ALLOW' : route.policy.allow.map(formatEntry).join(', ');
  const deny = route.policy.deny.length === 0 ? '' : `; deny ${route.policy.deny.map(formatEntry).join(', ')}`;
  return `allow ${allow}${deny}`;
}

function renderText(issuer: string | null, clients: ClientListing[], refused: string[]): string {
  const lines = [
    issuer === null
      ? 'Sign-in is not configured (GATEHOUSE_AUTH_URL): the provider for apps is off, and these clients are not served.'
      : `Issuer (give it to each app): ${issuer}\nDiscovery: ${issuer}/.well-known/openid-configuration`,
    '',
    `Clients (${clients.length})`,
  ];
  for (const client of clients) {
    lines.push(
      `  ${client.clientId}  (${client.name}, ${client.route})`,
      `      redirect URIs: ${client.redirectUris.join(', ')}`,
      `      who may sign in: ${client.access}`,
      `      client secret: ${client.secret ?? '(not shown)'}  [${client.secretSource}]`,
      '      token endpoint authentication: client_secret_basic; PKCE (S256) required',
    );
  }
  if (clients.length === 0) lines.push('  none: declare one with iap.oidc.redirect_uris on an app container');
  if (refused.length > 0) lines.push('', `Refused (${refused.length})`, ...refused.map((message) => `  ${message}`));
  return `${lines.join('\n')}\n`;
}
