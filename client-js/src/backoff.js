// Reconnection delays: exponential growth (doubling) from `min`, capped at `max`, with jitter.

export class Backoff {
  /**
   * @param {{min: number, max: number, jitter: number, random?: () => number}} options
   *   `jitter` in [0, 1] spreads each delay over ±jitter of itself; `random` is injectable.
   */
  constructor(options) {
    Object.assign(this, options);
    this.attempts = 0;
  }

  /** The delay before the next attempt (and counts it). */
  duration() {
    const base = Math.min(this.min * 2 ** this.attempts++, this.max);
    const random = (this.random || Math.random)();
    return Math.min(Math.round(base * (1 + this.jitter * (2 * random - 1))), this.max);
  }

  reset() {
    this.attempts = 0;
  }
}
