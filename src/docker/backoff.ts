export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/**
 * Exponential backoff with "equal jitter": each delay is drawn from [base/2, base], base doubling
 * from initialMs up to maxMs. There is no attempt limit — discovery retries for as long as it runs.
 */
export class Backoff {
  private attempt = 0;
  private readonly options: BackoffOptions;
  private readonly random: () => number;

  constructor(options: BackoffOptions, random: () => number = Math.random) {
    this.options = options;
    this.random = random;
  }

  next(): number {
    const base = Math.min(this.options.maxMs, this.options.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.round(base / 2 + (this.random() * base) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}
