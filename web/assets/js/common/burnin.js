/**
 * Burn-in protection: moves fixed text (titles, headers, clocks, badges, markers) by a few
 * pixels in a slow cycle, so no pixel shows the same edge for hours.
 *
 * The offset is written to the custom properties `--burn-in-x` and `--burn-in-y` on the root
 * element, and each mode's CSS applies them with the `translate` property to its fixed
 * elements. `translate` composes with any `transform` an element already has, and like
 * `transform` it needs no layout.
 */

import { readSecondsParameter } from './query.js';

/** Largest offset on each axis, in CSS pixels. */
const SHIFT_MAX_PX = 8;
/** Time for one full cycle of the path, in milliseconds. */
const DEFAULT_CYCLE_MS = 10 * 60 * 1000;
/** Offset updates per cycle: whole-pixel steps, so text never sits on a half pixel. */
const STEPS_PER_CYCLE = 120;

/**
 * Returns the offset at `phase` (0 to 1 over a cycle) in whole pixels from 0 to SHIFT_MAX_PX:
 * a Lissajous path whose vertical speed is twice the horizontal one, so the box visits the
 * whole square instead of one diagonal.
 */
export function shiftAt(phase) {
  const angle = 2 * Math.PI * phase;
  const half = SHIFT_MAX_PX / 2;
  return {
    x: Math.round(half + half * Math.sin(angle)),
    y: Math.round(half + half * Math.sin(2 * angle + Math.PI / 4)),
  };
}

export class BurnInShift {
  /**
   * @param {string} search the page URL's query string: `?burn_in_cycle=SECONDS` sets a
   *   shorter cycle for one screen or a test
   */
  constructor(search) {
    const cycleSeconds = readSecondsParameter(search, 'burn_in_cycle', 2, 24 * 3600);
    this.cycleMs = cycleSeconds !== null ? cycleSeconds * 1000 : DEFAULT_CYCLE_MS;
    this.timer = null;
    this.startedAt = Date.now();
    // On until the settings turn it off, so a screen that starts offline is protected too.
    this.setEnabled(true);
  }

  /** Starts or stops the cycle. Stopping puts the elements back at their place. */
  setEnabled(enabled) {
    if (enabled && this.timer === null) {
      const self = this;
      this.apply();
      this.timer = setInterval(function step() { self.apply(); }, this.cycleMs / STEPS_PER_CYCLE);
    } else if (!enabled && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
      this.write({ x: 0, y: 0 });
    }
    document.body.dataset.burnInShift = String(enabled);
  }

  apply() {
    const phase = ((Date.now() - this.startedAt) % this.cycleMs) / this.cycleMs;
    this.write(shiftAt(phase));
  }

  write(offset) {
    const style = document.documentElement.style;
    style.setProperty('--burn-in-x', offset.x + 'px');
    style.setProperty('--burn-in-y', offset.y + 'px');
  }
}
