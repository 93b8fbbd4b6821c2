/**
 * Image preloading: an image is shown only after it has loaded and decoded, so a screen never
 * displays a broken or half-drawn image.
 */

/** Time limit for loading one image, in milliseconds. */
const IMAGE_TIMEOUT_MS = 30000;

/**
 * Loads an image into a detached <img> element.
 * Resolves with the element once it is loaded and decoded. Rejects on error or timeout, after
 * clearing `src` so the browser drops the download.
 */
export function loadImage(url, alt) {
  return new Promise(function loadImageExecutor(resolve, reject) {
    const image = new Image();
    image.decoding = 'async';
    image.alt = alt || '';
    let timer = null;

    function settle() {
      clearTimeout(timer);
      image.onload = null;
      image.onerror = null;
    }

    image.onload = function onImageLoad() {
      settle();
      if (!image.naturalWidth) {
        reject(new Error('image has no pixels: ' + url));
        return;
      }
      // decode() moves decoding off the transition. It may reject for images that still
      // render, so a rejection is ignored.
      const decoded = typeof image.decode === 'function' ? image.decode() : Promise.resolve();
      decoded.catch(function ignoreDecodeError() {}).then(function resolveImage() { resolve(image); });
    };
    image.onerror = function onImageError() {
      settle();
      releaseImage(image);
      reject(new Error('image failed to load: ' + url));
    };
    timer = setTimeout(function onImageTimeout() {
      settle();
      releaseImage(image);
      reject(new Error('image timed out after ' + IMAGE_TIMEOUT_MS + ' ms: ' + url));
    }, IMAGE_TIMEOUT_MS);

    image.src = url;
  });
}

/**
 * Frees an image's pixels: clears its source and detaches it.
 *
 * Removing the `src` attribute of a detached <img> makes Chromium 148 keep the element alive
 * from the document, with its alt-text shadow tree (six DOM nodes), through forced garbage
 * collections. So the source is set to the empty string instead, which fetches nothing and
 * fires only an `error` event that `loadImage` no longer listens for.
 */
export function releaseImage(image) {
  if (!image) {
    return;
  }
  image.src = '';
  if (image.parentNode) {
    image.parentNode.removeChild(image);
  }
}

/**
 * Set of recently loaded URLs with a fixed capacity; the oldest entry goes first.
 * An offline screen uses it to pick items whose images the browser has cached.
 */
export class RecentUrls {
  constructor(capacity) {
    this.capacity = capacity;
    this.urls = new Map();
  }

  add(url) {
    this.urls.delete(url);
    this.urls.set(url, true);
    if (this.urls.size > this.capacity) {
      this.urls.delete(this.urls.keys().next().value);
    }
  }

  has(url) {
    return this.urls.has(url);
  }
}
