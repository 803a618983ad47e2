/**
 * Traefik's throttle: the first request after a quiet period runs at once; requests arriving
 * within `windowMs` after a run coalesce into one more run when the window closes. Unlike a
 * debounce, a lone change is never delayed, and a steady stream still runs once per window.
 */
export interface Throttle {
  request(): void;
  /** Drops a pending run and stops the timer. */
  cancel(): void;
}

export function createThrottle(run: () => void, windowMs: number): Throttle {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending = false;
  let running = false;

  const fire = (): void => {
    pending = false;
    running = true;
    try {
      run();
    } finally {
      running = false;
      if (windowMs > 0) {
        timer = setTimeout(closeWindow, windowMs);
        timer.unref?.();
      }
    }
    if (windowMs <= 0 && pending) {
      // A request made by `run` itself, with no window to wait for.
      fire();
    }
  };

  const closeWindow = (): void => {
    timer = undefined;
    if (pending) fire();
  };

  return {
    request() {
      if (running || timer !== undefined) {
        pending = true;
        return;
      }
      fire();
    },
    cancel() {
      pending = false;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
