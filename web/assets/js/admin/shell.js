/**
 * Shared code of the signed-in admin pages: the session's CSRF token, the sign-out button, and
 * requests that send a person whose session ended back to the sign-in page.
 *
 * A page's module imports `request` instead of calling `sendJson` itself, and calls `start`
 * once its own set-up is done.
 */

import { RequestError, sendJson, sitePath } from './api.js';
import { showError } from './form.js';

/**
 * Error codes of a 401 that mean the session itself is gone. Other 401s, such as a rejected
 * two-factor code, are results of the request itself, so the caller handles them.
 */
const SESSION_ENDED = ['unauthorized', 'not-signed-in'];

/** Returns the sign-in page's URL that comes back to this page, query included. */
export function loginUrl() {
  const current = window.location.pathname + window.location.search;
  return sitePath('/admin/login') + '?next=' + encodeURIComponent(current);
}

/** Returns the CSRF token that the server wrote into the page for this session. */
export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute('content') : null;
}

/**
 * Sends a JSON request with the session's CSRF token. When the session has ended (signed out
 * elsewhere, expired or revoked), the page opens the sign-in page and the promise never
 * settles, so no caller shows a second message.
 *
 * @param {string} method HTTP method
 * @param {string} path path below the base path
 * @param {object|null} [body] JSON body
 * @returns {Promise<{status: number, body: any}>}
 * @throws {RequestError}
 */
export async function request(method, path, body) {
  try {
    return await sendJson(method, path, body === undefined ? null : body, csrfToken());
  } catch (error) {
    if (error instanceof RequestError && error.status === 401 && SESSION_ENDED.indexOf(error.code) !== -1) {
      showError('Your session has ended. Opening the sign-in page\u2026');
      window.location.assign(loginUrl());
      return new Promise(function never() {});
    }
    throw error;
  }
}

async function signOut(event) {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    await sendJson('POST', '/api/v1/auth/logout', null, csrfToken());
    window.location.assign(sitePath('/admin/login'));
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    showError('Signing out failed: ' + error.message);
    button.disabled = false;
  }
}

/** Enables the sign-out button. Test hook: `document.body.dataset.shell` becomes "ready". */
export function start() {
  const button = document.getElementById('sign-out');
  if (button) {
    button.addEventListener('click', signOut);
    button.disabled = false;
  }
  showCurrentSection();
  document.body.dataset.shell = 'ready';
}

/**
 * Scrolls the section navigation, which scrolls sideways on a phone, so that the current
 * section's link is in view rather than cut off at the edge.
 */
function showCurrentSection() {
  const nav = document.querySelector('.sections');
  const current = nav ? nav.querySelector('a[aria-current="page"]') : null;
  if (!current || nav.scrollWidth <= nav.clientWidth) {
    return;
  }
  const left = current.offsetLeft - (nav.clientWidth - current.offsetWidth) / 2;
  nav.scrollLeft = Math.max(0, left);
}
