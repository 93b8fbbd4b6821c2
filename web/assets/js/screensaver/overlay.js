/**
 * The text layer of a slide: clear logo or title, year and rating, and the demo badge.
 * Everything is built with DOM calls and textContent, never from HTML strings, because titles
 * come from outside sources.
 */

/**
 * Builds the overlay for an item.
 * @param {object} item playlist item
 * @param {HTMLImageElement|null} logo loaded clear logo, or null
 * @param {object} settings screensaver settings (`show_logo`, `show_title`, `show_year`, `show_rating`)
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
  if (settings.show_rating && typeof item.rating === 'number' && item.rating > 0) {
    facts.appendChild(buildFact('rating', '\u2605 ' + item.rating.toFixed(1)));
  }
  if (facts.childNodes.length > 0) {
    overlay.appendChild(facts);
  }

  return overlay.childNodes.length > 0 ? overlay : null;
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
