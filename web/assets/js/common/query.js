/** Per-screen overrides read from the page URL's query string. */

/**
 * Reads a whole number of seconds from the query parameter `name`. Returns null when the
 * parameter is absent or invalid (an invalid value is logged and ignored).
 */
export function readSecondsParameter(search, name, minSeconds, maxSeconds) {
  const raw = new URLSearchParams(search).get(name);
  if (raw === null) {
    return null;
  }
  const seconds = Number(raw);
  if (!/^\d+$/.test(raw) || seconds < minSeconds || seconds > maxSeconds) {
    console.warn('Ignoring invalid ' + name + ' ' + JSON.stringify(raw) + ' in the page URL: use '
      + minSeconds + ' to ' + maxSeconds + ' seconds');
    return null;
  }
  return seconds;
}
