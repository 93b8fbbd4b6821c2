/**
 * Cinema slides: each slide is the whole content of the frame for one item (header, poster
 * with its glow, details), and a new slide fades in over the current one. Only opacity is
 * animated. When the fade is over the old slide is removed and its image dropped, so at most
 * two slides exist at a time.
 *
 * Test hooks: the visible slide has the class `current` and carries `data-item-id`, and
 * `document.body.dataset.currentItem` and `document.body.dataset.header` (the header rule) follow it.
 */

import { paletteColors, rgba, vividColor } from '../common/palette.js';
import { releaseImage } from '../common/preload.js';
import { renderDetails } from './details.js';

/** Length of the crossfade in milliseconds. */
const FADE_MS = 1200;
/** Extra time after the fade before the old slide is removed, in milliseconds. */
const CLEANUP_MARGIN_MS = 100;

export class CinemaSlides {
  /** @param {HTMLElement} frame the element the slides are added to */
  constructor(frame) {
    this.frame = frame;
    this.current = null;
    this.outgoing = null;
    this.cleanupTimer = null;
    frame.style.setProperty('--fade-ms', FADE_MS + 'ms');
  }

  /** Returns the id of the item on screen, or null when nothing is shown. */
  currentItemId() {
    return this.current ? this.current.dataset.itemId : null;
  }

  /**
   * Fades in a slide for a loaded poster.
   * @param {{item: object, image: HTMLImageElement}} prepared
   * @param {{rule: string, text: string}} header
   * @param {object} settings cinema settings
   */
  show(prepared, header, settings) {
    this.finishTransition();
    const slide = buildSlide(prepared, header, settings);
    this.frame.appendChild(slide);
    // Fitting reads the layout, which also applies the initial opacity 0, so adding `visible`
    // below animates.
    fitPoster(slide);
    slide.classList.add('visible');

    if (this.current) {
      this.current.classList.remove('current');
    }
    slide.classList.add('current');
    document.body.dataset.currentItem = prepared.item.id;
    document.body.dataset.header = header.rule;

    this.outgoing = this.current;
    this.current = slide;
    const self = this;
    this.cleanupTimer = setTimeout(function removeOutgoing() { self.finishTransition(); },
      FADE_MS + CLEANUP_MARGIN_MS);
  }

  /** Fits the visible poster to its area again, after the frame changed size. */
  refit() {
    if (this.current) {
      fitPoster(this.current);
    }
  }

  /** Removes every slide, for an empty playlist. */
  clear() {
    this.finishTransition();
    if (this.current) {
      releaseSlide(this.current);
      this.current = null;
    }
    delete document.body.dataset.currentItem;
  }

  finishTransition() {
    if (this.cleanupTimer !== null) {
      clearTimeout(this.cleanupTimer);
      this.cleanupTimer = null;
    }
    if (this.outgoing) {
      releaseSlide(this.outgoing);
      this.outgoing = null;
    }
  }
}

function buildSlide(prepared, header, settings) {
  const slide = document.createElement('section');
  slide.className = 'slide';
  slide.dataset.itemId = prepared.item.id;

  const headerElement = document.createElement('header');
  headerElement.className = 'header header-' + header.rule.replace('_', '-');
  const headerText = document.createElement('p');
  headerText.className = 'header-text';
  headerText.textContent = header.text;
  headerElement.appendChild(headerText);
  slide.appendChild(headerElement);

  const body = document.createElement('div');
  body.className = 'slide-body';
  const posterArea = document.createElement('div');
  posterArea.className = 'poster-area';
  prepared.image.className = 'poster';
  const glow = settings.glow ? vividColor(paletteColors(prepared.item)) : null;
  if (glow !== null) {
    // The palette was checked by paletteColors, so only numbers reach the style.
    slide.style.setProperty('--glow-color', rgba(glow, 0.55));
    slide.classList.add('glowing');
  }
  posterArea.appendChild(prepared.image);
  body.appendChild(posterArea);

  const details = document.createElement('div');
  details.className = 'details';
  renderDetails(details, prepared.item, settings);
  body.appendChild(details);
  slide.appendChild(body);
  return slide;
}

/**
 * Sizes the poster of a slide or of the now-playing view to the largest box of its own shape
 * that fits its area, scaling small images up. CSS alone would either keep small images small
 * or letterbox them inside a box of the area's shape, and the glow must hug the image itself.
 */
export function fitPoster(slide) {
  const area = slide.querySelector('.poster-area');
  const poster = slide.querySelector('img.poster');
  if (!area || !poster || !poster.naturalWidth || !poster.naturalHeight) {
    return;
  }
  const style = getComputedStyle(area);
  const width = area.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const height = area.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
  const scale = Math.min(width / poster.naturalWidth, height / poster.naturalHeight);
  if (scale > 0) {
    poster.style.width = Math.floor(poster.naturalWidth * scale) + 'px';
    poster.style.height = Math.floor(poster.naturalHeight * scale) + 'px';
  }
}

function releaseSlide(slide) {
  const images = slide.querySelectorAll('img');
  for (let i = 0; i < images.length; i += 1) {
    releaseImage(images[i]);
  }
  if (slide.parentNode) {
    slide.parentNode.removeChild(slide);
  }
}
