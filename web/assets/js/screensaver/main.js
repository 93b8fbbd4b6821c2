/**
 * Screensaver page: wires the modules together and runs the slide loop.
 *
 * Each turn of the loop shows the slide prepared during the previous turn, checks the settings
 * with a conditional GET (a cheap 304 when nothing changed), starts preparing the next slide
 * and waits for the interval. All waiting goes through one timer per turn, and no listener is
 * added per slide, so nothing piles up on a screen that runs for weeks.
 *
 * The device session (common/device.js) is an extra: it starts after the slideshow, its
 * failures are logged and never reach the loop, and `?device=off` leaves it out.
 */

import { ApiError } from '../common/api.js';
import { Connection } from '../common/connection.js';
import { Playlist } from '../common/playlist.js';
import { RecentUrls } from '../common/preload.js';
import { StatusIndicator } from '../common/status.js';
import { DeviceSession, deviceSessionDisabled } from '../common/device.js';
import { DEFAULT_SCREENSAVER, SettingsStore, readIntervalOverride } from './settings.js';
import { Slideshow, discardSlide, prepareSlide } from './slideshow.js';
import { TurnTimer } from './turns.js';

/** Items per playlist request. */
const PAGE_SIZE = 50;
/** Items whose images are loaded per turn at most, so a run of broken items cannot flood the server. */
const MAX_LOADS_PER_TURN = 10;
/** Main image URLs remembered as loaded, which an offline screen can still show from cache. */
const RECENT_URL_CAPACITY = 500;
/** Items shown, newest last, that `previous` can go back to. */
const HISTORY_CAPACITY = 20;

const MESSAGE_EMPTY = 'No posters yet: add images to the media folder';
const MESSAGE_UNREACHABLE = 'Cannot reach the Onesheet server. Retrying\u2026';
const MESSAGE_LOADING = 'Waiting for posters to load\u2026';

function sleep(milliseconds) {
  return new Promise(function wait(resolve) { setTimeout(resolve, milliseconds); });
}

function mainImageUrl(item) {
  return item.images.poster || item.images.background;
}

class Screensaver {
  /**
   * @param {{stage: HTMLElement, message: HTMLElement, marker: HTMLElement}} elements
   * @param {number|null} intervalOverrideSeconds
   */
  constructor(elements, intervalOverrideSeconds) {
    const self = this;
    this.message = elements.message;
    this.settings = new SettingsStore(intervalOverrideSeconds);
    this.status = new StatusIndicator(document.body, elements.marker);
    this.slideshow = new Slideshow(elements.stage);
    this.recentUrls = new RecentUrls(RECENT_URL_CAPACITY);
    this.hasPresented = false;
    this.turns = new TurnTimer();
    this.history = [];
    this.backRequested = false;
    /** The slide prepared before a `previous` command, shown after the previous item. */
    this.stashed = null;
    /** The screensaver part of the device's merged settings, or null without a device session. */
    this.deviceScreensaver = null;
    this.device = null;
    this.connection = new Connection({
      probe: function probeServer() { return self.refreshSettings(); },
      onChange: function onConnectionChange(online) { self.handleConnectionChange(online); },
    });
    this.playlist = new Playlist({ connection: this.connection, mode: 'screensaver', pageSize: PAGE_SIZE });
  }

  async run() {
    this.applySettings();
    await this.checkSettings();
    let pending = this.prepareNext();
    for (;;) {
      try {
        this.present(await pending);
        const turn = this.turns.wait(this.settings.intervalMs());
        await this.checkSettings();
        pending = this.prepareNext();
        await turn;
        pending = this.takePreviousRequest(pending);
      } catch (error) {
        // Not expected: every step handles its own errors. Keep the screen alive regardless.
        console.error('Screensaver turn failed:', error);
        pending = this.prepareNext();
        await sleep(this.settings.intervalMs());
      }
    }
  }

  async refreshSettings() {
    const changed = await this.settings.refresh();
    if (changed) {
      this.overlayDeviceSettings();
      this.applySettings();
    }
  }

  /**
   * Takes the device's merged settings document. Its screensaver part wins over the global
   * settings that `api/v1/display-settings` returns.
   */
  setDeviceSettings(merged) {
    const screensaver = merged && merged.screensaver;
    this.deviceScreensaver = screensaver && typeof screensaver === 'object' ? screensaver : null;
    this.overlayDeviceSettings();
    this.applySettings();
  }

  /** Copies the device's screensaver values that have the expected type over the settings. */
  overlayDeviceSettings() {
    const device = this.deviceScreensaver;
    if (device === null) {
      return;
    }
    const current = this.settings.screensaver;
    Object.keys(DEFAULT_SCREENSAVER).forEach(function copyValue(key) {
      if (typeof device[key] === typeof DEFAULT_SCREENSAVER[key]) {
        current[key] = device[key];
      }
    });
  }

  /** Starts the device session. Its failures are logged and never stop the slideshow. */
  startDeviceSession() {
    const self = this;
    try {
      this.device = new DeviceSession({
        mode: 'screensaver',
        getStatus: function readStatus() {
          return { current_item_id: self.slideshow.currentItemId(), paused: self.turns.paused };
        },
        onSettings: function deviceSettings(merged) { self.setDeviceSettings(merged); },
        handlers: {
          next: function next() { self.turns.skip(); },
          previous: function previous() { self.requestPrevious(); },
          pause: function pause() { self.turns.pause(); self.reportStatus(); },
          resume: function resume() { self.turns.resume(); self.reportStatus(); },
        },
      });
      this.device.start();
    } catch (error) {
      console.warn('The device session failed to start, showing posters without it:', error);
      this.device = null;
    }
  }

