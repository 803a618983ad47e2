import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PROVIDER_NAME } from '../labels/index.ts';

/**
 * The sign-in methods of one Gatehouse: any number of outside OpenID providers, plus the
 * built-in users (always named `local`), from three places that may be combined:
 *
 * - the single-provider variables (GATEHOUSE_OIDC_ISSUER, …): a provider named `oidc`, whose
 *   callback stays `/oauth2/callback` so existing registrations keep working;
 * - indexed variables, GATEHOUSE_OIDC_<NAME>_ISSUER, _CLIENT_ID, _CLIENT_SECRET(_FILE), _SCOPES,
 *   _GROUPS_CLAIM, _PRESET, _LABEL, _EMAIL_VERIFIED, _MFA_AMR, _MFA_ACR;
 * - the providers file (GATEHOUSE_PROVIDERS_FILE), a YAML list under `providers:`.
 *
 * Every other provider gets its own callback, `/oauth2/callback/<name>`. Problems are collected
 * and returned, each naming the variable or the file entry to change.
 */

/** An outside OpenID Provider. */
export interface OutsideMethod {
  readonly kind: 'oidc';
  readonly name: string;
  /** What the chooser page shows. */
  readonly label: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly scopes: string;
  /** Where the groups are: a claim name or a dotted path (`realm_access.roles`). */
  readonly groupsClaim: string;
  /** When true (the default), an address the provider does not mark verified matches no email entry. */
  readonly emailVerifiedRequired: boolean;
  /** `amr` values that mean a second factor was used. */
  readonly mfaAmr: readonly string[];
  /** `acr` values that mean a second factor was used; also sent as `acr_values` when stepping up. */
  readonly mfaAcr: readonly string[];
  /** Plain http to the provider is accepted only on this machine (tests, a local provider). */
  readonly allowHttpIssuer: boolean;
  /** The path on the sign-in host the provider sends the browser back to. */
  readonly callbackPath: string;
}

/** The built-in users (GATEHOUSE_USERS_FILE). */
export interface BuiltinMethod {
  readonly kind: 'builtin';
  readonly name: 'local';
  readonly label: string;
  /** The users file as given; undefined means `<data dir>/users.yml`. */
  readonly usersFile: string | undefined;
}

export type SignInMethod = OutsideMethod | BuiltinMethod;

export const BUILTIN_METHOD_NAME = 'local';
/** The single-provider variables' provider. */
export const SINGLE_PROVIDER_NAME = 'oidc';
export const MAX_METHODS = 16;
/** Second-factor `amr` values (RFC 8176) counted when a provider names none of its own. */
export const DEFAULT_MFA_AMR: readonly string[] = Object.freeze(['mfa', 'otp', 'hwk']);

/** Where the big providers put groups and say "second factor". */
export const PRESETS: Readonly<Record<string, { groupsClaim: string; mfaAmr?: readonly string[]; label: string }>> = Object.freeze({
  entra: { groupsClaim: 'groups', mfaAmr: ['mfa'], label: 'Microsoft' },
  'entra-roles': { groupsClaim: 'roles', mfaAmr: ['mfa'], label: 'Microsoft' },
  authentik: { groupsClaim: 'groups', label: 'Authentik' },
  keycloak: { groupsClaim: 'groups', label: 'Keycloak' },
  'keycloak-roles': { groupsClaim: 'realm_access.roles', label: 'Keycloak' },
  google: { groupsClaim: 'groups', label: 'Google' },
});

/** One provider as written, before checks; `where` names it in problems. */
interface Draft {
  where: string;
  name: string;
  fields: Partial<Record<DraftField, string | string[] | boolean>>;
}
type DraftField = 'issuer' | 'client_id' | 'client_secret' | 'scopes' | 'groups_claim' | 'preset' | 'label' | 'email_verified' | 'mfa_amr' | 'mfa_acr';

const INDEXED = /^GATEHOUSE_OIDC_([A-Z][A-Z0-9]*)_(ISSUER|CLIENT_ID|CLIENT_SECRET|SCOPES|GROUPS_CLAIM|PRESET|LABEL|EMAIL_VERIFIED|MFA_AMR|MFA_ACR)$/;

