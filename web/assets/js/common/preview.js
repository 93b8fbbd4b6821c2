/**
 * The live preview of the admin's settings editor: a display page opened with `?preview=1` in
 * a frame of a page from the same server takes unsaved settings documents from that page.
 *
 * Only messages from the parent window, from this origin, count. A document goes the way of a
 * device's settings push, so the page's own checks decide which values it uses, and a page in
 * preview never starts a device session, so the admin's browser is never paired as a screen.
 *
 * Messages: the page posts `{type: 'onesheet-preview-ready'}` to its parent once it listens,
 * and the parent posts `{type: 'onesheet-preview-settings', settings: {...}}` with the whole
 * unsaved document whenever it changes.
 *
 * Test hook: `document.body.dataset.preview` is "ready" once the page listens, and
 * `document.body.dataset.previewCount` counts the documents applied.
 */

export const PREVIEW_READY = 'onesheet-preview-ready';
export const PREVIEW_SETTINGS = 'onesheet-preview-settings';

/** Returns whether the page runs as a preview: `preview=1` in its URL, inside a frame. */
export function previewRequested(search) {
  return new URLSearchParams(search).get('preview') === '1' && window.parent !== window;
}

/**
 * Passes each settings document that the parent sends to `apply`, and posts the ready message
 * to the parent once the page listens.
 * @param {function(object): void} apply receives the whole settings document
 */
export function listenForPreview(apply) {
  let applied = 0;
  window.addEventListener('message', function takeMessage(event) {
    if (event.source !== window.parent || event.origin !== window.location.origin) {
      return;
    }
    const data = event.data;
    if (!data || typeof data !== 'object' || data.type !== PREVIEW_SETTINGS) {
      return;
    }
    const settings = data.settings;
    if (!settings || typeof settings !== 'object' || Array.isArray(settings)) {
      console.warn('Ignoring a preview message without a settings object');
      return;
    }
    try {
      apply(settings);
      applied += 1;
      document.body.dataset.previewCount = String(applied);
    } catch (error) {
      console.warn('The preview failed to apply the settings: ' + error.message);
    }
  });
  document.body.dataset.preview = 'ready';
  window.parent.postMessage({ type: PREVIEW_READY }, window.location.origin);
}
