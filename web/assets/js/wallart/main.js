/**
 * Wallart page: a grid of posters that changes a few tiles at a time.
 *
 * Each round waits for the interval, checks the settings with a conditional GET, loads the
 * posters for the tiles to change and then replaces them together. An item is never on
 * screen twice: new items are picked among those in no tile, counting faces that are still
 * animating out. A resize or a new density, layout or tile shape rebuilds the grid at the
 * next round, and a device settings push that changes them rebuilds it at once.
 * One resize listener, one key listener and one timer per round are all the page keeps, so
 * nothing piles up on a screen that runs for weeks.
 *
 * Remote control (keys and device commands, see common/device-page.js): `next` starts the
 * next round at once, and `pause` stops the wall until `resume`. A wall has no single current
 * item to step back from, so `previous` undoes the last round instead: the tiles it changed
 * get back the posters they showed before, unless such a poster is on another tile by now.
 * Repeated, it undoes up to HISTORY_ROUNDS rounds, newest first, and a rebuilt grid forgets
 * them. The posters taken off come back in the playlist's order later.
 */

import { Connection } from '../common/connection.js';
import { Playlist } from '../common/playlist.js';
import { BurnInShift } from '../common/burnin.js';
import { PosterPool } from '../common/pool.js';
import { RecentUrls } from '../common/preload.js';
import { readSecondsParameter } from '../common/query.js';
import { DeviceLink } from '../common/device-page.js';
import { checkSettings } from '../common/settings.js';
import { sizedBoxImageUrl } from '../common/sizing.js';
import { SleepSchedule, sanitizeScreen } from '../common/sleep.js';
import { StatusIndicator } from '../common/status.js';
import { Watchdog } from '../common/watchdog.js';
import { Ambient } from './ambient.js';
import { computeGrid } from './grid.js';
import { TurnTimer } from '../common/turns.js';
import { animationMs, createWallartSettings, intervalMs } from './settings.js';
import { Tile, itemIdsOnScreen, pickTilesToChange } from './tiles.js';

/** Items per playlist request: enough for a dense wall and its replacements. */
const PAGE_SIZE = 100;
/** Posters loaded per tile at most in one round, so a run of broken items cannot flood the server. */
const MAX_LOADS_PER_TILE = 4;
/** Poster URLs remembered as loaded, which an offline screen can still show from cache. */
const RECENT_URL_CAPACITY = 500;
/** Rounds that `previous` can undo, newest last. */
const HISTORY_ROUNDS = 20;

const MESSAGE_EMPTY = 'No posters yet: add images to the media folder';
const MESSAGE_UNREACHABLE = 'Cannot reach the Onesheet server. Retrying\u2026';

class Wallart {
  /**
   * @param {{grid: HTMLElement, ambient: HTMLElement, message: HTMLElement, marker: HTMLElement}} elements
   * @param {number|null} intervalOverrideSeconds
   */
  constructor(elements, intervalOverrideSeconds) {
    const self = this;
    this.gridElement = elements.grid;
    this.message = elements.message;
    this.intervalOverrideSeconds = intervalOverrideSeconds;
    this.settings = createWallartSettings();
    this.status = new StatusIndicator(document.body, elements.marker);
    this.ambient = new Ambient(elements.ambient);
    this.recentUrls = new RecentUrls(RECENT_URL_CAPACITY);
    this.tiles = [];
    this.gridKey = null;
    this.round = 0;
    this.changes = 0;
    this.turns = new TurnTimer();
    /** For each round `previous` can undo, the tiles it changed with the items they showed before. */
    this.rounds = [];
    this.backRequested = false;
    /** The item a `pin` command requested, shown on the first tile in the next round. */
    this.pinRequest = null;
    /** The item pinned last, placed again when the grid is rebuilt while it is pinned. */
    this.pinnedItem = null;
    /** The item of the tile that changed last, reported as the device's current item. */
    this.lastItemId = null;
    this.connection = new Connection({
      probe: function probeServer() { return self.settings.refresh(); },
      onChange: function onConnectionChange(online) { self.handleConnectionChange(online); },
    });
    this.playlist = new Playlist({ connection: this.connection, mode: 'wallart', pageSize: PAGE_SIZE });
    this.pool = new PosterPool('wallart');
    this.remote = new DeviceLink({
      mode: 'wallart',
      turns: this.turns,
      playlist: this.playlist,
      currentItemId: function currentItemId() { return self.lastItemId; },
      previous: function previous() { self.requestPrevious(); },
      pin: function pin(item) { self.requestPin(item); },
      onSettings: function deviceSettings() { self.applyDeviceSettings(); },
    });
    this.burnIn = new BurnInShift(window.location.search);
    this.sleepSchedule = new SleepSchedule(function serverNow() { return self.settings.now().getTime(); });
    this.watchdog = new Watchdog({
      intervalMs: function interval() { return intervalMs(self.settings.values, self.intervalOverrideSeconds); },
      expectsFrames: function expectsFrames() {
        return self.connection.isOnline() && !self.turns.paused && !self.sleepSchedule.asleep
          && self.playlist.total > self.tiles.length;
      },
    });
    window.addEventListener('resize', function onResize() { self.gridKey = null; });
  }

