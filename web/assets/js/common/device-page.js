/**
 * Remote control of a display page: the device session (pairing, commands, settings pushes)
 * and the TV-remote keys, driven by one handler table.
 *
 * Every display page shows its items in turns timed by a TurnTimer, so `next` ends the
 * current turn, `pause` stops it and `resume` lets it run again the same way on each page. The
 * page supplies `previous`, because going back means something different on each.
 *
 * Settings pushes: the session hands over the device's merged settings document. Its section
 * for the page's mode is kept, so the page can lay it over the global settings with `layOver`
 * after every refresh of those. The playlist starts again from a fresh first page when the
 * document's `filter` or `filter_rules` change, and once a new pairing has set the device
 * cookie, because the server selects a paired screen's items with that screen's filters.
 *
 * The device session is an extra: `?device=off` leaves it out, and a failure to start it is
 * logged and leaves the keys working.
 *
 * Test hooks: `document.body.dataset.paused` is "true" while the page is paused,
 * `document.body.dataset.turn` is "waiting" while the page waits for its next turn, and
 * `document.body.dataset.turnCount` counts the waits begun since the page loaded.
 */

import { DeviceSession, deviceSessionDisabled } from './device.js';
import { listenForKeys } from './keys.js';
import { listenForPreview, previewRequested } from './preview.js';

export class DeviceLink {
  /**
   * @param {object} options
   * @param {string} options.mode the page's display mode, also the key of its settings section
   * @param {import('./turns.js').TurnTimer} options.turns
   * @param {import('./playlist.js').Playlist} options.playlist
   * @param {function(): (string|null)} options.currentItemId the item reported in `status`
   * @param {function(): void} options.previous goes back one step, or throws when it cannot
   * @param {function(object|null, object): void} [options.onSettings] receives the device's
   *   section for this mode (null when the document has none) and the whole merged document
   */
  constructor(options) {
    this.mode = options.mode;
    this.turns = options.turns;
    this.playlist = options.playlist;
    this.currentItemId = options.currentItemId;
    this.previous = options.previous;
    this.onSettings = options.onSettings || function ignoreSettings() {};
    this.device = null;
    /** The device's section for this mode, or null without device settings. */
    this.section = null;
    /** `filter` and `filter_rules` of the last document, as JSON, or null before the first. */
    this.filterKey = null;
    this.turnCount = 0;
  }

  /**
   * Listens for remote keys and, unless the page URL has `device=off`, starts the session. As
   * the settings editor's preview (preview.js), the page takes its parent's settings instead.
   */
  start() {
    const self = this;
    listenForKeys(this.handlers(), function isPaused() { return self.turns.paused; });
    if (previewRequested(window.location.search)) {
      listenForPreview(function previewSettings(settings) { self.takeSettings(settings); });
      return;
    }
    if (!deviceSessionDisabled(window.location.search)) {
      this.startSession();
    }
  }

  startSession() {
    const self = this;
    try {
      this.device = new DeviceSession({
        mode: this.mode,
        getStatus: function readStatus() {
          return { current_item_id: self.currentItemId(), paused: self.turns.paused };
        },
        onSettings: function deviceSettings(merged) { self.takeSettings(merged); },
        onPaired: function devicePaired() { self.playlist.requestRefresh(); },
        handlers: this.handlers(),
      });
      this.device.start();
    } catch (error) {
      console.warn('The device session failed to start, showing posters without it:', error);
      this.device = null;
    }
  }

  /** Handlers of `next`, `previous`, `pause` and `resume`, for device commands and keys. */
  handlers() {
    const self = this;
    return {
      next: function next() { self.turns.skip(); },
      previous: function previous() { self.previous(); },
      pause: function pause() {
        self.turns.pause();
        document.body.dataset.paused = 'true';
        self.reportStatus();
      },
      resume: function resume() {
        self.turns.resume();
        delete document.body.dataset.paused;
        self.reportStatus();
      },
    };
  }

  /** Sends a `status` message now, for example after a new item is shown. */
  reportStatus() {
    if (this.device !== null) {
      this.device.sendStatus();
    }
  }

  /** Returns the server's clock in unix milliseconds, as far as the page can tell. */
  serverNowMs() {
    return this.device !== null ? this.device.serverNowMs() : Date.now();
  }

  /**
   * Returns `values` with the device's values for this mode laid over them, through the
   * page's `sanitize`. A device value whose type differs from the one in `values` is left
   * out, so an invalid override keeps the global value instead of the default.
   * @param {object} values the mode's current values
   * @param {function(object): object} sanitize returns valid values for any input
   */
  layOver(values, sanitize) {
    const device = this.section;
    if (device === null) {
      return values;
    }
    const combined = Object.assign({}, values);
    Object.keys(values).forEach(function copyValue(key) {
      if (typeof device[key] === typeof values[key]) {
        combined[key] = device[key];
      }
    });
    return sanitize(combined);
  }

  /**
   * Waits for the next turn through the TurnTimer, marking the wait on `<body>`.
   * @param {number|function(): number} delay see TurnTimer.wait
   */
  waitTurn(delay) {
    this.turnCount += 1;
    document.body.dataset.turnCount = String(this.turnCount);
    document.body.dataset.turn = 'waiting';
    return this.turns.wait(delay).then(function turnStarted() {
      delete document.body.dataset.turn;
    });
  }

  takeSettings(merged) {
    const section = merged[this.mode];
    this.section = section && typeof section === 'object' ? section : null;

    const filterKey = JSON.stringify([merged.filter || null, merged.filter_rules || null]);
    if (this.filterKey !== null && filterKey !== this.filterKey) {
      this.playlist.requestRefresh();
    }
    this.filterKey = filterKey;

    this.onSettings(this.section, merged);
  }
}
