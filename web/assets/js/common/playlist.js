/**
 * Paging through `api/v1/playlist` with its cursor, one item at a time.
 *
 * Items are buffered page by page, and the next page is fetched in the background a few items
 * before the buffer runs out. At the end of the playlist (`next_cursor` null) a fresh first page
 * is fetched, so items added on the server appear in the next pass. When the server cannot be
 * reached, the buffer is cycled from its start instead, since the images of those items are
 * likely in the browser cache. The buffer keeps at most `maxBuffered` items, dropping items
 * already shown, so a screen that runs for weeks does not grow without bound.
 */

import { ApiError, getJson } from './api.js';

/** Items left in the buffer when the next page is requested in the background. */
const PREFETCH_REMAINING = 5;

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
    return item;
  }

  prefetchIfLow() {
    const remaining = this.items.length - this.position;
    if (remaining <= PREFETCH_REMAINING && this.nextCursor !== null && this.connection.isOnline()) {
      // loadNextPage handles its own errors, so this promise never rejects.
      this.loadNextPage();
    }
  }

  async loadFirstPage() {
    const page = await this.fetchPage(null);
    if (page === null) {
      return;
    }
    this.needsFirstPage = false;
    this.items = page.items;
    this.position = 0;
    this.nextCursor = page.nextCursor;
    this.total = page.total;
  }

  /** Appends the page at `nextCursor`. Concurrent calls share one request. */
  loadNextPage() {
    if (this.pendingPage === null) {
      const self = this;
      const cursor = this.nextCursor;
      this.pendingPage = this.fetchPage(cursor).then(function appendPage(page) {
        self.pendingPage = null;
        // A refresh may have replaced the buffer while this page was in flight.
        if (page === null || self.needsFirstPage || self.nextCursor !== cursor) {
          return;
        }
        self.items = self.items.concat(page.items);
        self.nextCursor = page.nextCursor;
        self.total = page.total;
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
      this.position -= droppable;
    }
  }

  /**
   * Fetches one page. Returns null when the server is unreachable or rejected the request.
   * After a rejection the playlist restarts from the first page, because the cursor may be
   * one that the server no longer accepts.
   */
  async fetchPage(cursor) {
    let url = 'api/v1/playlist?mode=' + encodeURIComponent(this.mode) + '&limit=' + this.pageSize;
    if (cursor !== null) {
      url += '&cursor=' + encodeURIComponent(cursor);
    }
    try {
      const response = await this.connection.request(function sendPlaylistRequest() {
        return getJson(url);
      });
      return parsePage(response.body);
    } catch (error) {
      if (error instanceof ApiError) {
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

/**
 * Checks the shape of a playlist page and keeps the items that can be shown.
 * @throws {TypeError} when the body is not a playlist page
 */
function parsePage(body) {
  if (!body || !Array.isArray(body.items)) {
    throw new TypeError('expected an object with an "items" array');
  }
  const items = body.items.filter(function isShowable(item) {
    return item && typeof item.id === 'string' && item.images
      && (typeof item.images.poster === 'string' || typeof item.images.background === 'string');
  });
  return {
    items: items,
    nextCursor: typeof body.next_cursor === 'string' ? body.next_cursor : null,
    total: typeof body.total === 'number' ? body.total : items.length,
  };
}
