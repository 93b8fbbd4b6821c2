/**
 * Colours from the `palette` of playlist items (`#rrggbb` strings, most area first), turned
 * into CSS values for ambient backgrounds and glows.
 *
 * Palette entries come from the server, but they are checked against the `#rrggbb` form before
 * they reach a style property anyway, because a malformed value would make the whole
 * declaration invalid.
 */

const HEX_COLOR = /^#[0-9a-fA-F]{6}$/;

/** Returns the valid colours of an item's palette as `{r, g, b}` objects, most area first. */
export function paletteColors(item) {
  if (!item || !Array.isArray(item.palette)) {
    return [];
  }
  return item.palette.filter(function isHexColor(value) {
    return typeof value === 'string' && HEX_COLOR.test(value);
  }).map(function parseHexColor(value) {
    return {
      r: parseInt(value.slice(1, 3), 16),
      g: parseInt(value.slice(3, 5), 16),
      b: parseInt(value.slice(5, 7), 16),
    };
  });
}

/**
 * Returns the most vivid colour of a palette, since the colour with the most area is often
 * a near-black border. Returns null for an empty palette.
 */
export function vividColor(colors) {
  let best = null;
  let bestScore = -1;
  colors.forEach(function scoreColor(color) {
    const max = Math.max(color.r, color.g, color.b);
    const min = Math.min(color.r, color.g, color.b);
    // Saturation weighted by brightness: dark or grey colours make a dull glow.
    const score = (max - min) + max / 4;
    if (score > bestScore) {
      best = color;
      bestScore = score;
    }
  });
  return best;
}

/** Formats a colour as a CSS `rgba()` value. */
export function rgba(color, alpha) {
  return 'rgba(' + color.r + ', ' + color.g + ', ' + color.b + ', ' + alpha + ')';
}
