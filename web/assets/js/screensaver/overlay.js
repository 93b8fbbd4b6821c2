/**
 * The text layer of a slide: clear logo or title, a line of facts (year, runtime, rating,
 * genres), the tagline, and the demo badge.
 * Everything is built with DOM calls and textContent, never from HTML strings, because titles
 * come from outside sources.
 */

/** Genres shown at most, so the line of facts stays on one line. */
const MAX_GENRES = 3;

/**
 * Builds the overlay for an item.
 * @param {object} item playlist item
 * @param {HTMLImageElement|null} logo loaded clear logo, or null
 * @param {object} settings screensaver settings (the `show_*` flags)
 * @returns {HTMLElement|null} null when the settings hide everything
 */
export function buildOverlay(item, logo, settings) {
  const overlay = document.createElement('div');
  overlay.className = 'overlay';

  if (logo && settings.show_logo) {
    logo.className = 'logo';
    logo.alt = item.title || '';
    overlay.appendChild(logo);
  } else if (settings.show_title && item.title) {
    const title = document.createElement('h1');
    title.className = 'title';
    title.textContent = item.title;
    overlay.appendChild(title);
  }

  const facts = document.createElement('p');
  facts.className = 'facts';
  if (settings.show_year && typeof item.year === 'number') {
    facts.appendChild(buildFact('year', String(item.year)));
  }
  if (settings.show_runtime && typeof item.runtime_minutes === 'number' && item.runtime_minutes > 0) {
    facts.appendChild(buildFact('runtime', formatRuntime(item.runtime_minutes)));
  }
  if (settings.show_rating && typeof item.rating === 'number' && item.rating > 0) {
    facts.appendChild(buildFact('rating', '\u2605 ' + item.rating.toFixed(1)));
  }
  const genres = Array.isArray(item.genres)
    ? item.genres.filter(function isText(genre) { return typeof genre === 'string' && genre !== ''; })
    : [];
  if (settings.show_genres && genres.length > 0) {
    facts.appendChild(buildFact('genres', genres.slice(0, MAX_GENRES).join(' \u00b7 ')));
  }
  if (facts.childNodes.length > 0) {
    overlay.appendChild(facts);
  }

  if (settings.show_tagline && typeof item.tagline === 'string' && item.tagline !== '') {
    const tagline = document.createElement('p');
    tagline.className = 'tagline';
    tagline.textContent = item.tagline;
    overlay.appendChild(tagline);
  }

  return overlay.childNodes.length > 0 ? overlay : null;
}

/**
 * Formats a runtime in minutes as hours and minutes: `2 h 11 min`, `2 h`, `45 min`.
 * @param {number} minutes
 */
export function formatRuntime(minutes) {
  const whole = Math.round(minutes);
  const hours = Math.floor(whole / 60);
  const rest = whole % 60;
  if (hours === 0) {
    return rest + ' min';
  }
  return rest === 0 ? hours + ' h' : hours + ' h ' + rest + ' min';
}

function buildFact(className, text) {
  const fact = document.createElement('span');
  fact.className = className;
  fact.textContent = text;
  return fact;
}

/** Builds the "Demo library" badge shown on items of the built-in demo library. */
export function buildDemoBadge() {
  const badge = document.createElement('span');
  badge.className = 'demo-badge';
  badge.textContent = 'Demo library';
  return badge;
}
