/**
 * The now-playing takeover: while a media server plays to this screen's rule, a full-frame
 * view of that item covers the rotation. It has the now-playing header, the poster (the
 * catalog's, else a neutral card with the title), a progress bar and the time remaining.
 *
 * The view fades in and out with opacity, and the bar grows with `transform: scaleX`, so no
 * layout property is animated. The position advances once a second from the last report.
 *
 * Test hooks: `document.body.dataset.nowPlaying` is the shown session's id and is absent while
 * the rotation shows. The view (`#frame .takeover`) carries `data-state` and `data-progress`
 * (the played share, 0 to 1, with three decimals), and `.takeover-remaining` contains the time
 * remaining.
 */

import { loadImage, releaseImage } from '../common/preload.js';
import { sizedBoxImageUrl } from '../common/sizing.js';
import { formatDuration, playbackPosition } from './now-playing.js';
import { fitPoster } from './slides.js';

/** Length of the fade in and out in milliseconds, the same as the slides' crossfade. */
const FADE_MS = 1200;
/** Time between two updates of the progress bar and the remaining time, in milliseconds. */
const TICK_MS = 1000;
/** Share of the frame the poster may cover, for the image size requested from the server. */
const POSTER_WIDTH_SHARE = 0.8;
const POSTER_HEIGHT_SHARE = 0.6;

export class Takeover {
  /**
   * @param {HTMLElement} frame the element the view is added to
   * @param {function(): number} serverNow returns the current time by the server's clock, in
   *   milliseconds
   */
  constructor(frame, serverNow) {
    this.frame = frame;
    this.serverNow = serverNow;
    /** The view on screen, and the session and report it shows. */
    this.view = null;
    this.session = null;
    this.reportedAtMs = 0;
    this.tickTimer = null;
    /** Counts requested changes, so a poster that loads after a newer change is dropped. */
    this.revision = 0;
    this.idleWaiters = [];
  }

  /** Returns whether a session covers the rotation. */
  isActive() {
    return this.session !== null;
  }

  /** Resolves once no session covers the rotation. */
  whenIdle() {
    if (!this.isActive()) {
      return Promise.resolve();
    }
    const self = this;
    return new Promise(function waitForIdle(resolve) { self.idleWaiters.push(resolve); });
  }

  /**
   * Shows `session`, or removes the view when it is null. A new report of the session on
   * screen only updates its position and state.
   *
   * @param {object|null} session a session of the now-playing response
   * @param {number} reportedAtMs the response's `server_time_ms`
   * @param {object} settings cinema settings
   * @param {{width: number, height: number}} frameSize the frame in CSS pixels
   */
  async update(session, reportedAtMs, settings, frameSize) {
    this.revision += 1;
    const revision = this.revision;
    if (session === null) {
      this.hide();
      return;
    }
    if (this.session !== null && this.view !== null && sameItem(this.session, session)) {
      this.session = session;
      this.reportedAtMs = reportedAtMs;
      this.render();
      return;
    }

    const poster = await loadPoster(session, frameSize);
    if (revision !== this.revision) {
      releaseImage(poster);
      return;
    }
    this.session = session;
    this.reportedAtMs = reportedAtMs;
    this.replaceView(buildView(session, poster, settings));
  }

  /** Fits the poster to its area again, after the frame changed size. */
  refit() {
    if (this.view !== null) {
      fitPoster(this.view);
    }
  }

  replaceView(view) {
    const outgoing = this.view;
    this.frame.appendChild(view);
    fitPoster(view);
    // Reading the layout in fitPoster applies the initial opacity 0, so this fades in.
    view.classList.add('visible');
    this.view = view;
    document.body.dataset.nowPlaying = this.session.session_id;
    this.render();
    if (this.tickTimer === null) {
      const self = this;
      this.tickTimer = setInterval(function tick() { self.render(); }, TICK_MS);
    }
    if (outgoing !== null) {
      fadeOut(outgoing);
    }
  }

  hide() {
    if (this.tickTimer !== null) {
      clearInterval(this.tickTimer);
      this.tickTimer = null;
    }
    if (this.view !== null) {
      fadeOut(this.view);
      this.view = null;
    }
    this.session = null;
    delete document.body.dataset.nowPlaying;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    waiters.forEach(function resume(resolve) { resolve(); });
  }