  reportStatus() {
    if (this.device !== null) {
      this.device.sendStatus();
    }
  }

  /** Goes back one item at the end of the current turn. */
  requestPrevious() {
    if (this.history.length < 2) {
      throw new Error('no previous item to show yet');
    }
    this.backRequested = true;
    this.turns.skip();
  }

  /**
   * Returns `pending` unchanged, or after a `previous` command the previous item's slide. The
   * slide `pending` prepared is kept and comes next.
   */
  takePreviousRequest(pending) {
    if (!this.backRequested) {
      return pending;
    }
    this.backRequested = false;
    if (this.stashed === null) {
      this.stashed = pending;
    } else {
      // Back twice in a row: the slide prepared in between is the one to drop.
      pending.then(function drop(prepared) {
        if (prepared !== null) {
          discardSlide(prepared);
        }
      });
    }
    return this.preparePrevious();
  }

  /** Prepares the item shown before the current one. Returns null when it cannot load. */
  async preparePrevious() {
    if (this.history.length < 2) {
      return null;
    }
    this.history.pop();
    const item = this.history[this.history.length - 1];
    try {
      const prepared = await prepareSlide(item, this.settings.screensaver);
      prepared.fromHistory = true;
      return prepared;
    } catch (error) {
      console.warn('Cannot show the previous item ' + item.id + ': ' + error.message);
      return null;
    }
  }

  /** Applies the transition length at once. Layout and overlay settings apply from the next slide. */
  applySettings() {
    this.slideshow.setTransitionMs(this.settings.transitionMs());
  }

  /** Checks the settings unless offline. While offline, the connection's retry timer does it. */
  async checkSettings() {
    if (!this.connection.isOnline()) {
      return;
    }
    const self = this;
    try {
      await this.connection.request(function sendSettingsRequest() { return self.refreshSettings(); });
    } catch (error) {
      if (error instanceof ApiError) {
        console.error('Settings request rejected (' + error.code + ', request id ' + error.requestId + '):', error.message);
      }
    }
  }

  handleConnectionChange(online) {
    this.status.setOnline(online);
    if (online) {
      // New items may have arrived while the server was away.
      this.playlist.requestRefresh();
    }
    this.updateMessage();
  }

  /**
   * Finds the next item whose images load and prepares its slide. Returns null when no
   * candidate could be shown this turn. Never rejects.
   */
  async prepareNext() {
    if (this.stashed !== null) {
      const stashed = this.stashed;
      this.stashed = null;
      const prepared = await stashed;
      if (prepared !== null) {
        return prepared;
      }
    }
    const currentId = this.slideshow.currentItemId();
    let loads = 0;
    for (let examined = 0; ; examined += 1) {
      const item = await this.playlist.next();
      if (item === null || examined >= Math.max(this.playlist.size(), 1)) {
        // Nothing buffered, or every buffered item has been examined once.
        return null;
      }
      if (item.id === currentId && this.playlist.size() > 1) {
        continue;
      }
      const url = mainImageUrl(item);
      if (!this.connection.isOnline() && !this.recentUrls.has(url)) {
        // Not in the browser cache, so loading it offline would fail.
        continue;
      }
      if (loads >= MAX_LOADS_PER_TURN) {
        return null;
      }
      loads += 1;
      try {
        const prepared = await prepareSlide(item, this.settings.screensaver);
        this.recentUrls.add(url);
        return prepared;
      } catch (error) {
        console.warn('Skipping item ' + item.id + ': ' + error.message);
      }
    }
  }

  present(prepared) {
    if (prepared !== null) {
      if (prepared.item.id === this.slideshow.currentItemId()) {
        // A playlist of one item: keep it on screen without a transition.
        discardSlide(prepared);
      } else {
        this.slideshow.show(prepared, this.settings.screensaver);
        this.remember(prepared);
        this.reportStatus();
      }
    } else if (this.playlist.isEmpty()) {
      this.slideshow.clear();
    }
    this.hasPresented = true;
    this.updateMessage();
  }

  /** Adds a newly shown item to the history that `previous` walks back. */
  remember(prepared) {
    if (prepared.fromHistory) {
      return;
    }
    this.history.push(prepared.item);
    if (this.history.length > HISTORY_CAPACITY) {
      this.history.shift();
    }
  }

  updateMessage() {
    let text = null;
    if (this.slideshow.currentItemId() === null) {
      if (this.playlist.isEmpty()) {
        text = MESSAGE_EMPTY;
      } else if (!this.connection.isOnline()) {
        text = MESSAGE_UNREACHABLE;
      } else if (this.hasPresented) {
        text = MESSAGE_LOADING;
      }
    }
    this.message.textContent = text || '';
    this.message.hidden = text === null;
  }
}

const screensaver = new Screensaver(
  {
    stage: document.getElementById('stage'),
    message: document.getElementById('message'),
    marker: document.getElementById('offline-marker'),
  },
  readIntervalOverride(window.location.search)
);
screensaver.run();
if (!deviceSessionDisabled(window.location.search)) {
  screensaver.startDeviceSession();
}