  async run() {
    const self = this;
    await this.refreshSettings();
    if (!this.connection.isOnline()) {
      await this.pool.seed(this.playlist);
    }
    this.watchdog.start();
    for (;;) {
      await this.sleepSchedule.waitWhileScheduled(function refresh() { return self.refreshSettings(); });
      try {
        await this.playRound();
      } catch (error) {
        // Not expected: every step handles its own errors. Keep the screen alive regardless.
        console.error('Wallart round failed:', error);
      }
      await this.remote.waitTurn(intervalMs(this.settings.values, this.intervalOverrideSeconds));
      await this.refreshSettings();
    }
  }

  async refreshSettings() {
    const self = this;
    await checkSettings(this.connection, function refresh() { return self.settings.refresh(); });
    this.sleepSchedule.update(this.settings.document);
    this.burnIn.setEnabled(sanitizeScreen(this.settings.document && this.settings.document.display).burn_in_shift);
    this.overlayDeviceSettings();
  }

  /** Lays the device's wallart values over the global ones and applies the animation length. */
  overlayDeviceSettings() {
    this.settings.values = this.remote.layOver(this.settings.values, this.settings.sanitize);
    this.gridElement.style.setProperty('--animation-ms',
      animationMs(this.settings.values, this.intervalOverrideSeconds) + 'ms');
  }

  /**
   * Applies pushed device settings. A new grid geometry ends the current wait, so the wall is
   * rebuilt now, even while paused. Other values apply from the next round.
   */
  applyDeviceSettings() {
    const before = this.gridKey;
    this.overlayDeviceSettings();
    if (before !== null && this.geometryKey() !== before) {
      if (this.remote.pinnedId !== null && this.pinRequest === null) {
        // The new grid starts empty, so the pinned item goes on its first tile again.
        this.pinRequest = this.pinnedItem;
      }
      this.turns.skip();
    }
  }

  /** Returns what the grid's geometry depends on, as one string to compare. */
  geometryKey() {
    const values = this.settings.values;
    const width = window.innerWidth || document.documentElement.clientWidth;
    const height = window.innerHeight || document.documentElement.clientHeight;
    return [width, height, values.density, values.layout, values.tile_shape].join(' ');
  }

  /** Undoes the last round at the end of the current wait. */
  requestPrevious() {
    if (this.rounds.length === 0) {
      throw new Error('no earlier round to undo yet');
    }
    this.backRequested = true;
    this.turns.skip();
  }

  /**
   * Shows `item` on the first tile, which is the hero tile of a `hero_grid`, in a round that
   * starts at once. The paused turns then keep the wall as it is.
   */
  requestPin(item) {
    this.pinRequest = item;
    this.pinnedItem = item;
    this.turns.skip();
  }

