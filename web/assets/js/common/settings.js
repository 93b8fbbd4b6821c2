/**
 * The display settings document from `api/v1/display-settings`, for pages that read one
 * section of it (`wallart`, `cinema`).
 *
 * The document is checked with a conditional GET, so an unchanged document costs a 304. Each
 * page passes a `sanitize` function that copies the valid fields of its section over the
 * defaults, so a value the page cannot use never reaches the layout. The helpers below do
 * the per-field checks.
 */

import { ApiError, getJson } from './api.js';

/**
 * Returns the path of the settings document for a page whose URL has `search`: with the
 * page's `preset` parameter, the server lays that preset over the global settings.
 */
export function settingsPath(search) {
  const preset = new URLSearchParams(search).get('preset');
  if (preset === null || preset === '') {
    return 'api/v1/display-settings';
  }
  return 'api/v1/display-settings?preset=' + encodeURIComponent(preset);
}

export class ModeSettings {
  /**
   * @param {string} section key of the section in the settings document
   * @param {function(object|null): object} sanitize returns the section's values, defaults for
   *   anything missing or invalid, from the received section or null
   */
  constructor(section, sanitize) {
    this.section = section;
    this.sanitize = sanitize;
    this.values = sanitize(null);
    this.etag = null;
    /** The last settings document received, for the sections that every mode shares. */
    this.document = null;
    /** Server clock minus this screen's clock, in milliseconds. */
    this.clockOffsetMs = 0;
  }

  /**
   * Fetches the settings with If-None-Match. Returns whether the section changed.
   * @throws {import('./api.js').ServerUnreachableError|ApiError}
   */
  async refresh() {
    const response = await getJson(settingsPath(window.location.search), { etag: this.etag });
    if (response.status === 304) {
      return false;
    }
    this.etag = response.etag;
    const body = response.body && typeof response.body === 'object' ? response.body : {};
    this.document = body;
    if (typeof body.server_time_ms === 'number') {
      this.clockOffsetMs = body.server_time_ms - Date.now();
    }
    const next = this.sanitize(body[this.section] || null);
    const changed = JSON.stringify(next) !== JSON.stringify(this.values);
    this.values = next;
    return changed;
  }

  /** Returns the current time by the server's clock, in this screen's time zone. */
  now() {
    return new Date(Date.now() + this.clockOffsetMs);
  }
}

/**
 * Refreshes the settings through the connection unless it is offline, because then the
 * connection's retry timer refreshes them. Returns whether they changed. Never rejects.
 *
 * @param {import('./connection.js').Connection} connection
 * @param {function(): Promise<boolean>} refresh
 */
export async function checkSettings(connection, refresh) {
  if (!connection.isOnline()) {
    return false;
  }
  try {
    return await connection.request(refresh);
  } catch (error) {
    if (error instanceof ApiError) {
      console.error('Settings request rejected (' + error.code + ', request id ' + error.requestId + '):', error.message);
    }
    return false;
  }
}

/** Returns `source[key]` when it is an integer within [min, max], else `fallback`. */
export function pickInteger(source, key, min, max, fallback) {
  const value = source ? source[key] : undefined;
  return typeof value === 'number' && Math.floor(value) === value && value >= min && value <= max
    ? value
    : fallback;
}

/** Returns `source[key]` when it is a boolean, else `fallback`. */
export function pickBoolean(source, key, fallback) {
  const value = source ? source[key] : undefined;
  return typeof value === 'boolean' ? value : fallback;
}

/** Returns `source[key]` when it is one of `choices`, else `fallback`. */
export function pickChoice(source, key, choices, fallback) {
  const value = source ? source[key] : undefined;
  return choices.indexOf(value) !== -1 ? value : fallback;
}

/** Returns `source[key]` when it is a string of at most `maxChars` characters, else `fallback`. */
export function pickText(source, key, maxChars, fallback) {
  const value = source ? source[key] : undefined;
  return typeof value === 'string' && Array.from(value).length <= maxChars ? value : fallback;
}
