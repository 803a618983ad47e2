import { z } from 'zod';

const CONTAINER_ACTIONS = ['create', 'start', 'die', 'stop', 'kill', 'destroy', 'pause', 'unpause', 'health_status', 'rename', 'update'] as const;
const NETWORK_ACTIONS = ['connect', 'disconnect'] as const;
/** On a Swarm manager: a service created, scaled, relabelled or removed. Tasks on other nodes have no events: the periodic resync sees them. */
const SERVICE_ACTIONS = ['create', 'update', 'remove'] as const;

/**
 * Server-side filter for `GET /events`. Docker matches `health_status` against
 * "health_status: healthy" etc. by prefix, so the health checks' own exec_* chatter never arrives.
 */
export const EVENT_FILTERS = {
  type: ['container', 'network', 'service'],
  event: [...new Set([...CONTAINER_ACTIONS, ...NETWORK_ACTIONS, ...SERVICE_ACTIONS])],
} as const;

const DockerEvent = z.looseObject({
  Type: z.string().optional(),
  Action: z.string().optional(),
  /** Pre-1.22 engines name the action `status`. */
  status: z.string().optional(),
});

/** True when the event can change what a full container list returns. */
export function isRelevantEvent(event: unknown): boolean {
  const parsed = DockerEvent.safeParse(event);
  if (!parsed.success) return false;
  const type = parsed.data.Type ?? 'container';
  const action = (parsed.data.Action ?? parsed.data.status ?? '').split(':', 1)[0]?.trim() ?? '';
  if (type === 'container') return (CONTAINER_ACTIONS as readonly string[]).includes(action);
  if (type === 'network') return (NETWORK_ACTIONS as readonly string[]).includes(action);
  if (type === 'service') return (SERVICE_ACTIONS as readonly string[]).includes(action);
  return false;
}

export type EventLine = { ok: true; event: unknown } | { ok: false; line: string };

/**
 * Splits the newline-delimited JSON of the event stream into events. Chunks may end in the
 * middle of an event (or of a multi-byte character), so the tail is kept until its newline arrives.
 */
export class EventLineSplitter {
  private readonly decoder = new TextDecoder('utf-8');
  private pending = '';
  private readonly maxLineBytes: number;

  constructor(maxLineBytes = 1024 * 1024) {
    this.maxLineBytes = maxLineBytes;
  }

  /** Feeds one chunk; returns the complete lines it finished. Throws when a line outgrows the cap. */
  push(chunk: Uint8Array | string): EventLine[] {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    if (this.pending.length > this.maxLineBytes) {
      throw new Error(`a Docker event line exceeded ${this.maxLineBytes} bytes without a newline`);
    }
    return lines.map((line) => line.trim()).filter((line) => line !== '').map(parseLine);
  }
}

function parseLine(line: string): EventLine {
  try {
    return { ok: true, event: JSON.parse(line) as unknown };
  } catch {
    return { ok: false, line };
  }
}
