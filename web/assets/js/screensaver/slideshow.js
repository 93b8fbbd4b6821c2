/**
 * Slides and the crossfade between them.
 *
 * A slide is one element holding the images and the overlay of an item. The incoming slide is
 * added on top of the current one with opacity 0 and fades to 1, a true crossfade with no dip to
 * black. When the fade is over, the old slide is removed and its images dropped, so at most two
 * slides exist at a time and memory stays flat over days. Only opacity is animated.
 *
 * Test hooks: the visible slide carries `data-item-id`, its poster and background <img>
 * elements carry the class `current`, and `document.body.dataset.currentItem` is the item id.
 */

import { loadImage, releaseImage } from '../common/preload.js';
import { sizedImageUrl } from '../common/sizing.js';
import { buildDemoBadge, buildOverlay } from './overlay.js';

/** Extra time after the fade before the old slide is removed, in milliseconds. */
const CLEANUP_MARGIN_MS = 100;

/**
 * Loads the images an item needs under the given settings.
 *
 * The main image (the poster, or the background for an item without a poster) is required: if
 * it fails, the promise rejects and the item is skipped. The background behind a poster and
 * the clear logo are optional; when they fail the slide is shown without them.
 *
 * @returns {Promise<{item: object, layout: string, poster: HTMLImageElement|null,
 *   backdrop: HTMLImageElement|null, logo: HTMLImageElement|null}>}
 */
export async function prepareSlide(item, settings) {
  const images = item.images;
  const title = item.title || '';
  const hasPoster = typeof images.poster === 'string';
  const wantsBackdrop = typeof images.background === 'string'
    && (!hasPoster || settings.layout === 'background_with_poster');
  const wantsLogo = typeof images.logo === 'string' && settings.show_logo;

  const loads = [
    hasPoster ? loadImage(sizedImageUrl(images.poster, 'poster'), title) : Promise.resolve(null),
    wantsBackdrop ? loadImage(sizedImageUrl(images.background, 'background'), '') : Promise.resolve(null),
    wantsLogo ? loadImage(sizedImageUrl(images.logo, 'logo'), title) : Promise.resolve(null),
  ].map(function keepErrors(load) {
    return load.then(
      function loaded(image) { return { image: image, error: null }; },
      function failed(error) { return { image: null, error: error }; }
    );
  });
  const results = await Promise.all(loads);
  const poster = results[0].image;
  const backdrop = results[1].image;
  const logo = results[2].image;

  const mainResult = hasPoster ? results[0] : results[1];
  if (mainResult.image === null) {
    releaseImage(poster);
    releaseImage(backdrop);
    releaseImage(logo);
    throw mainResult.error;
  }

  let layout = 'layout-poster';
  if (!hasPoster) {
    layout = 'layout-backdrop-only';
  } else if (backdrop !== null) {
    layout = 'layout-backdrop';
  }
  return { item: item, layout: layout, poster: poster, backdrop: backdrop, logo: logo };
}

/** Drops the images of a prepared slide that will not be shown. */
export function discardSlide(prepared) {
  releaseImage(prepared.poster);
  releaseImage(prepared.backdrop);
  releaseImage(prepared.logo);
}

export class Slideshow {
  /** @param {HTMLElement} stage the full-screen container */
  constructor(stage) {
    this.stage = stage;
    this.current = null;
    this.outgoing = null;
    this.cleanupTimer = null;
    this.transitionMs = 0;
  }

  /** Returns the id of the item on screen, or null when nothing is shown. */
  currentItemId() {
    return this.current ? this.current.dataset.itemId : null;
  }

  setTransitionMs(milliseconds) {
    this.transitionMs = milliseconds;
    this.stage.style.setProperty('--transition-ms', milliseconds + 'ms');
  }

  /** Fades in a prepared slide over the current one. */
  show(prepared, settings) {
    // A fade still running (possible only if the interval is shorter than the fade) ends now.
    this.finishTransition();

    const slide = buildSlide(prepared, settings);
    this.stage.appendChild(slide);
    // Reading the layout applies the initial opacity 0, so adding `visible` below animates.
    slide.getBoundingClientRect();
    slide.classList.add('visible');

    if (this.current) {
      markCurrent(this.current, false);
    }
    markCurrent(slide, true);
    document.body.dataset.currentItem = prepared.item.id;

    this.outgoing = this.current;
    this.current = slide;
    const self = this;
    this.cleanupTimer = setTimeout(function removeOutgoing() { self.finishTransition(); },
      this.transitionMs + CLEANUP_MARGIN_MS);
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

function buildSlide(prepared, settings) {
  const slide = document.createElement('section');
  slide.className = 'slide ' + prepared.layout;
  slide.dataset.itemId = prepared.item.id;

  if (prepared.backdrop) {
    prepared.backdrop.className = 'backdrop';
    slide.appendChild(prepared.backdrop);
  }
  const scrim = document.createElement('div');
  scrim.className = 'scrim';
  slide.appendChild(scrim);

  const content = document.createElement('div');
  content.className = 'content';
  if (prepared.poster) {
    const frame = document.createElement('div');
    frame.className = 'poster-frame';
    prepared.poster.className = 'poster';
    frame.appendChild(prepared.poster);
    content.appendChild(frame);
  }
  const overlay = buildOverlay(prepared.item, prepared.logo, settings);
  if (overlay) {
    content.appendChild(overlay);
  } else {
    releaseImage(prepared.logo);
  }
  slide.appendChild(content);

  if (prepared.item.demo === true) {
    slide.appendChild(buildDemoBadge());
  }
  return slide;
}

function markCurrent(slide, isCurrent) {
  const images = slide.querySelectorAll('img.poster, img.backdrop');
  for (let i = 0; i < images.length; i += 1) {
    images[i].classList.toggle('current', isCurrent);
  }
}

function releaseSlide(slide) {
  const images = slide.querySelectorAll('img');
  for (let i = 0; i < images.length; i += 1) {
    images[i].removeAttribute('src');
  }
  if (slide.parentNode) {
    slide.parentNode.removeChild(slide);
  }
}
