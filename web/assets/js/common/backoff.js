/**
 * Retry delays: capped exponential backoff with full jitter.
 *
 * Attempt n waits a random time in [0, min(cap, base * 2^n)], raised to a floor so that a
 * screen never retries more often than once per `floorMs`. Full jitter spreads the retries of
 * a whole fleet of screens that lost the server at the same moment.
 */

export class Backoff {
  /**
   * @param {{baseMs?: number, capMs?: number, floorMs?: number, random?: function(): number}} [options]
   */
  constructor(options) {
    const settings = options || {};
    this.baseMs = settings.baseMs || 2000;
    this.capMs = settings.capMs || 60000;
    this.floorMs = settings.floorMs || 2000;
    this.random = settings.random || Math.random;
    this.attempt = 0;
  }

  /** Returns the delay before the next attempt, in milliseconds, and counts the attempt. */
  nextDelayMs() {
    // Past 2^30 the ceiling is far above any cap, so the exponent stops growing there.
    const exponent = Math.min(this.attempt, 30);
    const ceiling = Math.min(this.capMs, this.baseMs * Math.pow(2, exponent));
    this.attempt += 1;
    return Math.max(this.floorMs, Math.round(this.random() * ceiling));
  }

  /** Starts again from the shortest delay, after a success. */
  reset() {
    this.attempt = 0;
  }
}
