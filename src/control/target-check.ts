import { targetAddressReason, targetBytesReason, type AddressBytes, type TargetRules } from '../labels/index.ts';

/** Every address a name resolves to, as `dns.lookup(name, { all: true })` gives them. */
export type ResolveAll = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

/**
 * The build-time half of the target check: label routes whose upstream resolves to a refused
 * address are rejected when the table is built, so `gatehouse routes` and the log say so and the
 * address stays closed (misconfigured). Names are resolved in the background: a route whose name
 * is not resolved yet is published and checked again at connect time (proxy/upstream-guard.ts),
 * and the table is rebuilt once the answer arrives or later changes.
 */
export interface TargetCheck {
  /** Why a label route may not use this origin; null when it may or its name is not resolved yet. */
  reasonFor(origin: string): string | null;
  /** Resolves once no lookup is in flight (for one-shot builds such as `gatehouse routes`). */
  settled(): Promise<void>;
  /**
   * A number that changes whenever a verdict may have: the rules object changed, or a name's
   * answer did. While it stays, an origin's verdict stays, so a build may ask only about the
   * routes that changed. Reading it also starts the background refresh of answers that are due
   * (a build that asks about no name would otherwise never refresh one). Absent: ask every time.
   */
  generation?(): number;
}

export interface TargetCheckOptions {
  /** The rules now: a new object whenever they change (as createTargetRules gives them), never one changed in place, since verdicts are kept per rules object. */
  rules: () => TargetRules;
  resolveAll: ResolveAll;
  /** Called when an answer arrives that may change a verdict: rebuild the table. */
  onChange: () => void;
  now: () => number;
  /** Answers older than this are looked up again (in the background) on the next build. */
  refreshMs?: number;
}

interface Answer {
  addresses: readonly string[];
  at: number;
  pending: Promise<void> | null;
}

/**
 * An upstream origin as the check reads it, and the verdict it last gave with what that verdict
 * was given for: the rules object, and for a name the answer's address list. A build asks about
 * every label route (10,000 at 10,000 containers); while neither changed, the verdict stands,
 * and the question costs one map lookup instead of parsing and comparing addresses again.
 */
interface Origin {
  readonly hostname: string;
  readonly port: number;
  readonly literal: boolean;
  /** A plain IPv4 origin's address, read with the origin; null: the hostname is read when asked about. */
  readonly bytes: AddressBytes | null;
  rules: TargetRules | null;
  addresses: readonly string[] | null;
  reason: string | null;
}

export function createTargetCheck(options: TargetCheckOptions): TargetCheck {
  const refreshMs = options.refreshMs ?? 60_000;
  const origins = new Map<string, Origin | null>();
  const answers = new Map<string, Answer>();
  let generation = 0;
  let rulesSeen: TargetRules | null = null;

  const lookUp = (hostname: string, entry: Answer): void => {
    entry.pending = options.resolveAll(hostname).then(
      (found) => {
        const addresses = found.map((answer) => answer.address);
        const changed = addresses.join(',') !== entry.addresses.join(',');
        // A new list each time: an origin's verdict is kept while the list it was given for is the same object.
        entry.addresses = addresses;
        entry.at = options.now();
        entry.pending = null;
        if (changed) {
          generation++;
          options.onChange();
        }
      },
      () => {
        // Unresolvable now: the connect fails with a 502 and the next build asks again.
        entry.at = options.now();
        entry.pending = null;
      },
    );
  };

  return {
    reasonFor(origin) {
      let parsed = origins.get(origin);
      if (parsed === undefined) {
        parsed = parseOrigin(origin);
        origins.set(origin, parsed);
      }
      if (parsed === null) return null;
      const rules = options.rules();
      if (parsed.literal) {
        if (parsed.rules !== rules) {
          parsed.reason = parsed.bytes === null ? targetAddressReason(rules, parsed.hostname, parsed.port) : targetBytesReason(rules, parsed.bytes, parsed.port);
          parsed.rules = rules;
        }
        return parsed.reason;
      }
      let entry = answers.get(parsed.hostname);
      if (entry === undefined) {
        entry = { addresses: [], at: 0, pending: null };
        answers.set(parsed.hostname, entry);
        lookUp(parsed.hostname, entry);
        return null;
      }
      if (entry.pending === null && options.now() - entry.at > refreshMs) lookUp(parsed.hostname, entry);
      if (parsed.rules !== rules || parsed.addresses !== entry.addresses) {
        parsed.reason = nameReason(rules, parsed, entry.addresses);
        parsed.rules = rules;
        parsed.addresses = entry.addresses;
      }
      return parsed.reason;
    },
    async settled() {
      await Promise.all([...answers.values()].map((entry) => entry.pending));
    },
    generation() {
      const rules = options.rules();
      if (rules !== rulesSeen) {
        rulesSeen = rules;
        generation++;
      }
      const now = options.now();
      for (const [hostname, entry] of answers) if (entry.pending === null && now - entry.at > refreshMs) lookUp(hostname, entry);
      return generation;
    },
  };
}

function nameReason(rules: TargetRules, origin: Origin, addresses: readonly string[]): string | null {
  for (const address of addresses) {
    const reason = targetAddressReason(rules, address, origin.port);
    if (reason !== null) return `${origin.hostname} resolves to ${address}, ${reason}`;
  }
  return null;
}

export function parseOrigin(origin: string): Origin | null {
  return plainIpv4Origin(origin) ?? urlOrigin(origin);
}

/** An origin as the WHATWG URL parser reads it: any spelling, names and IPv6 included. */
export function urlOrigin(origin: string): Origin | null {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return null;
  }
  const bracketed = url.hostname.startsWith('[');
  const hostname = bracketed ? url.hostname.slice(1, -1) : url.hostname;
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  return { hostname, port, literal: bracketed || /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname), bytes: null, rules: null, addresses: null, reason: null };
}

/**
 * `http(s)://` a dotted IPv4 address in its one canonical spelling (each part at most 255, no
 * leading zero) and a port from 1 to 65535 without a leading zero, and nothing else: what label
 * translation makes of a container's address, read character by character. The WHATWG URL
 * parser reads these to the same host and port (a test holds the two to each other); anything
 * else (names, IPv6, octal or hex parts, a path, upper case) is left to it. Null when it is not one.
 */
function plainIpv4Origin(origin: string): Origin | null {
  let at = origin.startsWith('http://') ? 7 : origin.startsWith('https://') ? 8 : -1;
  if (at === -1) return null;
  const start = at;
  const bytes: number[] = [];
  for (let part = 0; part < 4; part++) {
    const first = at;
    let value = 0;
    while (at < origin.length && at - first < 3) {
      const digit = origin.charCodeAt(at) - 48;
      if (digit < 0 || digit > 9) break;
      value = value * 10 + digit;
      at++;
    }
    const length = at - first;
    if (length === 0 || (length > 1 && origin.charCodeAt(first) === 48) || value > 255) return null;
    bytes.push(value);
    if (origin.charCodeAt(at) !== (part === 3 ? 58 : 46)) return null;
    at++;
  }
  const hostEnd = at - 1;
  const portStart = at;
  let port = 0;
  while (at < origin.length && at - portStart < 5) {
    const digit = origin.charCodeAt(at) - 48;
    if (digit < 0 || digit > 9) return null;
    port = port * 10 + digit;
    at++;
  }
  if (at !== origin.length || at === portStart || origin.charCodeAt(portStart) === 48 || port > 65_535) return null;
  return { hostname: origin.slice(start, hostEnd), port, literal: true, bytes: Object.freeze(bytes), rules: null, addresses: null, reason: null };
}
