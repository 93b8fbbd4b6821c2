/**
 * The offline marker and the state attributes that tests and stylesheets read.
 *
 * `document.body.dataset.online` is "true" or "false", and the marker element is hidden while
 * online. A screen keeps showing cached posters while offline, so the marker stays small.
 */

export class StatusIndicator {
  /**
   * @param {HTMLElement} body
   * @param {HTMLElement} marker the `#offline-marker` element
   */
  constructor(body, marker) {
    this.body = body;
    this.marker = marker;
  }

  setOnline(online) {
    this.body.dataset.online = online ? 'true' : 'false';
    this.marker.hidden = online;
  }
}
