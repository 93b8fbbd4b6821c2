/**
 * Watchdog: reloads the page when its rotation stopped, the last resort for a screen that
 * must run for weeks without anybody near it.
 *
 * A page calls `frame()` whenever it shows a new item. When no frame comes for three
 * intervals while the page expects frames (online, not paused, not asleep, with more items
 * than it shows), the watchdog logs why and reloads. Time while frames are not expected does
 * not count, so a screen that comes back online gets three full intervals.
 */

/** Intervals without a new frame before the page reloads. */
const MISSED_INTERVALS = 3;
/** Maximum time between two checks, in milliseconds. */
const MAX_CHECK_MS = 5000;

export class Watchdog {
  /**
   * @param {object} options
   * @param {function(): number} options.intervalMs the time between two new items now
   * @param {function(): boolean} options.expectsFrames whether new items should appear now
   */
  constructor(options) {
    this.intervalMs = options.intervalMs;
    this.expectsFrames = options.expectsFrames;
    this.lastFrameAt = Date.now();
    this.timer = null;
  }

  start() {
    const self = this;
    this.lastFrameAt = Date.now();
    this.timer = setInterval(function checkRotation() { self.check(); },
      Math.min(MAX_CHECK_MS, this.intervalMs() / 2));
  }

  /** Records that the page showed a new item. */
  frame() {
    this.lastFrameAt = Date.now();
  }

  check() {
    const now = Date.now();
    if (!this.expectsFrames()) {
      this.lastFrameAt = now;
      return;
    }
    const limitMs = MISSED_INTERVALS * this.intervalMs();
    const silentMs = now - this.lastFrameAt;
    if (silentMs > limitMs) {
      clearInterval(this.timer);
      console.warn('Reloading the page: no new item for ' + Math.round(silentMs / 1000)
        + ' s while online, more than ' + MISSED_INTERVALS + ' intervals of '
        + Math.round(this.intervalMs() / 1000) + ' s');
      window.location.reload();
    }
  }
}
