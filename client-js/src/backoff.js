// Reconnection delays: exponential growth from `min`, capped at `max`, with jitter.

export class Backoff {
  /**
   * @param {{min?: number, max?: number, jitter?: number, factor?: number, random?: () => number}} o
   *   `jitter` in [0, 1] spreads each delay over ±jitter of itself; `random` is injectable.
   */
  constructor({ min = 1000, max = 5000, jitter = 0.5, factor = 2, random = Math.random } = {}) {
    Object.assign(this, { min, max, jitter, factor, random });
    this.attempts = 0;
  }

  /** The delay before the next attempt (and counts it). */
  duration() {
    const base = Math.min(this.min * this.factor ** this.attempts++, this.max);
    const ms = base * (1 + this.jitter * (2 * this.random() - 1));
    return Math.max(0, Math.min(Math.round(ms), this.max));
  }

  reset() {
    this.attempts = 0;
  }
}
