/**
 * Wallart tiles and the animations that replace their posters.
 *
 * A tile contains one face (a layer with the poster) at rest. To replace it, the new face is
 * added on top in the start state of its animation (`enter`) and the old face gets the end
 * state of its exit (`leave`), and CSS transitions both. Only transform and opacity change,
 * so the browser composites the animation without relayout. When the animation is over the
 * old face is removed and its image dropped, so a tile has at most two faces.
 *
 * Test hooks: each tile and face carries `data-item-id`, and a face being replaced has the
 * class `leaving` until it is removed.
 */

import { releaseImage } from '../common/preload.js';
import { ANIMATIONS } from './settings.js';

/** Extra time after an animation before the old face is removed, in milliseconds. */
const CLEANUP_MARGIN_MS = 100;

export class Tile {
  /**
   * @param {HTMLElement} container the grid element the tile is added to
   * @param {{left: number, top: number, width: number, height: number, hero: boolean}} cell
   */
  constructor(container, cell) {
    this.cell = cell;
    this.element = document.createElement('div');
    this.element.className = cell.hero ? 'tile hero' : 'tile';
    this.element.style.left = cell.left + 'px';
    this.element.style.top = cell.top + 'px';
    this.element.style.width = cell.width + 'px';
    this.element.style.height = cell.height + 'px';
    container.appendChild(this.element);
    this.face = null;
    this.leavingFace = null;
    this.cleanupTimer = null;
    /** Round in which the tile last changed, so the oldest tiles change first. */
    this.changedInRound = -1;
  }

  /** Returns the id of the item in the tile, or null while it is empty. */
  itemId() {
    return this.face ? this.face.dataset.itemId : null;
  }

  /** Returns the item in the tile, or null while it is empty. */
  item() {
    return this.face ? this.face.item : null;
  }

  /**
   * Shows a loaded poster in the tile with an animation.
   * @param {{item: object, image: HTMLImageElement}} prepared
   * @param {string} animation one of ANIMATIONS, or `random`
   * @param {number} durationMs
   * @param {number} round
   */
  show(prepared, animation, durationMs, round) {
    this.finishAnimation();
    const name = animation === 'random'
      ? ANIMATIONS[Math.floor(Math.random() * ANIMATIONS.length)]
      : animation;
    const animationClass = 'animation-' + name.replace('_', '-');

    const face = document.createElement('div');
    face.className = 'face enter ' + animationClass;
    face.dataset.itemId = prepared.item.id;
    face.item = prepared.item;
    prepared.image.className = 'poster';
    face.appendChild(prepared.image);
    if (prepared.item.demo === true) {
      face.classList.add('demo');
    }
    this.element.appendChild(face);

    // Reading the layout applies the start state, so removing `enter` below animates.
    face.getBoundingClientRect();
    face.classList.remove('enter');
    if (this.face) {
      this.face.classList.add('leaving', 'leave', animationClass);
    }

    this.leavingFace = this.face;
    this.face = face;
    this.element.dataset.itemId = prepared.item.id;
    this.changedInRound = round;
    const self = this;
    this.cleanupTimer = setTimeout(function removeLeavingFace() { self.finishAnimation(); },
      durationMs + CLEANUP_MARGIN_MS);
  }

  /** Ends a running animation at once by removing the old face. */
  finishAnimation() {
    if (this.cleanupTimer !== null) {
      clearTimeout(this.cleanupTimer);
      this.cleanupTimer = null;
    }
    if (this.leavingFace) {
      releaseFace(this.leavingFace);
      this.leavingFace = null;
    }
  }

  /** Removes the tile and its images. */
  destroy() {
    this.finishAnimation();
    if (this.face) {
      releaseFace(this.face);
      this.face = null;
    }
    if (this.element.parentNode) {
      this.element.parentNode.removeChild(this.element);
    }
  }
}

/** Returns the ids of every item on screen, including those whose faces are leaving. */
export function itemIdsOnScreen(tiles) {
  const ids = {};
  tiles.forEach(function collectIds(tile) {
    if (tile.face) {
      ids[tile.face.dataset.itemId] = true;
    }
    if (tile.leavingFace) {
      ids[tile.leavingFace.dataset.itemId] = true;
    }
  });
  return ids;
}

/**
 * Picks `count` tiles to change: empty tiles first, then those that changed in the oldest
 * round, at random among equals so the wall does not change in a visible order.
 */
export function pickTilesToChange(tiles, count) {
  const shuffled = tiles.slice();
  for (let i = shuffled.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    const swap = shuffled[i];
    shuffled[i] = shuffled[j];
    shuffled[j] = swap;
  }
  shuffled.sort(function byAge(a, b) {
    const emptyA = a.face === null ? 0 : 1;
    const emptyB = b.face === null ? 0 : 1;
    return emptyA - emptyB || a.changedInRound - b.changedInRound;
  });
  return shuffled.slice(0, count);
}

function releaseFace(face) {
  const images = face.querySelectorAll('img');
  for (let i = 0; i < images.length; i += 1) {
    releaseImage(images[i]);
  }
  face.item = null;
  if (face.parentNode) {
    face.parentNode.removeChild(face);
  }
}
