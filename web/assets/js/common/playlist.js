/**
 * Paging through `api/v1/playlist` with its cursor, one item at a time.
 *
 * Items are buffered page by page, and the next page is fetched in the background a few items
 * before the buffer runs out. At the end of the playlist (`next_cursor` null) a fresh first page
 * is fetched, so items added on the server appear in the next pass. When the server cannot be
 * reached, the buffer is cycled from its start instead, since the images of those items are
 * likely in the browser cache. The buffer keeps at most `maxBuffered` items, dropping items
 * already shown, so a screen that runs for weeks does not grow without bound.
 *
 * A screen in a synchronised group gets pages that carry the group's `schedule` and a
 * `first_slot`: item `i` of a page belongs to slot `first_slot + i`, and the playlist has no
 * end. Such a screen requests items by slot with `itemForSlot` instead of `next`.
 */

import { ApiError, getJson } from './api.js';

/** Items left in the buffer when the next page is requested in the background. */
const PREFETCH_REMAINING = 5;

/**
 * Time between checks of the first page, so that a filter rule that opens or closes reaches
 * the screen within about a minute.
 */
const SELECTION_CHECK_MS = 60 * 1000;

/**
 * The clock of a synchronised group: slot `n` starts at `anchorMs + n * intervalMs` in server
 * time (unix milliseconds) and lasts one interval.
 */
export class Schedule {
  constructor(anchorMs, intervalMs) {
    this.anchorMs = anchorMs;
    this.intervalMs = intervalMs;
  }

  /** Returns the slot running at `serverMs`, or 0 before the anchor. */
  slotAt(serverMs) {
    return Math.max(0, Math.floor((serverMs - this.anchorMs) / this.intervalMs));
  }

  /** Returns the start of `slot` in server time. */
  startOf(slot) {
    return this.anchorMs + slot * this.intervalMs;
  }

  /**
   * Returns the slot to show next at `serverMs`: the next one to start, or the one after it
   * when `shownSlot` is that next slot already (after a `next` command, or a switch that the
   * timer fired a millisecond early).
   */
  slotAfter(serverMs, shownSlot) {
    const current = this.slotAt(serverMs);
    return shownSlot === current + 1 ? current + 2 : current + 1;
  }

  equals(other) {
    return other !== null && other.anchorMs === this.anchorMs && other.intervalMs === this.intervalMs;
  }
}

/** Items per request while `findItem` pages through the playlist: the server's maximum. */
const FIND_PAGE_SIZE = 500;
/** Items `findItem` examines at most, so a pin costs at most 20 requests on a huge catalog. */
const FIND_MAX_ITEMS = 10000;

export class Playlist {
  /**
   * @param {object} options
   * @param {import('./connection.js').Connection} options.connection
   * @param {string} options.mode display mode sent to the server (`screensaver`)
   * @param {number} [options.pageSize] items per request, 1 to 500
   * @param {number} [options.maxBuffered]
   */
  constructor(options) {
    this.connection = options.connection;
    this.mode = options.mode;
    this.pageSize = options.pageSize || 50;
    this.maxBuffered = Math.max(options.maxBuffered || 300, this.pageSize * 2);
    this.items = [];
    this.position = 0;
    this.nextCursor = null;
    this.needsFirstPage = true;
    /** Total reported by the last page, or null before the first page arrives. */
    this.total = null;
    this.pendingPage = null;
    /** The synchronised group's schedule from the last page, or null outside such a group. */
    this.schedule = null;
    /** The slot of each buffered item, for a synchronised group, else null for each. */
    this.slots = [];
    /** The slot after the last item of the last page, for a synchronised group. */
    this.endSlot = null;
    /** ETag and item ids of the last first page, and when it was last checked. */
    this.firstPageEtag = null;
    this.firstPageIds = '';
    this.checkedAt = Date.now();
    this.pendingCheck = null;
    /** The ApiError of the last rejected request, or null once a page arrives. */
    this.rejection = null;
  }

  /**
   * Returns the text that explains the last rejected request to someone at the screen, or
   * null when the last request succeeded. A page shows it while it has nothing else to show.
   */
  rejectionMessage() {
    const error = this.rejection;
    if (error === null) {
      return null;
    }
    const detail = error.message.charAt(0).toUpperCase() + error.message.slice(1);
    if (error.field === 'preset') {
      // The server's message names the unknown preset and lists the valid ids.
      return 'Invalid preset in the page address. ' + detail
        + '. Fix the preset parameter and reload the page.';
    }
    return 'The server rejected the playlist request. ' + detail + '.';
  }

  /** Number of items currently buffered. */
  size() {
    return this.items.length;
  }

  /** Returns whether the server reported an empty playlist. */
  isEmpty() {
    return this.total === 0 && this.items.length === 0;
  }

  /** Makes the next call to `next()` start from a fresh first page. */
  requestRefresh() {
    this.needsFirstPage = true;
  }

  /** Loads the first page when none is loaded yet or a refresh was requested. */
  async loadIfNeeded() {
    if (this.needsFirstPage) {
      await this.loadFirstPage();
    }
  }

