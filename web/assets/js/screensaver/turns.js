/**
 * The wait between two slides, which device commands can cut short (`next`, `previous`) or
 * hold (`pause`).
 *
 * One wait runs at a time. A skip requested while no wait runs, for example while the next
 * slide is still loading, ends the following wait at once, so a command is never lost.
 */

export class TurnTimer {
  constructor() {
    this.paused = false;
    this.skipRequested = false;
    this.finish = null;
    this.timer = null;
    this.delayMs = 0;
  }

  /** Returns a promise that resolves after `delayMs`, on `skip()`, and never while paused. */
  wait(delayMs) {
    // A wait still running (not expected: the loop awaits each one) ends here, keeping any
    // skip requested for the new one.
    this.disarm();
    const previous = this.finish;
    this.finish = null;
    if (previous !== null) {
      previous();
    }
    const self = this;
    this.delayMs = delayMs;
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

  /** Advances again, after a full interval from now. */
  resume() {
    this.paused = false;
    if (this.finish !== null && this.timer === null) {
      this.arm();
    }
  }

  arm() {
    const self = this;
    this.timer = setTimeout(function turnOver() { self.end(); }, this.delayMs);
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
