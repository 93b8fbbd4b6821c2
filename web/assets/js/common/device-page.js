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
 * `pin` looks the item up in the page's playlist and hands it to the page's `pin` function, which
 * shows it at the end of the current turn. The turns then stay paused until `unpin`. While an item is
 * pinned, `next` and `previous` fail, so the screen cannot drift off the pinned item.
 *
 * The device session is an extra: `?device=off` leaves it out, and a failure to start it is
 * logged and leaves the keys working.
 *
 * Test hooks: `document.body.dataset.paused` is "true" while the page is paused,
 * `document.body.dataset.turn` is "waiting" while the page waits for its next turn, and
 * `document.body.dataset.turnCount` counts the waits begun since the page loaded, and
 * `document.body.dataset.pinned` is the id of the pinned item while there is one.
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
   * @param {function(object): void} options.pin shows this playlist item at the end of the
   *   current turn, and the paused turns keep it on screen
   * @param {function(object|null, object): void} [options.onSettings] receives the device's
   *   section for this mode (null when the document has none) and the whole merged document
   */
  constructor(options) {
    this.mode = options.mode;
    this.turns = options.turns;
    this.playlist = options.playlist;
    this.currentItemId = options.currentItemId;
    this.previous = options.previous;
    this.pin = options.pin;
    this.onSettings = options.onSettings || function ignoreSettings() {};
    this.device = null;
    /** The device's section for this mode, or null without device settings. */
    this.section = null;
    /** `filter` and `filter_rules` of the last document, as JSON, or null before the first. */
    this.filterKey = null;
    this.turnCount = 0;
    /** Whether a `pause` command or key paused the turns, apart from a pin. */
    this.paused = false;
    /** The id of the pinned item, or null. */
    this.pinnedId = null;
  }

  /**
   * Listens for remote keys and, unless the page URL has `device=off`, starts the session. As
   * the settings editor's preview (preview.js), the page takes its parent's settings instead.
   */
  start() {
    const self = this;
    listenForKeys(this.handlers(), function isPaused() { return self.paused; });
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
          return { current_item_id: self.currentItemId(), paused: self.paused };
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

  /** Handlers of `next`, `previous`, `pause`, `resume`, `pin` and `unpin`, for device commands and keys. */
  handlers() {
    const self = this;
    return {
      next: function next() {
        self.checkNotPinned();
        self.turns.skip();
      },
      previous: function previous() {
        self.checkNotPinned();
        self.previous();
      },
      pause: function pause() {
        self.paused = true;
        self.turns.pause();
        document.body.dataset.paused = 'true';
        self.reportStatus();
      },
      resume: function resume() {
        self.paused = false;
        if (self.pinnedId === null) {
          self.turns.resume();
        }
        delete document.body.dataset.paused;
        self.reportStatus();
      },
      pin: function pin(command) { return self.pinItem(command.item_id); },
      unpin: function unpin() {
        if (self.pinnedId === null) {
          throw new Error('no item is pinned');
        }
        self.pinnedId = null;
        delete document.body.dataset.pinned;
        if (!self.paused) {
          self.turns.resume();
        }
      },
    };
  }

  /** Finds `itemId` in the playlist and shows it at the end of the current turn until `unpin`. */
  async pinItem(itemId) {
    if (typeof itemId !== 'string' || itemId === '') {
      throw new Error('missing item_id: pin needs the id of a catalog item');
    }
    const item = await this.playlist.findItem(itemId);
    if (item === null) {
      throw new Error('item ' + JSON.stringify(itemId) + ' is not in the playlist of this '
        + this.mode + ' page: pin an item that this screen shows');
    }
    this.pinnedId = itemId;
    document.body.dataset.pinned = itemId;
    this.turns.pause();
    this.pin(item);
  }

  checkNotPinned() {
    if (this.pinnedId !== null) {
      throw new Error('item ' + JSON.stringify(this.pinnedId) + ' is pinned: send unpin first');
    }
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
