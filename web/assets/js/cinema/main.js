/**
 * Cinema page: one poster at a time in a portrait lobby layout.
 *
 * Each turn shows the slide prepared during the previous turn, checks the settings with a
 * conditional GET, applies the orientation, starts preparing the next slide and waits for the
 * interval. The header rule is evaluated when a slide is shown, by the server's clock.
 *
 * While `cinema.now_playing` is on, the page also polls what the media servers play. A session
 * covers the rotation with the now-playing view, and the rotation waits until it ends.
 *
 * Remote control (keys and device commands, see common/device-page.js) ends the turn at once
 * (`next`), shows the poster before the current one (`previous`), or stops the rotation
 * (`pause`) until `resume`. Pushed device settings apply at once to the orientation, the
 * now-playing poll and the header of the poster on screen, and from the next poster to the
 * rest. Pairing sets the device cookie, which is how `api/v1/now-playing` applies this
 * screen's player and user rule.
 */

import { BurnInShift } from '../common/burnin.js';
import { Connection } from '../common/connection.js';
import { Playlist } from '../common/playlist.js';
import { PosterPool } from '../common/pool.js';
import { RecentUrls, loadImage, releaseImage } from '../common/preload.js';
import { readSecondsParameter } from '../common/query.js';
import { DeviceLink } from '../common/device-page.js';
import { checkSettings } from '../common/settings.js';
import { sizedBoxImageUrl } from '../common/sizing.js';
import { SleepSchedule, sanitizeScreen } from '../common/sleep.js';
import { StatusIndicator } from '../common/status.js';
import { Watchdog } from '../common/watchdog.js';
import { sleep } from '../common/timing.js';
import { headerFor } from './header.js';
import { NowPlayingPoller } from './now-playing.js';
import { applyFrame, computeFrame } from './orientation.js';
import { createCinemaSettings } from './settings.js';
import { TurnTimer } from '../common/turns.js';
import { CinemaSlides } from './slides.js';
import { Takeover } from './takeover.js';

/** Items per playlist request. */
const PAGE_SIZE = 50;
/** Items whose posters are loaded per turn at most, so a run of broken items cannot flood the server. */
const MAX_LOADS_PER_TURN = 10;
/** Poster URLs remembered as loaded, which an offline screen can still show from cache. */
const RECENT_URL_CAPACITY = 500;
/** Share of the frame the poster may cover, for the image size requested from the server. */
const POSTER_WIDTH_SHARE = 0.9;
const POSTER_HEIGHT_SHARE = 0.75;
/** Items shown, newest last, that `previous` can go back to. */
const HISTORY_CAPACITY = 20;

const MESSAGE_EMPTY = 'No posters yet: add images to the media folder';
const MESSAGE_UNREACHABLE = 'Cannot reach the Onesheet server. Retrying\u2026';

class Cinema {
  /**
   * @param {{frame: HTMLElement, message: HTMLElement, marker: HTMLElement}} elements
   * @param {number|null} intervalOverrideSeconds
   */
  constructor(elements, intervalOverrideSeconds) {
    const self = this;
    this.frameElement = elements.frame;
    this.message = elements.message;
    this.intervalOverrideSeconds = intervalOverrideSeconds;
    this.settings = createCinemaSettings();
    this.status = new StatusIndicator(document.body, elements.marker);
    this.slides = new CinemaSlides(elements.frame);
    this.recentUrls = new RecentUrls(RECENT_URL_CAPACITY);
    this.frame = null;
    this.turns = new TurnTimer();
    this.history = [];
    this.backRequested = false;
    /** The item a `pin` command requested, shown at the end of the current turn. */
    this.pinRequest = null;
    /** The poster loaded before a `previous` or `pin` request, shown after that item. */
    this.stashed = null;
    /** The item of the slide on screen, whose header a settings push redraws. */
    this.shownItem = null;
    this.connection = new Connection({
      probe: function probeServer() { return self.settings.refresh(); },
      onChange: function onConnectionChange(online) { self.handleConnectionChange(online); },
    });
    this.playlist = new Playlist({ connection: this.connection, mode: 'cinema', pageSize: PAGE_SIZE });
    this.pool = new PosterPool('cinema');
    this.remote = new DeviceLink({
      mode: 'cinema',
      turns: this.turns,
      playlist: this.playlist,
      currentItemId: function currentItemId() { return self.slides.currentItemId(); },
      previous: function previous() { self.requestPrevious(); },
      pin: function pin(item) { self.requestPin(item); },
      onSettings: function deviceSettings() { self.applyDeviceSettings(); },
    });
    this.burnIn = new BurnInShift(window.location.search);
    this.sleepSchedule = new SleepSchedule(function serverNow() { return self.settings.now().getTime(); });
    this.watchdog = new Watchdog({
      intervalMs: function interval() { return self.intervalMs(); },
      expectsFrames: function expectsFrames() {
        return self.connection.isOnline() && !self.turns.paused && !self.sleepSchedule.asleep
          && !self.takeover.isActive() && self.playlist.size() > 1;
      },
    });
    this.takeover = new Takeover(elements.frame, function serverNow() { return self.settings.now().getTime(); });
    this.nowPlaying = new NowPlayingPoller({
      connection: this.connection,
      onUpdate: function onNowPlaying(session, reportedAtMs) { self.showNowPlaying(session, reportedAtMs); },
    });
    window.addEventListener('resize', function onResize() { self.applyOrientation(); });
  }

