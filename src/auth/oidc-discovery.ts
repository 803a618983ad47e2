/**
 * Keeps trying to obtain a value (the provider's discovered configuration) until it succeeds,
 * with jittered exponential backoff and no upper bound on attempts. A failed attempt is never
 * remembered as the result: the next caller or timer simply tries again. Caching a rejected
 * discovery promise is the classic way an identity-aware proxy latches into "every sign-in
 * fails" after one transient outage while its health checks still pass.
 */

export type DiscoveryState = 'discovering' | 'ready' | 'unreachable';

export interface DiscoveryStatus {
  state: DiscoveryState;
  /** Epoch milliseconds when `state` last changed. */
  since: number;
  lastError: string | null;
}

export interface RetryOptions {
  initialMs: number;
  maxMs: number;
}

export interface RetryingDiscoveryOptions<T> {
  discover: () => Promise<T>;
  retry: RetryOptions;
  describeError: (error: unknown) => string;
  onSuccess?: (attempts: number) => void;
  onFailure?: (message: string, attempts: number, nextDelayMs: number) => void;
  now?: () => number;
  random?: () => number;
}

export interface RetryingDiscovery<T> {
  start(): void;
  stop(): void;
  current(): T | null;
  status(): DiscoveryStatus;
  /**
   * Starts an attempt unless one is running (or one ended very recently) and waits for it at
   * most `waitMs`. Resolves with the value when available, `null` otherwise.
   */
  retryNow(waitMs: number): Promise<T | null>;
}

/** Callers asking for a retry (every sign-in during an outage) start at most one attempt per gap. */
const ON_DEMAND_GAP_CAP_MS = 250;

export function createRetryingDiscovery<T>(options: RetryingDiscoveryOptions<T>): RetryingDiscovery<T> {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const { initialMs, maxMs } = options.retry;
  const onDemandGapMs = Math.min(initialMs, ON_DEMAND_GAP_CAP_MS);

  let value: T | null = null;
  let status: DiscoveryStatus = { state: 'discovering', since: now(), lastError: null };
  let failures = 0;
  let inflight: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let lastAttemptEnded = Number.NEGATIVE_INFINITY;
  let started = false;
  let stopped = false;

  function clearTimer(): void {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }

  function nextDelay(): number {
    const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 30));
    // "Equal jitter": never retry sooner than half the ceiling, so a fleet restarting together spreads out.
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  }

  function schedule(delayMs: number): void {
    clearTimer();
    if (stopped || value !== null) return;
    timer = setTimeout(() => {
      timer = null;
      void attempt();
    }, delayMs);
    timer.unref();
  }

  function succeed(result: T): void {
    value = result;
    const attempts = failures + 1;
    failures = 0;
    status = { state: 'ready', since: now(), lastError: null };
    clearTimer();
    options.onSuccess?.(attempts);
  }

  function fail(error: unknown): void {
    failures += 1;
    const message = options.describeError(error);
    status = status.state === 'unreachable' ? { ...status, lastError: message } : { state: 'unreachable', since: now(), lastError: message };
    const delay = nextDelay();
    schedule(delay);
    options.onFailure?.(message, failures, delay);
  }

  function attempt(): Promise<void> {
    if (inflight !== null) return inflight;
    if (stopped || value !== null) return Promise.resolve();
    clearTimer();
    inflight = options
      .discover()
      .then(succeed, fail)
      .finally(() => {
        inflight = null;
        lastAttemptEnded = now();
      });
    return inflight;
  }

  return {
    start() {
      if (started || stopped) return;
      started = true;
      void attempt();
    },
    stop() {
      stopped = true;
      clearTimer();
    },
    current: () => value,
    status: () => ({ ...status }),
    async retryNow(waitMs) {
      if (value !== null) return value;
      if (stopped) return null;
      if (inflight === null && now() - lastAttemptEnded >= onDemandGapMs) void attempt();
      const running = inflight;
      if (running === null) return value;
      let waitTimer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        waitTimer = setTimeout(resolve, waitMs);
        waitTimer.unref();
      });
      await Promise.race([running, timeout]);
      clearTimeout(waitTimer);
      return value;
    },
  };
}