  /** Draws the position of the shown session at the current time. */
  render() {
    if (this.view === null || this.session === null) {
      return;
    }
    const session = this.session;
    const position = playbackPosition(session, this.reportedAtMs, this.serverNow());
    const duration = typeof session.duration_ms === 'number' && session.duration_ms > 0
      ? session.duration_ms
      : null;
    const view = this.view;
    view.dataset.state = session.state;

    const progress = view.querySelector('.takeover-progress');
    const fill = view.querySelector('.takeover-progress-fill');
    const remaining = view.querySelector('.takeover-remaining');
    progress.hidden = duration === null;
    if (duration === null) {
      delete view.dataset.progress;
      remaining.textContent = session.state === 'paused' ? 'Paused' : '';
      return;
    }
    const share = Math.min(1, position / duration);
    view.dataset.progress = share.toFixed(3);
    fill.style.transform = 'scaleX(' + share.toFixed(4) + ')';
    const left = formatDuration(duration - position) + ' left';
    remaining.textContent = session.state === 'paused' ? 'Paused \u00b7 ' + left : left;
  }
}

/** Returns whether two reports are of one session playing one item. */
function sameItem(shown, session) {
  const shownItem = shown.item && shown.item.id ? shown.item.id : null;
  const itemId = session.item && session.item.id ? session.item.id : null;
  return shown.session_id === session.session_id && shown.source === session.source
    && shown.title === session.title && shownItem === itemId;
}

/** Loads the catalog poster of the session's item. Returns null when it has none or it fails. */
async function loadPoster(session, frameSize) {
  const images = session.item && session.item.images ? session.item.images : null;
  if (images === null || typeof images.poster !== 'string') {
    return null;
  }
  const url = sizedBoxImageUrl(images.poster,
    frameSize.width * POSTER_WIDTH_SHARE, frameSize.height * POSTER_HEIGHT_SHARE);
  try {
    return await loadImage(url, session.title);
  } catch (error) {
    console.warn('Now-playing poster of ' + session.title + ' failed to load: ' + error.message);
    return null;
  }
}

function buildView(session, poster, settings) {
  const view = document.createElement('section');
  view.className = 'takeover';
  view.dataset.sessionId = session.session_id;

  const header = document.createElement('header');
  header.className = 'header header-now-playing';
  const headerText = document.createElement('p');
  headerText.className = 'header-text';
  headerText.textContent = settings.now_playing_text;
  header.appendChild(headerText);
  view.appendChild(header);

  const body = document.createElement('div');
  body.className = 'slide-body';
  const posterArea = document.createElement('div');
  posterArea.className = 'poster-area';
  if (poster !== null) {
    poster.className = 'poster';
    posterArea.appendChild(poster);
  } else {
    posterArea.appendChild(buildPlaceholder(session.title));
  }
  body.appendChild(posterArea);

  const details = document.createElement('div');
  details.className = 'details';
  const title = document.createElement('h1');
  title.className = 'title';
  title.textContent = session.title;
  details.appendChild(title);
  if (typeof session.year === 'number') {
    const year = document.createElement('p');
    year.className = 'metadata';
    year.textContent = String(session.year);
    details.appendChild(year);
  }
  const progress = document.createElement('div');
  progress.className = 'takeover-progress';
  const fill = document.createElement('div');
  fill.className = 'takeover-progress-fill';
  progress.appendChild(fill);
  details.appendChild(progress);
  const remaining = document.createElement('p');
  remaining.className = 'takeover-remaining';
  details.appendChild(remaining);
  body.appendChild(details);

  view.appendChild(body);
  return view;
}

/** Builds the neutral card shown for an item outside the catalog. */
function buildPlaceholder(title) {
  const card = document.createElement('div');
  card.className = 'poster-placeholder';
  const text = document.createElement('p');
  text.className = 'poster-placeholder-title';
  text.textContent = title;
  card.appendChild(text);
  return card;
}

function fadeOut(view) {
  view.classList.remove('visible');
  setTimeout(function removeView() {
    const images = view.querySelectorAll('img');
    for (let i = 0; i < images.length; i += 1) {
      releaseImage(images[i]);
    }
    if (view.parentNode) {
      view.parentNode.removeChild(view);
    }
  }, FADE_MS);
}