  intervalMs() {
    const seconds = this.intervalOverrideSeconds !== null
      ? this.intervalOverrideSeconds
      : this.settings.values.interval_seconds;
    return seconds * 1000;
  }

  async run() {
    const self = this;
    await this.refreshSettings();
    if (!this.connection.isOnline()) {
      await this.pool.seed(this.playlist);
    }
    this.watchdog.start();
    let pending = this.prepareNext();
    for (;;) {
      try {
        await this.sleepSchedule.waitWhileScheduled(function refresh() { return self.refreshSettings(); });
        await this.takeover.whenIdle();
        this.present(await pending);
        const turn = this.remote.waitTurn(this.intervalMs());
        await this.refreshSettings();
        pending = this.prepareNext();
        await turn;
        pending = this.takeRequest(pending);
      } catch (error) {
        // Not expected: every step handles its own errors. Keep the screen alive regardless.
        console.error('Cinema turn failed:', error);
        pending = this.prepareNext();
        await sleep(this.intervalMs());
      }
    }
  }

  /** Goes back one poster at the end of the current turn. */
  requestPrevious() {
    if (this.history.length < 2) {
      throw new Error('no previous poster to show yet');
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
   * Returns `pending` unchanged, or after a `pin` or `previous` request the poster of the item
   * it requested. The poster `pending` loads is kept and comes next.
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
      // A second request in a row: the poster loaded in between is the one to drop.
      pending.then(function release(prepared) {
        if (prepared !== null) {
          releaseImage(prepared.image);
        }
      });
    }
    // A pin replaces a `previous` that came before it in the same turn.
    this.backRequested = false;
    if (pinned !== null) {
      return this.loadPoster(pinned);
    }
    this.history.pop();
    const item = this.history[this.history.length - 1];
    return this.loadPoster(item).then(function markFromHistory(prepared) {
      if (prepared !== null) {
        prepared.fromHistory = true;
      }
      return prepared;
    });
  }

  async refreshSettings() {
    const self = this;
    await checkSettings(this.connection, function refresh() { return self.settings.refresh(); });
    this.sleepSchedule.update(this.settings.document);
    this.burnIn.setEnabled(sanitizeScreen(this.settings.document && this.settings.document.display).burn_in_shift);
    this.applyValues();
  }

  /** Lays the device's cinema values over the global ones and applies those that take effect at once. */
  applyValues() {
    this.settings.values = this.remote.layOver(this.settings.values, this.settings.sanitize);
    this.applyOrientation();
    if (this.settings.values.now_playing) {
      this.nowPlaying.start();
    } else {
      this.nowPlaying.stop();
    }
  }

  /** Applies pushed device settings, the header of the poster on screen included. */
  applyDeviceSettings() {
    this.applyValues();
    this.redrawHeader();
  }

  /** Evaluates the header rule of the slide on screen again and shows its new text. */
  redrawHeader() {
    const slide = this.slides.current;
    if (!slide || this.shownItem === null || slide.dataset.itemId !== this.shownItem.id) {
      return;
    }
    const header = headerFor(this.shownItem, this.settings.values, this.settings.now());
    const headerElement = slide.querySelector('.header');
    const text = slide.querySelector('.header-text');
    if (!headerElement || !text) {
      return;
    }
    // The same class names as a slide gets when it is built (slides.js).
    headerElement.className = 'header header-' + header.rule.replace('_', '-');
    text.textContent = header.text;
    document.body.dataset.header = header.rule;
  }