  /**
   * Builds the grid when its geometry changed, then fills or changes tiles. After a `pin`
   * request it shows the pinned item on the first tile and fills any empty tile instead, and
   * after a `previous` request it brings back what the last round replaced.
   */
  async playRound() {
    const values = this.settings.values;
    const key = this.geometryKey();
    if (key !== this.gridKey) {
      const width = window.innerWidth || document.documentElement.clientWidth;
      const height = window.innerHeight || document.documentElement.clientHeight;
      this.buildGrid(computeGrid(width, height, values.density, values.layout, values.tile_shape));
      this.gridKey = key;
    }

    this.round += 1;
    const backRequested = this.backRequested;
    this.backRequested = false;
    let chosen;
    let prepared;
    const pinned = this.pinRequest;
    this.pinRequest = null;
    if (pinned !== null && this.tiles.length > 0) {
      const placed = await this.preparePinned(pinned, this.tiles[0]);
      chosen = placed.tiles;
      prepared = placed.prepared;
      this.rememberRound(chosen);
    } else if (backRequested && this.rounds.length > 0) {
      const restored = await this.prepareUndo(this.rounds.pop());
      chosen = restored.tiles;
      prepared = restored.prepared;
    } else {
      const empty = this.tiles.filter(function isEmpty(tile) { return tile.face === null; });
      // The first round, and any round after items were missing, fills every empty tile.
      const count = empty.length > 0 ? empty.length : Math.min(values.tiles_per_change, this.tiles.length);
      chosen = pickTilesToChange(this.tiles, count);
      prepared = await this.prepareItems(chosen);
      this.rememberRound(chosen.slice(0, prepared.length));
    }

    const duration = animationMs(values, this.intervalOverrideSeconds);
    for (let i = 0; i < prepared.length; i += 1) {
      chosen[i].show(prepared[i], values.animation, duration, this.round);
      this.lastItemId = prepared[i].item.id;
      this.changes += 1;
    }
    if (prepared.length > 0) {
      this.watchdog.frame();
      this.remote.reportStatus();
    }
    document.body.dataset.tileChanges = String(this.changes);
    if (this.tiles.length > 0 && this.tiles.every(function isFilled(tile) { return tile.face !== null; })) {
      document.body.dataset.wallart = 'filled';
    }

    const itemsOnScreen = this.tiles.map(function tileItem(tile) { return tile.item(); })
      .filter(function isItem(item) { return item !== null; });
    this.ambient.update(itemsOnScreen, values.ambient);
    this.updateMessage();
  }

  /**
   * Loads the pinned item's poster for `tile`, and posters for the other empty tiles. Returns
   * the tiles that got a poster, in the order of `prepared`. Never rejects.
   */
  async preparePinned(item, tile) {
    const tiles = [];
    const prepared = [];
    // An item without a poster still gets its pin, with its background image.
    const source = item.images.poster || item.images.background;
    const url = sizedBoxImageUrl(source, tile.cell.width, tile.cell.height);
    try {
      const image = await this.pool.loadFor(item, url, item.title || '', this.connection.isOnline());
      tiles.push(tile);
      prepared.push({ item: item, image: image });
    } catch (error) {
      console.warn('Cannot show the pinned item ' + item.id + ': ' + error.message);
    }
    const empty = this.tiles.filter(function isEmpty(other) { return other !== tile && other.face === null; });
    const filled = await this.prepareItems(empty);
    return {
      tiles: tiles.concat(empty.slice(0, filled.length)),
      prepared: prepared.concat(filled),
    };
  }

  /** Records which items `tiles` show before they change, for `previous`. */
  rememberRound(tiles) {
    const entries = [];
    tiles.forEach(function recordTile(tile) {
      const item = tile.item();
      if (item !== null) {
        entries.push({ tile: tile, item: item });
      }
    });
    if (entries.length === 0) {
      return;
    }
    this.rounds.push(entries);
    if (this.rounds.length > HISTORY_ROUNDS) {
      this.rounds.shift();
    }
  }

