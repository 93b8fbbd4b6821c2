/**
 * Service worker of the display pages: keeps the pages' HTML, styles and modules in Cache
 * Storage, so a page reloaded while the server is down still starts and shows its offline pool.
 *
 * The server sends this file at `{base}/sw.js` with one generated line in front:
 * `const SHELL = {version, pages, assets}`, with URLs relative to the base path. The pages are
 * the display pages (`screensaver`), the assets are what they load. The cache is named after
 * the version, and a new version deletes the caches of older ones when it activates.
 *
 * Only those URLs are handled here, network first: the network's response when it comes
 * within NETWORK_TIMEOUT_MS and is not a server error, else the stored copy. Every other
 * request (the API, images, admin pages) goes to the network as if there were no worker. The
 * offline pool (assets/js/common/pool.js) stores the posters itself.
 */

/* global SHELL */

const CACHE_PREFIX = 'onesheet-shell-';
const CACHE_NAME = CACHE_PREFIX + SHELL.version;
/**
 * Time the network has to respond before the stored copy is used, in milliseconds. A stopped
 * server refuses connections at once. This limit is for a server whose host is unreachable,
 * where a connection attempt can take a minute or more to fail.
 */
const NETWORK_TIMEOUT_MS = 4000;

/** The worker's scope is the base path, such as `http://tv.lan/posters/`. */
const SCOPE = self.registration.scope;
const PAGE_URLS = SHELL.pages.map(function absolute(path) { return new URL(path, SCOPE).href; });
const ASSET_URLS = SHELL.assets.map(function absolute(path) { return new URL(path, SCOPE).href; });

self.addEventListener('install', function onInstall(event) {
  // A screen runs one page for weeks and reloads it in place, which never lets a waiting
  // worker take over. So a new version activates at once, and pages load its files from their
  // next reload on.
  event.waitUntil(precache().then(function activateNow() { return self.skipWaiting(); }));
});

self.addEventListener('activate', function onActivate(event) {
  event.waitUntil(deleteOldCaches().then(function control() { return self.clients.claim(); }));
});

self.addEventListener('fetch', function onFetch(event) {
  const request = event.request;
  if (request.method !== 'GET') {
    return;
  }
  const url = new URL(request.url);
  // The query (`?interval=3`) changes what a page does, not its file.
  const key = url.origin + url.pathname;
  let handled = ASSET_URLS.indexOf(key) >= 0;
  if (request.mode === 'navigate') {
    // Only a screen's own page: the settings editor's preview frame (`?preview=1`) is sent with
    // a policy that lets the editor frame it, and must not replace the stored copy.
    handled = request.destination === 'document' && PAGE_URLS.indexOf(key) >= 0;
  }
  if (handled) {
    event.respondWith(networkFirst(event, key));
  }
});

/**
 * Stores every asset, or fails the installation so that the browser tries again at the next
 * page load. A page the server rejects (a screen outside the display networks that signs in
 * with a device credential) is left out and stored when the screen loads it.
 */
async function precache() {
  const cache = await caches.open(CACHE_NAME);
  await cache.addAll(ASSET_URLS);
  await Promise.all(PAGE_URLS.map(function addPage(url) {
    return cache.add(url).catch(function pageFailed(error) {
      console.warn('Service worker: ' + url + ' not stored yet:', error.message);
    });
  }));
}

async function deleteOldCaches() {
  const names = await caches.keys();
  await Promise.all(names.filter(function isOld(name) {
    return name.indexOf(CACHE_PREFIX) === 0 && name !== CACHE_NAME;
  }).map(function remove(name) { return caches.delete(name); }));
}

/**
 * Returns the network's response unless it fails, times out or is a server error (a proxy's
 * 502 while the server is down), and then the stored copy of `key`, the request's URL without
 * its query. A page that loads from
 * the network replaces its stored copy.
 */
async function networkFirst(event, key) {
  const request = event.request;
  let response = null;
  let failure = null;
  try {
    response = await withTimeout(fetch(request), NETWORK_TIMEOUT_MS);
  } catch (error) {
    failure = error;
  }
  if (response !== null && response.status < 500) {
    if (request.mode === 'navigate' && response.status === 200 && !response.redirected) {
      event.waitUntil(storePage(key, response.clone()));
    }
    return response;
  }

  const cache = await caches.open(CACHE_NAME);
  const stored = await cache.match(key);
  if (stored) {
    return stored;
  }
  if (response !== null) {
    return response;
  }
  console.warn('Service worker: ' + key + ' failed and is not stored:', failure.message);
  return Response.error();
}

function storePage(key, response) {
  return caches.open(CACHE_NAME)
    .then(function store(cache) { return cache.put(key, response); })
    .catch(function storeFailed(error) {
      console.warn('Service worker: storing ' + key + ' failed:', error.message);
    });
}

/** Rejects when `promise` has not settled within `milliseconds`. */
function withTimeout(promise, milliseconds) {
  return new Promise(function race(resolve, reject) {
    const timer = setTimeout(function expire() {
      reject(new Error('no response within ' + milliseconds + ' ms'));
    }, milliseconds);
    promise.then(function settle(value) {
      clearTimeout(timer);
      resolve(value);
    }, function fail(error) {
      clearTimeout(timer);
      reject(error);
    });
  });
}