  /**
   * Returns the item of `slot` of the synchronised group's schedule, or null when the screen
   * is in no such group, the server cannot be reached, or the item cannot be shown. The slot
   * just after the buffer comes from the next page, and any other slot from a fresh first
   * page, which the server starts at the slot running now.
   *
   * NOTE: after a catalog change, buffered items keep the old order until the screen fetches
   * its next page, so screens of one group may show different items for up to a page of slots.
   */
  async itemForSlot(slot) {
    await this.loadIfNeeded();
    let index = this.slots.indexOf(slot);
    if (index === -1 && this.schedule !== null && this.nextCursor !== null
      && slot >= this.endSlot && slot < this.endSlot + this.pageSize) {
      await this.loadNextPage();
      index = this.slots.indexOf(slot);
    }
    if (index === -1 && this.schedule !== null) {
      await this.loadFirstPage();
      index = this.slots.indexOf(slot);
    }
    if (index === -1) {
      return null;
    }
    // Items before this one count as shown, so the buffer can drop them.
    this.position = index + 1;
    this.prefetchIfLow();
    return this.items[index];
  }

  /**
   * Returns the next item to show, or null when nothing is buffered and the server could not
   * provide anything.
   */
  async next() {
    if (this.needsFirstPage) {
      await this.loadFirstPage();
    } else if (this.position >= this.items.length) {
      if (this.nextCursor !== null) {
        await this.loadNextPage();
      } else {
        await this.loadFirstPage();
      }
    }

    if (this.items.length === 0) {
      return null;
    }
    if (this.position >= this.items.length) {
      // The server could not extend the buffer: cycle what is loaded.
      this.position = 0;
    }

    const item = this.items[this.position];
    this.position += 1;
    this.prefetchIfLow();
    this.checkSelectionIfDue();
    return item;
  }

  /**
   * Asks the server, at most once a minute, whether the first page changed, because a filter
   * rule for the time of day or a settings change may have given this screen another
   * selection. An unchanged page costs a 304. A page with other items starts a new buffer; one
   * with the same items in the same order, such as after palettes were added, changes nothing.
   */
  checkSelectionIfDue() {
    if (this.schedule !== null || this.pendingCheck !== null || this.firstPageEtag === null
      || Date.now() - this.checkedAt < SELECTION_CHECK_MS || !this.connection.isOnline()) {
      return;
    }
    const self = this;
    this.pendingCheck = this.fetchPage(null, this.firstPageEtag).then(function compare(page) {
      self.pendingCheck = null;
      self.checkedAt = Date.now();
      if (page === null || page.notModified || self.needsFirstPage) {
        return;
      }
      self.firstPageEtag = page.etag;
      if (pageIds(page) !== self.firstPageIds) {
        self.firstPageIds = pageIds(page);
        self.replaceBuffer(page);
      }
    });
  }

  prefetchIfLow() {
    const remaining = this.items.length - this.position;
    if (remaining <= PREFETCH_REMAINING && this.nextCursor !== null && this.connection.isOnline()) {
      // loadNextPage handles its own errors, so this promise never rejects.
      this.loadNextPage();
    }
  }

  async loadFirstPage() {
    const page = await this.fetchPage(null, null);
    if (page === null) {
      return;
    }
    this.needsFirstPage = false;
    this.firstPageEtag = page.etag;
    this.firstPageIds = pageIds(page);
    this.checkedAt = Date.now();
    this.replaceBuffer(page);
  }

  replaceBuffer(page) {
    this.items = page.items;
    this.slots = page.slots;
    this.position = 0;
    this.nextCursor = page.nextCursor;
    this.total = page.total;
    this.endSlot = page.endSlot;
    // The same object while the schedule stays the same, so callers can compare identities.
    if (page.schedule === null || !page.schedule.equals(this.schedule)) {
      this.schedule = page.schedule;
    }
  }

  /** Appends the page at `nextCursor`. Concurrent calls share one request. */
  loadNextPage() {
    if (this.pendingPage === null) {
      const self = this;
      const cursor = this.nextCursor;
      this.pendingPage = this.fetchPage(cursor, null).then(function appendPage(page) {
        self.pendingPage = null;
        // A refresh may have replaced the buffer while this page was in flight.
        if (page === null || self.needsFirstPage || self.nextCursor !== cursor) {
          return;
        }
        const continues = page.schedule === null
          ? self.schedule === null
          : page.schedule.equals(self.schedule) && page.slots[0] === self.endSlot;
        if (!continues && (page.schedule !== null || self.schedule !== null)) {
          // The group's schedule or the catalog changed: the page starts a new buffer.
          self.replaceBuffer(page);
          return;
        }
        self.items = self.items.concat(page.items);
        self.slots = self.slots.concat(page.slots);
        self.nextCursor = page.nextCursor;
        self.total = page.total;
        self.endSlot = page.endSlot;
        self.trimBuffer();
      });
    }
    return this.pendingPage;
  }

