/**
 * Sleep schedule: the daily windows of `display.sleep`, in which the screen goes black and
 * loads no images.
 *
 * Windows run on the server's clock and in its time zone: the settings document carries
 * `server_time_ms` and `server_utc_offset_minutes`, so every screen sleeps at the same local
 * time whatever its own clock and zone are. The rule is the server's (`SleepWindow::contains`):
 * `from` inclusive, `until` exclusive, and a window whose `until` is earlier than its `from`
 * crosses midnight.
 */

import { sleep } from './timing.js';

/** Maximum windows in `display.sleep`, the same as the server's limit. */
export const MAX_SLEEP_WINDOWS = 8;
/** Maximum wait between checks while asleep, so a settings change wakes the screen within a minute. */
const RECHECK_MS = 60 * 1000;
const MINUTE_MS = 60 * 1000;
const MINUTES_PER_DAY = 24 * 60;

/** Parses `HH:MM` (two digits each, 00:00 to 23:59) into minutes since midnight, else null. */
export function parseTimeOfDay(text) {
  const match = typeof text === 'string' ? /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text) : null;
  return match === null ? null : Number(match[1]) * 60 + Number(match[2]);
}

/**
 * Copies the valid fields of the `display` section over the defaults. Windows with an invalid
 * time or an empty span are dropped, and at most eight are kept.
 * @returns {{burn_in_shift: boolean, sleep: Array<{from: number, until: number}>}} windows in
 *   minutes since midnight
 */
export function sanitizeScreen(received) {
  const source = received && typeof received === 'object' ? received : {};
  const windows = Array.isArray(source.sleep) ? source.sleep.slice(0, MAX_SLEEP_WINDOWS) : [];
  const sleepWindows = [];
  windows.forEach(function keepValid(window) {
    const from = window ? parseTimeOfDay(window.from) : null;
    const until = window ? parseTimeOfDay(window.until) : null;
    if (from !== null && until !== null && from !== until) {
      sleepWindows.push({ from: from, until: until });
    }
  });
  return {
    burn_in_shift: typeof source.burn_in_shift === 'boolean' ? source.burn_in_shift : true,
    sleep: sleepWindows,
  };
}

/** Returns whether `window` contains `minutes`, the minutes since midnight. */
export function windowContains(window, minutes) {
  if (window.from < window.until) {
    return window.from <= minutes && minutes < window.until;
  }
  return minutes >= window.from || minutes < window.until;
}

/** Returns the minutes since local midnight at `serverMs` (unix milliseconds) and `offsetMinutes` east of UTC. */
export function minutesOfDay(serverMs, offsetMinutes) {
  const local = new Date(serverMs + offsetMinutes * MINUTE_MS);
  return local.getUTCHours() * 60 + local.getUTCMinutes();
}

/**
 * Returns the milliseconds until no window contains the time, 0 when none does now, or null
 * when the windows cover the whole day.
 */
export function msUntilWake(windows, serverMs, offsetMinutes) {
  function asleepAt(ms) {
    const minutes = minutesOfDay(ms, offsetMinutes);
    return windows.some(function contains(window) { return windowContains(window, minutes); });
  }
  if (!asleepAt(serverMs)) {
    return 0;
  }
  // Windows change state only at whole minutes, so the minute starts are enough to check.
  let candidate = serverMs - (serverMs % MINUTE_MS) + MINUTE_MS;
  for (let step = 0; step < MINUTES_PER_DAY; step += 1) {
    if (!asleepAt(candidate)) {
      return candidate - serverMs;
    }
    candidate += MINUTE_MS;
  }
  return null;
}

export class SleepSchedule {
  /**
   * @param {function(): number} readServerMs returns the server's clock in unix milliseconds
   */
  constructor(readServerMs) {
    this.readServerMs = readServerMs;
    this.windows = [];
    this.offsetMinutes = 0;
    this.asleep = false;
  }

  /** Takes the settings document from `api/v1/display-settings`, or null before the first one. */
  update(document) {
    if (!document || typeof document !== 'object') {
      return;
    }
    this.windows = sanitizeScreen(document.display).sleep;
    if (typeof document.server_utc_offset_minutes === 'number') {
      this.offsetMinutes = document.server_utc_offset_minutes;
    }
  }

  /** Returns whether a window contains the server's time now. */
  isScheduled() {
    return msUntilWake(this.windows, this.readServerMs(), this.offsetMinutes) !== 0;
  }

  /**
   * Keeps the screen black while a window is open, calling `refresh` (the settings check)
   * at least once a minute so a changed schedule applies. Resolves at once when no window
   * is open. Never rejects unless `refresh` does.
   */
  async waitWhileScheduled(refresh) {
    if (!this.isScheduled()) {
      return;
    }
    console.info('Sleep window started: the screen stays black and loads no images until it ends');
    this.setAsleep(true);
    for (;;) {
      const wakeMs = msUntilWake(this.windows, this.readServerMs(), this.offsetMinutes);
      if (wakeMs === 0) {
        break;
      }
      await sleep(wakeMs === null ? RECHECK_MS : Math.min(wakeMs, RECHECK_MS));
      await refresh();
    }
    console.info('Sleep window ended');
    this.setAsleep(false);
  }

  setAsleep(asleep) {
    this.asleep = asleep;
    document.body.classList.toggle('sleeping', asleep);
    document.body.dataset.sleeping = String(asleep);
  }
}
