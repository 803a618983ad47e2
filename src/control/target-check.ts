import { targetAddressReason, type TargetRules } from '../labels/index.ts';

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
}

export interface TargetCheckOptions {
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

export function createTargetCheck(options: TargetCheckOptions): TargetCheck {
  const refreshMs = options.refreshMs ?? 60_000;
  const origins = new Map<string, { hostname: string; port: number; literal: boolean } | null>();
  const answers = new Map<string, Answer>();

  const lookUp = (hostname: string, entry: Answer): void => {
    entry.pending = options.resolveAll(hostname).then(
      (found) => {
        const addresses = found.map((answer) => answer.address);
        const changed = addresses.join(',') !== entry.addresses.join(',');
        entry.addresses = addresses;
        entry.at = options.now();
        entry.pending = null;
        if (changed) options.onChange();
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
      if (parsed.literal) return targetAddressReason(rules, parsed.hostname, parsed.port);
      let entry = answers.get(parsed.hostname);
      if (entry === undefined) {
        entry = { addresses: [], at: 0, pending: null };
        answers.set(parsed.hostname, entry);
        lookUp(parsed.hostname, entry);
        return null;
      }
      if (entry.pending === null && options.now() - entry.at > refreshMs) lookUp(parsed.hostname, entry);
      for (const address of entry.addresses) {
        const reason = targetAddressReason(rules, address, parsed.port);
        if (reason !== null) return `${parsed.hostname} resolves to ${address}, ${reason}`;
      }
      return null;
    },
    async settled() {
      await Promise.all([...answers.values()].map((entry) => entry.pending));
    },
  };
}

function parseOrigin(origin: string): { hostname: string; port: number; literal: boolean } | null {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return null;
  }
  const bracketed = url.hostname.startsWith('[');
  const hostname = bracketed ? url.hostname.slice(1, -1) : url.hostname;
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  return { hostname, port, literal: bracketed || /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname) };
}