  async showNowPlaying(session, reportedAtMs) {
    try {
      await this.takeover.update(session, reportedAtMs, this.settings.values, this.frame);
    } catch (error) {
      // Not expected: a failed poster load shows the placeholder. Keep the rotation alive.
      console.error('Showing the now-playing session failed:', error);
      this.takeover.hide();
    }
    this.updateMessage();
  }

  applyOrientation() {
    const width = window.innerWidth || document.documentElement.clientWidth;
    const height = window.innerHeight || document.documentElement.clientHeight;
    this.frame = computeFrame(width, height, this.settings.values);
    applyFrame(this.frameElement, this.frame);
    this.slides.refit();
    this.takeover.refit();
  }

  /**
   * Finds the next item whose poster loads. Returns null when no candidate could be shown
   * this turn. Never rejects.
   */
  async prepareNext() {
    if (this.stashed !== null) {
      const stashed = await this.stashed;
      this.stashed = null;
      if (stashed !== null) {
        return stashed;
      }
    }
    const currentId = this.slides.currentItemId();
    let loads = 0;
    for (let examined = 0; ; examined += 1) {
      const item = await this.playlist.next();
      if (item === null || examined >= Math.max(this.playlist.size(), 1)) {
        return null;
      }
      if (typeof item.images.poster !== 'string' || (item.id === currentId && this.playlist.size() > 1)) {
        continue;
      }
      const url = this.posterUrl(item);
      if (!this.connection.isOnline() && !this.recentUrls.has(url) && !this.pool.has(item.id)) {
        // Not in the browser cache or the offline pool, so loading it offline would fail.
        continue;
      }
      if (loads >= MAX_LOADS_PER_TURN) {
        return null;
      }
      loads += 1;
      try {
        const image = await this.pool.loadFor(item, url, item.title || '', this.connection.isOnline());
        this.recentUrls.add(url);
        return { item: item, image: image };
      } catch (error) {
        console.warn('Skipping item ' + item.id + ': ' + error.message);
      }
    }
  }

  posterUrl(item) {
    return sizedBoxImageUrl(item.images.poster,
      this.frame.width * POSTER_WIDTH_SHARE, this.frame.height * POSTER_HEIGHT_SHARE);
  }

  /** Loads the poster of `item`. Returns null when it fails to load. */
  async loadPoster(item) {
    try {
      return { item: item, image: await loadImage(this.posterUrl(item), item.title || '') };
    } catch (error) {
      console.warn('Cannot load the poster of item ' + item.id + ': ' + error.message);
      return null;
    }
  }

  present(prepared) {
    if (prepared !== null) {
      if (prepared.item.id === this.slides.currentItemId()) {
        // A playlist of one item: keep it on screen without a transition.
        releaseImage(prepared.image);
      } else {
        const values = this.settings.values;
        this.slides.show(prepared, headerFor(prepared.item, values, this.settings.now()), values);
        this.shownItem = prepared.item;
        this.watchdog.frame();
        this.remember(prepared);
        this.remote.reportStatus();
      }
    } else if (this.playlist.isEmpty()) {
      this.slides.clear();
    }
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

  handleConnectionChange(online) {
    this.status.setOnline(online);
    if (online) {
      // New items may have arrived while the server was away.
      this.playlist.requestRefresh();
    }
    this.updateMessage();
  }

  updateMessage() {
    let text = null;
    if (this.slides.currentItemId() === null && !this.takeover.isActive()) {
      if (this.playlist.rejection !== null) {
        text = this.playlist.rejectionMessage();
      } else if (this.playlist.isEmpty()) {
        text = MESSAGE_EMPTY;
      } else if (!this.connection.isOnline()) {
        text = MESSAGE_UNREACHABLE;
      }
    }
    this.message.textContent = text || '';
    this.message.hidden = text === null;
  }
}

const cinema = new Cinema(
  {
    frame: document.getElementById('frame'),
    message: document.getElementById('message'),
    marker: document.getElementById('offline-marker'),
  },
  readSecondsParameter(window.location.search, 'interval', 5, 3600)
);
cinema.run();
cinema.remote.start();
