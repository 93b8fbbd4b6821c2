/**
 * The wait between two turns of a display page (a slide, a round of wall tiles), which remote
 * keys and device commands can cut short (`next`, `previous`) or hold (`pause`).
 *
 * One wait runs at a time. A skip requested while no wait runs, for example while the next
 * slide is still loading, ends the following wait at once, so a command is never lost.
 *
 * A wait lasts a fixed delay, or until a function of the time left returns 0 or less. The
 * timer calls that function whenever it arms and again when it fires, so a deadline that
 * moves (a better clock estimate, a new schedule) is followed.
 */

export class TurnTimer {
  constructor() {
    this.paused = false;
    this.skipRequested = false;
    this.finish = null;
    this.timer = null;
    /** @type {number|function(): number} */
    this.delay = 0;
  }

  /**
   * Returns a promise that resolves after `delay`, on `skip()`, and never while paused.
   * @param {number|function(): number} delay milliseconds, or a function returning the
   *   milliseconds left
   */
  wait(delay) {
    // A wait still running (not expected: the loop awaits each one) ends here, keeping any
    // skip requested for the new one.
    this.disarm();
    const previous = this.finish;
    this.finish = null;
    if (previous !== null) {
      previous();
    }
    const self = this;
    this.delay = delay;
    return new Promise(function waitForTurn(resolve) {
      self.finish = resolve;
      if (self.skipRequested) {
        self.end();
      } else if (!self.paused) {
        self.arm();
      }
    });
  }

  /** Ends the current wait now, or the next one if none runs. */
  skip() {
    if (this.finish === null) {
      this.skipRequested = true;
      return;
    }
    this.end();
  }

  /** Holds the current slide until `resume()`. A skip still advances one slide. */
  pause() {
    this.paused = true;
    this.disarm();
  }

  /**
   * Advances again: after a full fixed delay from now, or when the time left reaches 0, which
   * may be at once.
   */
  resume() {
    this.paused = false;
    if (this.finish !== null && this.timer === null) {
      this.arm();
    }
  }

  /** Reads a function delay again, for a deadline that moved. A fixed delay is left running. */
  recheck() {
    if (this.timer !== null && typeof this.delay === 'function') {
      this.disarm();
      this.arm();
    }
  }

  remainingMs() {
    return typeof this.delay === 'function' ? this.delay() : this.delay;
  }

  arm() {
    const self = this;
    const first = this.remainingMs();
    this.timer = setTimeout(function turnOver() {
      self.timer = null;
      // Timers may fire early against the wall clock, and a function deadline may move.
      if (typeof self.delay === 'function' && self.remainingMs() > 0) {
        self.arm();
      } else {
        self.end();
      }
    }, Math.max(0, first));
  }

  disarm() {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  end() {
    this.disarm();
    this.skipRequested = false;
    const finish = this.finish;
    this.finish = null;
    if (finish !== null) {
      finish();
    }
  }
}