  /**
   * Loads the posters that a round replaced, for the tiles it changed. Leaves out an item
   * that another tile shows by now and a poster that fails to load. Never rejects.
   * @returns {Promise<{tiles: Tile[], prepared: Array<{item: object, image: HTMLImageElement}>}>}
   */
  async prepareUndo(entries) {
    // The items being brought back may still be animating out of these very tiles, which
    // does not count: showing a face ends the animation of the one before.
    const restoring = entries.map(function entryTile(entry) { return entry.tile; });
    const onScreen = {};
    this.tiles.forEach(function collectIds(tile) {
      if (tile.face !== null) {
        onScreen[tile.itemId()] = true;
      }
      if (tile.leavingFace && restoring.indexOf(tile) === -1) {
        onScreen[tile.leavingFace.dataset.itemId] = true;
      }
    });
    const tiles = [];
    const prepared = [];
    for (let i = 0; i < entries.length; i += 1) {
      const tile = entries[i].tile;
      const item = entries[i].item;
      if (onScreen[item.id] || this.tiles.indexOf(tile) === -1) {
        continue;
      }
      const url = sizedBoxImageUrl(item.images.poster, tile.cell.width, tile.cell.height);
      try {
        const image = await this.pool.loadFor(item, url, item.title || '', this.connection.isOnline());
        tiles.push(tile);
        prepared.push({ item: item, image: image });
        onScreen[item.id] = true;
      } catch (error) {
        console.warn('Cannot bring back item ' + item.id + ': ' + error.message);
      }
    }
    return { tiles: tiles, prepared: prepared };
  }

  buildGrid(grid) {
    this.rounds = [];
    this.tiles.forEach(function destroyTile(tile) { tile.destroy(); });
    const container = this.gridElement;
    this.tiles = grid.cells.map(function createTile(cell) { return new Tile(container, cell); });
    document.body.dataset.grid = grid.columns + 'x' + grid.rows;
    delete document.body.dataset.wallart;
  }

  /**
   * Loads a poster for each of `tiles`, sized for that tile, from items that are on no tile.
   * Returns fewer when the playlist has too few showable items. Never rejects.
   */
  async prepareItems(tiles) {
    const count = tiles.length;
    const excluded = itemIdsOnScreen(this.tiles);
    const prepared = [];
    let loads = 0;
    for (let examined = 0; prepared.length < count; examined += 1) {
      const item = await this.playlist.next();
      if (item === null || examined >= Math.max(this.playlist.size(), 1)) {
        break;
      }
      if (excluded[item.id] || typeof item.images.poster !== 'string') {
        continue;
      }
      const cell = tiles[prepared.length].cell;
      const url = sizedBoxImageUrl(item.images.poster, cell.width, cell.height);
      if (!this.connection.isOnline() && !this.recentUrls.has(url) && !this.pool.has(item.id)) {
        // Not in the browser cache or the offline pool, so loading it offline would fail.
        continue;
      }
      if (loads >= count * MAX_LOADS_PER_TILE) {
        break;
      }
      loads += 1;
      excluded[item.id] = true;
      try {
        const image = await this.pool.loadFor(item, url, item.title || '', this.connection.isOnline());
        this.recentUrls.add(url);
        prepared.push({ item: item, image: image });
      } catch (error) {
        console.warn('Skipping item ' + item.id + ': ' + error.message);
      }
    }
    return prepared;
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
    const anyShown = this.tiles.some(function hasFace(tile) { return tile.face !== null; });
    if (!anyShown) {
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

const wallart = new Wallart(
  {
    grid: document.getElementById('grid'),
    ambient: document.getElementById('ambient'),
    message: document.getElementById('message'),
    marker: document.getElementById('offline-marker'),
  },
  readSecondsParameter(window.location.search, 'interval', 3, 3600)
);
wallart.run();
wallart.remote.start();
