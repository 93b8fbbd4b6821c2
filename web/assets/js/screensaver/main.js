/**
 * Screensaver page: wires the modules together and runs the slide loop.
 *
 * Each turn of the loop shows the slide prepared during the previous turn, checks the settings
 * with a conditional GET (a cheap 304 when nothing changed), starts preparing the next slide
 * and waits for the interval. All waiting goes through one timer per turn, and no listener is
 * added per slide, so nothing piles up on a screen that runs for weeks.
 *
 * The device session and the remote keys (common/device-page.js) start after the slideshow.
 * Session failures are logged and never reach the loop, and `?device=off` leaves it out.
 *
 * In a synchronised group the playlist carries the group's schedule, and each turn ends when
 * the next slot starts on the server clock instead of after the interval. Commands leave a
 * screen out of step for one slot at most. `next` shows the coming slot's item early, and
 * `previous` shows the last item until the next slot starts. After `resume`, a paused screen
 * switches at the slot it was waiting for if that slot has not started yet. Otherwise it shows
 * the slide it prepared at once and follows the schedule again from the next slot.
 */

import { ApiError } from '../common/api.js';
import { BurnInShift } from '../common/burnin.js';
import { Connection } from '../common/connection.js';
import { Playlist } from '../common/playlist.js';
import { PosterPool } from '../common/pool.js';
import { RecentUrls } from '../common/preload.js';
import { SleepSchedule, sanitizeScreen } from '../common/sleep.js';
import { sizedImageUrl } from '../common/sizing.js';
import { StatusIndicator } from '../common/status.js';
import { Watchdog } from '../common/watchdog.js';
import { DeviceLink } from '../common/device-page.js';
import { Clock } from './clock.js';
import { SettingsStore, readIntervalOverride, sanitizeScreensaver } from './settings.js';
import { Slideshow, discardSlide, prepareSlide } from './slideshow.js';
import { TurnTimer } from '../common/turns.js';

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

/** Returns the URL of the main image at the size the slideshow loads it, for the offline pool. */
function pooledImageUrl(item) {
  return item.images.poster
    ? sizedImageUrl(item.images.poster, 'poster')
    : sizedImageUrl(item.images.background, 'background');
}

class Screensaver {
  /**
   * @param {{stage: HTMLElement, message: HTMLElement, marker: HTMLElement, clock: HTMLElement}} elements
   * @param {number|null} intervalOverrideSeconds
   */
  constructor(elements, intervalOverrideSeconds) {
    const self = this;
    this.message = elements.message;
    this.settings = new SettingsStore(intervalOverrideSeconds);
    this.status = new StatusIndicator(document.body, elements.marker);
    this.slideshow = new Slideshow(elements.stage);
    this.clock = new Clock(elements.clock, function readServerTime() { return self.settings.now(); });
    this.recentUrls = new RecentUrls(RECENT_URL_CAPACITY);
    this.hasPresented = false;
    this.turns = new TurnTimer();
    /** In a synchronised group: the slot of the slide on screen, and the slot to show next. */
    this.shownSlot = null;
    this.targetSlot = null;
    this.history = [];
    this.backRequested = false;
    /** The item a `pin` command requested, shown at the end of the current turn. */
    this.pinRequest = null;
    /** The slide prepared before a `previous` or `pin` command, shown after that item. */
    this.stashed = null;
    this.connection = new Connection({
      probe: function probeServer() { return self.refreshSettings(); },
      onChange: function onConnectionChange(online) { self.handleConnectionChange(online); },
    });
    this.playlist = new Playlist({ connection: this.connection, mode: 'screensaver', pageSize: PAGE_SIZE });
    this.remote = new DeviceLink({
      mode: 'screensaver',
      turns: this.turns,
      playlist: this.playlist,
      currentItemId: function currentItemId() { return self.slideshow.currentItemId(); },
      previous: function previous() { self.requestPrevious(); },
      pin: function pin(item) { self.requestPin(item); },
      onSettings: function deviceSettings() { self.setDeviceSettings(); },
    });
    this.pool = new PosterPool('screensaver');
    this.burnIn = new BurnInShift(window.location.search);
    this.sleepSchedule = new SleepSchedule(function serverNow() { return self.settings.now().getTime(); });
    this.watchdog = new Watchdog({
      intervalMs: function interval() { return self.settings.intervalMs(); },
      expectsFrames: function expectsFrames() {
        return self.connection.isOnline() && !self.turns.paused && !self.sleepSchedule.asleep
          && self.playlist.size() > 1;
      },
    });
  }