  /** Drops already shown items from the front while the buffer exceeds its limit. */
  trimBuffer() {
    const excess = this.items.length - this.maxBuffered;
    const droppable = Math.min(excess, this.position);
    if (droppable > 0) {
      this.items = this.items.slice(droppable);
      this.slots = this.slots.slice(droppable);
      this.position -= droppable;
    }
  }

  /** Returns the URL of the playlist page at `cursor`, or of the first page for null. */
  pageUrl(cursor, limit) {
    let url = 'api/v1/playlist?mode=' + encodeURIComponent(this.mode) + '&limit=' + limit;
    // A page opened with `?preset=ID` shows the preset's selection, as it uses its settings.
    const preset = new URLSearchParams(window.location.search).get('preset');
    if (preset) {
      url += '&preset=' + encodeURIComponent(preset);
    }
    if (cursor !== null) {
      url += '&cursor=' + encodeURIComponent(cursor);
    }
    return url;
  }

  /**
   * Returns the showable item with `itemId`: from the buffer, or else from the screen's
   * playlist, paged through from the start without touching the buffer. Resolves with null
   * when the playlist has no such item, or none in its first FIND_MAX_ITEMS items.
   * @throws {import('./api.js').ServerUnreachableError|ApiError} when a page request fails
   */
  async findItem(itemId) {
    const buffered = findById(this.items, itemId);
    if (buffered !== null) {
      return buffered;
    }
    let cursor = null;
    for (let seen = 0; seen < FIND_MAX_ITEMS;) {
      const response = await getJson(this.pageUrl(cursor, FIND_PAGE_SIZE));
      const body = response.body;
      const page = parsePage(body);
      const found = findById(page.items, itemId);
      if (found !== null) {
        return found;
      }
      // A synchronised group's playlist wraps around without end, so the total ends the search.
      seen += body.items.length;
      if (page.nextCursor === null || body.items.length === 0 || seen >= page.total) {
        return null;
      }
      cursor = page.nextCursor;
    }
    return null;
  }

  /**
   * Fetches one page, conditionally when `etag` is given. Returns null when the server is
   * unreachable or rejected the request, and `{notModified: true}` for a 304. After a
   * rejection the playlist restarts from the first page, because the cursor may be one that
   * the server no longer accepts.
   */
  async fetchPage(cursor, etag) {
    const url = this.pageUrl(cursor, this.pageSize);
    try {
      const response = await this.connection.request(function sendPlaylistRequest() {
        return getJson(url, { etag: etag });
      });
      if (response.status === 304) {
        return { notModified: true };
      }
      const page = parsePage(response.body);
      page.etag = response.etag || null;
      this.rejection = null;
      return page;
    } catch (error) {
      if (error instanceof ApiError) {
        this.rejection = error;
        console.error('Playlist request rejected (' + error.code + ', request id ' + error.requestId + '):', error.message);
        this.nextCursor = null;
        this.needsFirstPage = true;
      } else if (error instanceof TypeError) {
        console.error('Playlist response has an unexpected shape:', error.message);
      }
      return null;
    }
  }
}

/** Returns the item of `items` with `itemId`, or null. */
function findById(items, itemId) {
  for (let i = 0; i < items.length; i += 1) {
    if (items[i].id === itemId) {
      return items[i];
    }
  }
  return null;
}

/** Returns the ids of a page's items, as one string to compare pages by. */
function pageIds(page) {
  return page.items.map(function id(item) { return item.id; }).join(' ');
}

function isShowable(item) {
  return item && typeof item.id === 'string' && item.images
    && (typeof item.images.poster === 'string' || typeof item.images.background === 'string');
}

/** Returns the page's schedule, or null when it has none or an invalid one. */
function parseSchedule(body) {
  const schedule = body.schedule;
  if (!schedule || typeof schedule.anchor_ms !== 'number' || typeof schedule.interval_ms !== 'number'
    || !(schedule.interval_ms > 0) || typeof body.first_slot !== 'number') {
    return null;
  }
  return new Schedule(schedule.anchor_ms, schedule.interval_ms);
}

/**
 * Checks the shape of a playlist page and keeps the items that can be shown, with the slot
 * of each when the page has a schedule.
 * @throws {TypeError} when the body is not a playlist page
 */
function parsePage(body) {
  if (!body || !Array.isArray(body.items)) {
    throw new TypeError('expected an object with an "items" array');
  }
  const schedule = parseSchedule(body);
  const items = [];
  const slots = [];
  body.items.forEach(function keepShowable(item, index) {
    if (isShowable(item)) {
      items.push(item);
      // Slots count every item of the page, so a skipped item leaves its slot empty.
      slots.push(schedule === null ? null : body.first_slot + index);
    }
  });
  return {
    items: items,
    slots: slots,
    schedule: schedule,
    endSlot: schedule === null ? null : body.first_slot + body.items.length,
    nextCursor: typeof body.next_cursor === 'string' ? body.next_cursor : null,
    total: typeof body.total === 'number' ? body.total : items.length,
  };
}
