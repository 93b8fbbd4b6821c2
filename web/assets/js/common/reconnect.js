/**
 * Reconnect delays of the device session: capped exponential backoff with full jitter.
 *
 * Attempt n waits a random time in [0, min(cap, base * 2^n)]. Full jitter matters after a
 * server restart: every screen of a fleet lost the server at the same moment, and without the
 * random spread they would all reconnect in the same second.
 */

/** First ceiling of the delay, in milliseconds. */
export const RECONNECT_BASE_MS = 1000;
/** Largest ceiling of the delay, in milliseconds. */
export const RECONNECT_CAP_MS = 30000;

/**
 * Returns the delay before reconnect attempt `attempt` (0 for the first), in milliseconds.
 * @param {number} attempt
 * @param {number} baseMs
 * @param {number} capMs
 * @param {function(): number} random a source in [0, 1), such as Math.random
 */
export function fullJitterDelayMs(attempt, baseMs, capMs, random) {
  // Past 2^30 the ceiling is far above any cap, so the exponent stops growing there.
  const exponent = Math.min(Math.max(attempt, 0), 30);
  const ceiling = Math.min(capMs, baseMs * Math.pow(2, exponent));
  return Math.floor(random() * ceiling);
}

/** Counts failed attempts and hands out the delay of the next one. */
export class ReconnectSchedule {
  /** @param {{baseMs?: number, capMs?: number, random?: function(): number}} [options] */
  constructor(options) {
    const settings = options || {};
    this.baseMs = settings.baseMs || RECONNECT_BASE_MS;
    this.capMs = settings.capMs || RECONNECT_CAP_MS;
    this.random = settings.random || Math.random;
    this.attempt = 0;
  }

  /** Returns the delay before the next attempt, in milliseconds, and counts the attempt. */
  nextDelayMs() {
    const delay = fullJitterDelayMs(this.attempt, this.baseMs, this.capMs, this.random);
    this.attempt += 1;
    return delay;
  }

  /** Starts again from the shortest ceiling, after a connection that stayed up. */
  reset() {
    this.attempt = 0;
  }
}