  async run() {
    const self = this;
    this.applySettings();
    await this.checkSettings();
    if (!this.connection.isOnline()) {
      await this.pool.seed(this.playlist);
    }
    this.watchdog.start();
    let pending = this.prepareNext();
    for (;;) {
      try {
        await this.sleepSchedule.waitWhileScheduled(function refresh() { return self.checkSettings(); });
        this.present(await pending);
        const turn = this.remote.waitTurn(this.turnDelay());
        await this.checkSettings();
        pending = this.prepareNext();
        await turn;
        pending = this.takeRequest(pending);
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
    this.sleepSchedule.update(this.settings.document);
    this.burnIn.setEnabled(sanitizeScreen(this.settings.document && this.settings.document.display).burn_in_shift);
    if (changed) {
      this.overlayDeviceSettings();
      this.applySettings();
    }
  }

  /**
   * Applies new device settings. Their screensaver section wins over the global settings that
   * `api/v1/display-settings` returns.
   */
  setDeviceSettings() {
    this.overlayDeviceSettings();
    this.applySettings();
    if (this.playlist.schedule !== null) {
      // The group's interval may have changed, so its schedule is read again.
      this.playlist.requestRefresh();
    }
    // The session has just measured the server clock.
    this.turns.recheck();
  }

  /** Lays the device's screensaver values over the settings, dropping invalid ones. */
  overlayDeviceSettings() {
    this.settings.screensaver = this.remote.layOver(this.settings.screensaver, sanitizeScreensaver);
  }

  /** Goes back one item at the end of the current turn. */
  requestPrevious() {
    if (this.history.length < 2) {
      throw new Error('no previous item to show yet');
    }
    this.backRequested = true;
    this.turns.skip();
  }

  /** Shows `item` at the end of the current turn. */
  requestPin(item) {
    this.pinRequest = item;
    this.turns.skip();
  }

  /**
   * Returns `pending` unchanged, or after a `pin` or `previous` command the slide of the item
   * it requested. The slide `pending` prepared is kept and comes next.
   */
  takeRequest(pending) {
    const pinned = this.pinRequest;
    if (!this.backRequested && pinned === null) {
      return pending;
    }
    this.pinRequest = null;
    if (this.stashed === null) {
      this.stashed = pending;
    } else {
      // A second request in a row: the slide prepared in between is the one to drop.
      pending.then(function drop(prepared) {
        if (prepared !== null) {
          discardSlide(prepared);
        }
      });
    }
    // A pin replaces a `previous` that came before it in the same turn.
    this.backRequested = false;
    if (pinned !== null) {
      return this.preparePinned(pinned);
    }
    return this.preparePrevious();
  }

  /** Prepares the slide of a pinned item. Returns null when it cannot load. */
  async preparePinned(item) {
    try {
      return await prepareSlide(item, this.settings.screensaver);
    } catch (error) {
      console.warn('Cannot show the pinned item ' + item.id + ': ' + error.message);
      return null;
    }
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

  /**
   * Applies the transition length and the clock at once. Transition, layout and overlay
   * settings apply from the next slide.
   */
  applySettings() {
    const screensaver = this.settings.screensaver;
    this.slideshow.setTransitionMs(this.settings.transitionMs());
    this.slideshow.setIntervalMs(this.settings.intervalMs());
    this.clock.apply(screensaver.clock, screensaver.clock_time_zone);
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
    await this.playlist.loadIfNeeded();
    if (this.playlist.schedule !== null) {
      return this.prepareScheduled();
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
      if (!this.connection.isOnline() && !this.recentUrls.has(url) && !this.pool.has(item.id)) {
        // Not in the browser cache or the offline pool, so loading it offline would fail.
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

  /** Returns the server's clock in unix milliseconds, as far as the page can tell. */
  serverNowMs() {
    return this.remote.serverNowMs();
  }

  /**
   * Returns the wait before the next slide: the interval, or in a synchronised group a
   * function of the time left until the next slot starts, which the timer reads again when it
   * fires or resumes.
   */
  turnDelay() {
    const schedule = this.playlist.schedule;
    if (schedule === null) {
      this.targetSlot = null;
      return this.settings.intervalMs();
    }
    this.targetSlot = schedule.slotAfter(this.serverNowMs(), this.shownSlot);
    const self = this;
    return function timeToTargetSlot() {
      const current = self.playlist.schedule;
      if (current === null || self.targetSlot === null) {
        return 0;
      }
      return current.startOf(self.targetSlot) - self.serverNowMs();
    };
  }

  /**
   * Prepares the slide of the slot that `turnDelay` chose, or before the first turn the slot
   * running now, and tags it with its slot. Returns null when the item cannot be shown.
   */
  async prepareScheduled() {
    const schedule = this.playlist.schedule;
    let slot = this.targetSlot !== null ? this.targetSlot : schedule.slotAt(this.serverNowMs());
    let item = await this.playlist.itemForSlot(slot);
    const current = this.playlist.schedule;
    if (current !== schedule && current !== null && this.targetSlot !== null) {
      // A fresh page brought a new interval: aim at the next slot of the new schedule.
      this.targetSlot = current.slotAfter(this.serverNowMs(), null);
      this.turns.recheck();
      slot = this.targetSlot;
      item = await this.playlist.itemForSlot(slot);
    }
    if (item === null) {
      return null;
    }
    try {
      const prepared = await prepareSlide(item, this.settings.screensaver);
      prepared.slot = slot;
      this.recentUrls.add(mainImageUrl(item));
      return prepared;
    } catch (error) {
      console.warn('Cannot show item ' + item.id + ' of slot ' + slot + ': ' + error.message);
      return null;
    }
  }

  present(prepared) {
    if (prepared !== null) {
      if (prepared.slot !== undefined) {
        this.shownSlot = prepared.slot;
      }
      if (prepared.item.id === this.slideshow.currentItemId()) {
        // A playlist of one item: keep it on screen without a transition.
        discardSlide(prepared);
        this.watchdog.frame();
      } else {
        this.slideshow.show(prepared, this.settings.screensaver);
        this.watchdog.frame();
        if (this.connection.isOnline()) {
          this.pool.add(prepared.item, pooledImageUrl(prepared.item));
        }
        this.remember(prepared);
        this.remote.reportStatus();
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
      if (this.playlist.rejection !== null) {
        text = this.playlist.rejectionMessage();
      } else if (this.playlist.isEmpty()) {
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
    clock: document.getElementById('clock'),
  },
  readIntervalOverride(window.location.search)
);
screensaver.run();
screensaver.remote.start();
