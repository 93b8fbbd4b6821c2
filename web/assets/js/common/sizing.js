/**
 * Image sizes for this screen: the server resizes artwork to the box a screen shows it in, so a
 * 720p tablet does not download a 9000-pixel scan.
 *
 * Sizes are in device pixels (CSS pixels times devicePixelRatio), so a 4K TV that reports a
 * 1920-wide viewport at ratio 2 still gets sharp posters. The server snaps every size to a short
 * ladder of widths, so the exact numbers here do not multiply cached variants.
 */

/** The widest image the server derives; larger screens scale it up. */
const MAX_SIDE = 3840;

/** Share of the screen width a clear logo may take. */
const LOGO_WIDTH_SHARE = 0.4;

function devicePixels(cssPixels) {
  const ratio = window.devicePixelRatio > 0 ? window.devicePixelRatio : 1;
  return Math.max(1, Math.min(MAX_SIDE, Math.round(cssPixels * ratio)));
}

function withParams(url, params) {
  const separator = url.indexOf('?') === -1 ? '?' : '&';
  return url + separator + params;
}

/**
 * Returns the URL of an image resized for one role on this screen.
 * @param {string} url the image URL from the playlist
 * @param {'poster'|'background'|'logo'} role
 */
export function sizedImageUrl(url, role) {
  const width = window.innerWidth || document.documentElement.clientWidth || 1280;
  const height = window.innerHeight || document.documentElement.clientHeight || 720;
  if (role === 'background') {
    return withParams(url, 'w=' + devicePixels(width) + '&h=' + devicePixels(height) + '&fit=cover');
  }
  if (role === 'logo') {
    return withParams(url, 'w=' + devicePixels(width * LOGO_WIDTH_SHARE));
  }
  return withParams(url, 'w=' + devicePixels(width) + '&h=' + devicePixels(height));
}

/**
 * Returns the URL of an image resized to fit a box of `cssWidth`×`cssHeight` CSS pixels, for
 * pages that show several images at once (the wallart tiles).
 */
export function sizedBoxImageUrl(url, cssWidth, cssHeight) {
  return withParams(url, 'w=' + devicePixels(cssWidth) + '&h=' + devicePixels(cssHeight));
}
