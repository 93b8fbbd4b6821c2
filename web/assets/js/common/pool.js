/**
 * Offline pool: the playlist entries of the last items shown and their images, kept in Cache
 * Storage, so a page that starts while the server is unreachable still has posters to show.
 *
 * The pool contains at most MAX_ENTRIES items, one image each, and drops the oldest first. Its
 * index is a JSON response stored in the same cache under a key that is never fetched. Cache
 * Storage exists only in secure contexts (HTTPS, and http://localhost or 127.0.0.1), so on
 * other origins the pool does nothing and the page behaves as before.
 *
 * The page itself must load for the pool to help. Creating a pool registers the service
 * worker (service-worker.js), which serves the page's HTML, styles and modules while the server
 * is down. Without it (no secure context, or an old browser), a reload during an outage shows
 * the browser's error page.
 *
 * The settings editor's preview (preview.js) runs in the admin's browser, not on a screen, so
 * there the pool stays empty, stores nothing and registers no service worker. Otherwise its
 * preview-sized posters would land in the cache that the screens on this origin share.
 */

import { loadImage } from './preload.js';
import { previewRequested } from './preview.js';
import { registerServiceWorker } from './service-worker.js';

const CACHE_NAME = 'onesheet-posters';
/** Items kept, newest last. */
const MAX_ENTRIES = 30;

export class PosterPool {
  /** @param {string} mode the display mode, so each page keeps its own index */
  constructor(mode) {
    this.indexUrl = new URL('offline-pool/' + mode + '.json', document.baseURI).href;
    this.cachePromise = null;
    const preview = previewRequested(window.location.search);
    if (!preview && window.isSecureContext && typeof caches !== 'undefined') {
      this.cachePromise = caches.open(CACHE_NAME).catch(function unavailable(error) {
        console.info('Offline pool unavailable:', error.message);
        return null;
      });
    }
    /** Entries `{item, url}`, newest last, once read from the cache. */
    this.entries = [];
    this.loaded = this.readIndex();
    /** Serialises writes, so two additions cannot overwrite each other's index. */
    this.writing = Promise.resolve();
    if (!preview) {
      registerServiceWorker();
    }
  }

  async readIndex() {
    const cache = await this.cache();
    if (cache === null) {
      return;
    }
    try {
      const response = await cache.match(this.indexUrl);
      const entries = response ? await response.json() : [];
      this.entries = Array.isArray(entries) ? entries.filter(isEntry) : [];
    } catch (error) {
      console.warn('Ignoring an unreadable offline pool index:', error.message);
      this.entries = [];
    }
  }

  async cache() {
    return this.cachePromise === null ? null : this.cachePromise;
  }

  /** Returns whether the pool contains an image for `itemId`. */
  has(itemId) {
    return this.entries.some(function sameItem(entry) { return entry.item.id === itemId; });
  }

  /** Returns the pooled items, oldest first, once the index is read. */
  async items() {
    await this.loaded;
    return this.entries.map(function entryItem(entry) { return entry.item; });
  }

  /**
   * Stores `item` with the image at `url`, which the page has just shown, and drops the
   * oldest entries beyond the limit. Never rejects: a full or missing cache only loses the
   * entry.
   */
  add(item, url) {
    const self = this;
    this.writing = this.writing.then(function write() { return self.write(item, url); })
      .catch(function logFailure(error) {
        console.warn('Failed to store item ' + item.id + ' in the offline pool:', error.message);
      });
    return this.writing;
  }

  async write(item, url) {
    const cache = await this.cache();
    if (cache === null) {
      return;
    }
    await this.loaded;
    if (!(await cache.match(url))) {
      // Image responses vary by `Accept`, and a fetch sends another `Accept` than an <img>.
      // So the browser cache cannot serve this request, and a response it stored would replace
      // the <img> copy there, which a page that loads images by URL needs while offline.
      const response = await fetch(url, { cache: 'no-store' });
      if (!response.ok) {
        return;
      }
      await cache.put(url, response);
    }
    const kept = this.entries.filter(function otherItem(entry) { return entry.item.id !== item.id; });
    kept.push({ item: item, url: url });
    const dropped = kept.splice(0, Math.max(0, kept.length - MAX_ENTRIES));
    this.entries = kept;
    await cache.put(this.indexUrl, new Response(JSON.stringify(kept),
      { headers: { 'Content-Type': 'application/json' } }));
    for (let i = 0; i < dropped.length; i += 1) {
      const stillUsed = kept.some(function sameUrl(entry) { return entry.url === dropped[i].url; });
      if (!stillUsed) {
        await cache.delete(dropped[i].url);
      }
    }
  }

  /**
   * Loads the image of `item` from the pool, whatever size it was stored at. Rejects when the
   * pool has no image for it.
   */
  async loadImage(item, alt) {
    const cache = await this.cache();
    const entry = this.entries.find(function sameItem(candidate) { return candidate.item.id === item.id; });
    const response = cache !== null && entry ? await cache.match(entry.url) : undefined;
    if (!response) {
      throw new Error('item ' + item.id + ' is not in the offline pool');
    }
    const objectUrl = URL.createObjectURL(await response.blob());
    try {
      return await loadImage(objectUrl, alt);
    } finally {
      // The decoded image stays on screen after the URL is revoked.
      URL.revokeObjectURL(objectUrl);
    }
  }

  /**
   * Loads the image of `item` at `url` and keeps it in the pool. While offline, the pooled
   * copy is tried first, so a page started without the server needs no network for it.
   */
  async loadFor(item, url, alt, online) {
    if (!online && this.has(item.id)) {
      try {
        return await this.loadImage(item, alt);
      } catch (error) {
        console.warn('Offline pool image failed, trying the browser cache:', error.message);
      }
    }
    const image = await loadImage(url, alt);
    if (online) {
      this.add(item, url);
    }
    return image;
  }

  /**
   * Fills an empty playlist buffer with the pooled items, for a page that started while the
   * server is unreachable. Returns the number of items added.
   *
   * NOTE: this writes the Playlist's buffer fields directly, so it must change with them. The
   * next page fetched from the server replaces the buffer as usual.
   */
  async seed(playlist) {
    const items = await this.items();
    if (playlist.size() > 0 || items.length === 0) {
      return 0;
    }
    playlist.items = items.slice().reverse();
    playlist.slots = items.map(function noSlot() { return null; });
    playlist.position = 0;
    console.info('Server unreachable at start: showing ' + items.length + ' items from the offline pool');
    return items.length;
  }
}

function isEntry(entry) {
  return entry && typeof entry.url === 'string' && entry.item && typeof entry.item.id === 'string'
    && entry.item.images && typeof entry.item.images === 'object';
}
