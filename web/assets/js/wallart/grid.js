/**
 * Grid geometry: how many posters fit the screen at a density, and where each tile goes.
 *
 * Tiles keep the 2:3 shape of a poster, or are square for album covers, so the screen's
 * shape decides the rows. The density
 * gives a target tile width (screen width / density). The rows are the screen height divided
 * by that tile's height, rounded, and the tiles are then scaled to fill the height exactly.
 * The columns are as many whole tiles as fit the width, and the grid is centred, so
 * the space left at the sides is less than one tile.
 */

/** Tile height divided by width, by `tile_shape`. */
const TILE_RATIOS = { poster: 1.5, square: 1 };

/**
 * Computes the tiles for a screen of `width`×`height` CSS pixels.
 *
 * With `hero_grid` and at least two rows and three columns, the first tile covers 2×2 cells
 * in the top-left corner and the cells under it are left out.
 *
 * @returns {{columns: number, rows: number, cells: Array<{left: number, top: number,
 *   width: number, height: number, hero: boolean}>}}
 */
export function computeGrid(width, height, density, layout, shape) {
  const ratio = TILE_RATIOS[shape] || TILE_RATIOS.poster;
  const targetWidth = width / density;
  const rows = Math.max(1, Math.round(height / (targetWidth * ratio)));
  const tileHeight = height / rows;
  const tileWidth = tileHeight / ratio;
  const columns = Math.max(1, Math.floor(width / tileWidth + 0.01));
  const offsetLeft = (width - columns * tileWidth) / 2;

  const hero = layout === 'hero_grid' && rows >= 2 && columns >= 3;
  const cells = [];
  if (hero) {
    cells.push({ left: offsetLeft, top: 0, width: tileWidth * 2, height: tileHeight * 2, hero: true });
  }
  for (let row = 0; row < rows; row += 1) {
    for (let column = 0; column < columns; column += 1) {
      if (hero && row < 2 && column < 2) {
        continue;
      }
      cells.push({
        left: offsetLeft + column * tileWidth,
        top: row * tileHeight,
        width: tileWidth,
        height: tileHeight,
        hero: false,
      });
    }
  }
  return { columns: columns, rows: rows, cells: cells };
}
