import { parseNetworkText } from './networks.ts';
import { fail, ok, splitList, type Parsed } from './parsed.ts';
import { PROVIDER_NAME } from './policy-entries.ts';

/**
 * The grammars of a route's sign-in requirements and network conditions:
 * `providers: google, local`, `mfa: required`, `networks` and `trusted_networks`
 * (`192.168.1.0/24, fd00::/8`). `max_age` is a duration (values.ts).
 */

export function parseProviderList(raw: string): Parsed<string[]> {
  const names: string[] = [];
  const bad: string[] = [];
  for (const item of splitList(raw)) {
    const name = item.toLowerCase();
    if (!PROVIDER_NAME.test(name)) bad.push(`"${item}"`);
    else if (!names.includes(name)) names.push(name);
  }
  if (bad.length > 0) return fail(`${bad.join(', ')}: expected sign-in method names such as google, local (letters, digits and -)`);
  if (names.length === 0) return fail('expected at least one sign-in method name, such as google, local');
  return ok(names);
}

const MFA_ON = new Set(['required', 'true', 'yes', 'on', '1']);
const MFA_OFF = new Set(['off', 'false', 'no', '0', 'optional']);

export function parseMfa(raw: string): Parsed<boolean> {
  const value = raw.trim().toLowerCase();
  if (MFA_ON.has(value)) return ok(true);
  if (MFA_OFF.has(value)) return ok(false);
  return fail('expected required (a second factor at sign-in) or off');
}

export function parseNetworkList(raw: string): Parsed<string[]> {
  const networks: string[] = [];
  const bad: string[] = [];
  for (const item of splitList(raw)) {
    const network = parseNetworkText(item);
    if (network === null) bad.push(`"${item}"`);
    else if (!networks.includes(network)) networks.push(network);
  }
  if (bad.length > 0) {
    return fail(`${bad.join(', ')}: expected IP addresses or networks such as 192.168.1.0/24, 10.0.0.5 or fd00::/8 (host bits zero)`);
  }
  if (networks.length === 0) return fail('expected at least one IP address or network, such as 192.168.1.0/24');
  return ok(networks);
}