/** Indexed variables (their `_FILE` twins already read) → one draft per NAME, in name order. */
export function indexedDrafts(variables: Readonly<Record<string, string>>): Draft[] {
  const byName = new Map<string, Draft>();
  for (const [variable, value] of Object.entries(variables)) {
    const match = INDEXED.exec(variable);
    if (match === null) continue;
    const upper = match[1] as string;
    const name = upper.toLowerCase();
    let draft = byName.get(name);
    if (draft === undefined) {
      draft = { where: `GATEHOUSE_OIDC_${upper}_*`, name, fields: {} };
      byName.set(name, draft);
    }
    draft.fields[(match[2] as string).toLowerCase() as DraftField] = value;
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

const FileEntry = z
  .object({
    name: z.string(),
    type: z.enum(['oidc', 'builtin']).default('oidc'),
    label: z.string().min(1).max(100).optional(),
    issuer: z.string().optional(),
    client_id: z.string().optional(),
    client_secret: z.string().optional(),
    client_secret_file: z.string().optional(),
    scopes: z.union([z.string(), z.array(z.string())]).optional(),
    groups_claim: z.string().optional(),
    preset: z.string().optional(),
    email_verified: z.union([z.boolean(), z.enum(['required', 'ignored'])]).optional(),
    mfa: z.object({ amr: z.array(z.string()).optional(), acr: z.array(z.string()).optional() }).strict().optional(),
  })
  .strict();

export interface FileProviders {
  drafts: Draft[];
  /** The built-in users' entry (`type: builtin`), when the file has one. */
  builtin: { label: string | undefined } | null;
  problems: string[];
}

/** The providers file's text → drafts. `readFile` reads client_secret_file. */
export function providersFileDrafts(file: string, text: string, readFile: (path: string) => string): FileProviders {
  const problems: string[] = [];
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    return { drafts: [], builtin: null, problems: [`GATEHOUSE_PROVIDERS_FILE="${file}": not valid YAML (${(error as Error).message.split('\n')[0]})`] };
  }
  const list = (document as { providers?: unknown } | null)?.providers;
  if (!Array.isArray(list)) {
    return { drafts: [], builtin: null, problems: [`GATEHOUSE_PROVIDERS_FILE="${file}": expected a list under "providers:", e.g.\n    providers:\n      - name: google\n        issuer: https://accounts.google.com`] };
  }
  const drafts: Draft[] = [];
  let builtin: FileProviders['builtin'] = null;
  list.forEach((item, index) => {
    const where = `${file}: providers[${index}]`;
    const parsed = FileEntry.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      problems.push(`${where}${issue?.path.length ? `.${issue.path.join('.')}` : ''}: ${issue?.message ?? 'invalid entry'}`);
      return;
    }
    const entry = parsed.data;
    if (entry.type === 'builtin') {
      if (entry.name !== BUILTIN_METHOD_NAME) problems.push(`${where}: the built-in users are always named "${BUILTIN_METHOD_NAME}" (policies say provider:local)`);
      builtin = { label: entry.label };
      return;
    }
    const fields: Draft['fields'] = {};
    if (entry.issuer !== undefined) fields.issuer = entry.issuer;
    if (entry.client_id !== undefined) fields.client_id = entry.client_id;
    if (entry.client_secret !== undefined && entry.client_secret_file !== undefined) {
      problems.push(`${where}: client_secret and client_secret_file are both set; keep one`);
    } else if (entry.client_secret !== undefined) {
      fields.client_secret = entry.client_secret;
    } else if (entry.client_secret_file !== undefined) {
      try {
        fields.client_secret = readFile(entry.client_secret_file).replace(/\r?\n$/, '');
      } catch (error) {
        problems.push(`${where}.client_secret_file="${entry.client_secret_file}": cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
    }
    if (entry.scopes !== undefined) fields.scopes = Array.isArray(entry.scopes) ? entry.scopes.join(' ') : entry.scopes;
    if (entry.groups_claim !== undefined) fields.groups_claim = entry.groups_claim;
    if (entry.preset !== undefined) fields.preset = entry.preset;
    if (entry.label !== undefined) fields.label = entry.label;
    if (entry.email_verified !== undefined) fields.email_verified = entry.email_verified === true || entry.email_verified === 'required';
    if (entry.mfa?.amr !== undefined) fields.mfa_amr = entry.mfa.amr;
    if (entry.mfa?.acr !== undefined) fields.mfa_acr = entry.mfa.acr;
    drafts.push({ where, name: entry.name, fields });
  });
  return { drafts, builtin, problems };
}

/** A draft checked into a provider, or problems naming what to change. */
export function checkDraft(draft: Draft, defaults: { scopes: string; groupsClaim: string }, problems: string[]): OutsideMethod | null {
  const { where, fields } = draft;
  const before = problems.length;
  const text = (field: DraftField): string | undefined => {
    const value = fields[field];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  const list = (field: DraftField): string[] | undefined => {
    const value = fields[field];
    if (value === undefined || typeof value === 'boolean') return undefined;
    return (Array.isArray(value) ? value : value.split(/[\s,]+/)).map((item) => item.trim()).filter((item) => item !== '');
  };
  if (!PROVIDER_NAME.test(draft.name)) problems.push(`${where}: "${draft.name}" is not a provider name: expected lowercase letters, digits and -, starting with a letter`);
  else if (draft.name === BUILTIN_METHOD_NAME) problems.push(`${where}: "${BUILTIN_METHOD_NAME}" is the built-in users' name; pick another for this provider`);

  const presetName = text('preset');
  const preset = presetName === undefined ? undefined : PRESETS[presetName.toLowerCase()];
  if (presetName !== undefined && preset === undefined) problems.push(`${where}: preset "${presetName}" is unknown: expected one of ${Object.keys(PRESETS).join(', ')}`);

  const issuerText = text('issuer');
  let allowHttpIssuer = false;
  if (issuerText === undefined) problems.push(`${where}: the issuer is missing (the provider's URL, e.g. https://accounts.google.com)`);
  else {
    let issuer: URL | null = null;
    try {
      issuer = new URL(issuerText);
    } catch {
      problems.push(`${where}: issuer "${issuerText}" is not a URL (expected e.g. https://id.example.com/realms/home)`);
    }
    if (issuer !== null) {
      allowHttpIssuer = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname);
      if (issuer.protocol !== 'https:' && !allowHttpIssuer) {
        problems.push(`${where}: issuer "${issuerText}" must be https:// (plain http is only accepted for a provider on this machine)`);
      }
    }
  }
  const clientId = text('client_id');
  if (clientId === undefined) problems.push(`${where}: the client id is missing (from the app registration at the provider)`);
  const scopes = text('scopes') ?? defaults.scopes;
  if (!scopes.split(/\s+/).includes('openid')) problems.push(`${where}: scopes "${scopes}" must include "openid", e.g. "openid email profile"`);
  const verified = fields.email_verified;
  let emailVerifiedRequired = true;
  if (typeof verified === 'boolean') emailVerifiedRequired = verified;
  else if (typeof verified === 'string') {
    const value = verified.trim().toLowerCase();
    if (value === 'required' || value === 'true') emailVerifiedRequired = true;
    else if (value === 'ignored' || value === 'false') emailVerifiedRequired = false;
    else problems.push(`${where}: email_verified "${verified}": expected required or ignored`);
  }
  if (problems.length > before) return null;
  return Object.freeze({
    kind: 'oidc',
    name: draft.name,
    label: text('label') ?? preset?.label ?? titleCase(draft.name),
    issuer: issuerText as string,
    clientId: clientId as string,
    clientSecret: text('client_secret'),
    scopes,
    groupsClaim: text('groups_claim') ?? preset?.groupsClaim ?? defaults.groupsClaim,
    emailVerifiedRequired,
    mfaAmr: Object.freeze(list('mfa_amr') ?? [...(preset?.mfaAmr ?? DEFAULT_MFA_AMR)]),
    mfaAcr: Object.freeze(list('mfa_acr') ?? []),
    allowHttpIssuer,
    callbackPath: `/oauth2/callback/${draft.name}`,
  });
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || /^127(?:\.\d{1,3}){3}$/.test(host) || host === '[::1]';
}

function titleCase(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
