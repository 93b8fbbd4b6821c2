/**
 * Registration of the display pages' service worker (`sw.js` under the base path), which lets
 * a page reloaded during a server outage start from Cache Storage.
 *
 * The worker is an extra. Browsers without service workers, and pages outside a secure context
 * (plain HTTP to an address other than localhost), skip it and work as before. A failed
 * registration is logged and changes nothing else.
 */

let registration = null;

/**
 * Registers the worker once per page. Returns the registration promise, which never rejects
 * and resolves with null when there is no worker.
 */
export function registerServiceWorker() {
  if (registration !== null) {
    return registration;
  }
  if (!window.isSecureContext || !('serviceWorker' in navigator)) {
    registration = Promise.resolve(null);
    return registration;
  }
  // Both URLs are absolute so that they resolve against the base path in every browser.
  const scriptUrl = new URL('sw.js', document.baseURI).href;
  const scope = new URL('./', document.baseURI).href;
  const options = { scope: scope, updateViaCache: 'none' };
  registration = navigator.serviceWorker.register(scriptUrl, options)
    .catch(function registrationFailed(error) {
      console.warn('Service worker registration failed, so a reload needs the server:',
        error.message);
      return null;
    });
  return registration;
}
