/**
 * Slides and the transitions between them.
 *
 * A slide is one element holding the images and the overlay of an item. The incoming slide is
 * added on top of the current one in the start state of its transition (class `enter`) and the
 * outgoing slide gets the end state of the same transition (class `leave`), and CSS transitions
 * both. Only transform and opacity change, so the browser composites each frame without
 * relayout. When the transition is over, the old slide is removed and its images dropped, so at
 * most two slides exist at a time and memory stays flat over days.
 *
 * Ken Burns crossfades like `fade`, then moves one image layer (the background, else the
 * poster inside its frame) from a start to an end transform for the whole time the slide is on
 * screen. Screens that prefer reduced motion always get the plain fade.
 *
 * Test hooks: the visible slide carries `data-item-id` and `data-transition` (the transition
 * it entered with), its poster and background <img> elements carry the class `current`, and
 * `document.body.dataset.currentItem` is the item id.
 */

import { loadImage, releaseImage } from '../common/preload.js';
import { sizedImageUrl } from '../common/sizing.js';
import { buildDemoBadge, buildOverlay } from './overlay.js';
import { TRANSITIONS } from './settings.js';

/** Extra time after the transition before the old slide is removed, in milliseconds. */
const CLEANUP_MARGIN_MS = 100;
/** Ken Burns paths, each a CSS class with a start and an end position (screensaver.css). */
const PAN_PATHS = ['pan-1', 'pan-2', 'pan-3', 'pan-4'];
const REDUCED_MOTION_QUERY = '(prefers-reduced-motion: reduce)';

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
    this.intervalMs = 0;
    /** Transition of the last slide, which `random` does not pick twice in a row. */
    this.lastTransition = null;
  }

  /** Returns the id of the item on screen, or null when nothing is shown. */
  currentItemId() {
    return this.current ? this.current.dataset.itemId : null;
  }

  setTransitionMs(milliseconds) {
    this.transitionMs = milliseconds;
    this.stage.style.setProperty('--transition-ms', milliseconds + 'ms');
    this.updatePanLength();
  }

  /** Sets the time each slide stays on screen, which the Ken Burns pan lasts. */
  setIntervalMs(milliseconds) {
    this.intervalMs = milliseconds;
    this.updatePanLength();
  }

  updatePanLength() {
    // The pan runs from the start of the slide's transition in to the end of its transition out.
    const panMs = this.intervalMs + this.transitionMs;
    this.stage.style.setProperty('--pan-ms', panMs + 'ms');
  }

  /** Shows a prepared slide over the current one with the transition the settings name. */
  show(prepared, settings) {
    // A transition still running (possible only if the interval is shorter) ends now.
    this.finishTransition();

    const transition = this.chooseTransition(settings.transition);
    this.lastTransition = transition;
    const transitionClass = 'transition-' + transition.replace('_', '-');
    const slide = buildSlide(prepared, settings);
    slide.dataset.transition = transition;
    slide.classList.add('enter', transitionClass);
    if (transition === 'ken_burns') {
      const layer = slide.querySelector('img.backdrop') || slide.querySelector('img.poster');
      if (layer !== null) {
        layer.classList.add('pan-layer');
        slide.classList.add('ken-burns', pickAtRandom(PAN_PATHS));
      }
    }
    this.stage.appendChild(slide);
    // Reading the layout applies the start state, so the class changes below animate.
    slide.getBoundingClientRect();
    slide.classList.remove('enter');
    slide.classList.add('visible');
    if (slide.classList.contains('ken-burns')) {
      slide.classList.add('panning');
    }

    if (this.current) {
      markCurrent(this.current, false);
      replaceTransitionClass(this.current, transitionClass);
      this.current.classList.add('leave');
    }
    markCurrent(slide, true);
    document.body.dataset.currentItem = prepared.item.id;

    this.outgoing = this.current;
    this.current = slide;
    const self = this;
    this.cleanupTimer = setTimeout(function removeOutgoing() { self.finishTransition(); },
      this.transitionMs + CLEANUP_MARGIN_MS);
  }

  /**
   * Returns the transition for the next slide: the named one, a random one for `random`, and
   * `fade` for an unknown name or when the screen prefers reduced motion.
   */
  chooseTransition(name) {
    if (prefersReducedMotion()) {
      return 'fade';
    }
    if (name === 'random') {
      const last = this.lastTransition;
      return pickAtRandom(TRANSITIONS.filter(function isNotLast(other) { return other !== last; }));
    }
    return TRANSITIONS.indexOf(name) !== -1 ? name : 'fade';
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

/**
 * Returns whether the screen prefers reduced motion. The query is read per slide, without a
 * listener, so a changed system setting applies from the next slide.
 */
function prefersReducedMotion() {
  return typeof window.matchMedia === 'function' && window.matchMedia(REDUCED_MOTION_QUERY).matches;
}

function pickAtRandom(choices) {
  return choices[Math.floor(Math.random() * choices.length)];
}

/** Gives the outgoing slide the transition of the incoming one, so both move together. */
function replaceTransitionClass(slide, transitionClass) {
  const stale = Array.prototype.filter.call(slide.classList, function isTransitionClass(name) {
    return name.indexOf('transition-') === 0;
  });
  stale.forEach(function removeClass(name) { slide.classList.remove(name); });
  slide.classList.add(transitionClass);
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
