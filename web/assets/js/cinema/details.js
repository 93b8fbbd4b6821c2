/**
 * The text under the poster: the title, a metadata line (year, runtime, content rating,
 * genres) and the technical badges. Everything is built with DOM calls and textContent, never
 * from HTML strings, because titles come from outside sources.
 */

/** Genres shown at most, so the line fits a portrait screen. */
const MAX_GENRES = 3;

/** Returns the parts of the metadata line of an item, in display order. */
export function metadataParts(item) {
  const parts = [];
  if (typeof item.year === 'number') {
    parts.push(String(item.year));
  }
  if (typeof item.runtime_minutes === 'number' && item.runtime_minutes > 0) {
    const hours = Math.floor(item.runtime_minutes / 60);
    const minutes = item.runtime_minutes % 60;
    if (hours > 0) {
      const paddedMinutes = minutes < 10 ? '0' + minutes : String(minutes);
      parts.push(hours + ' h ' + paddedMinutes + ' min');
    } else {
      parts.push(minutes + ' min');
    }
  }
  if (typeof item.content_rating === 'string' && item.content_rating !== '') {
    parts.push(item.content_rating);
  }
  if (Array.isArray(item.genres) && item.genres.length > 0) {
    parts.push(item.genres.slice(0, MAX_GENRES).join(', '));
  }
  return parts;
}

/**
 * Returns the badge labels of an item from its `badges` object (resolution, HDR, Dolby
 * Vision, Atmos), in display order. Items without badge data get none.
 */
export function badgeLabels(item) {
  const badges = item.badges && typeof item.badges === 'object' ? item.badges : null;
  if (badges === null) {
    return [];
  }
  const labels = [];
  if (typeof badges.resolution === 'string' && badges.resolution !== '') {
    labels.push(badges.resolution);
  }
  if (badges.dolby_vision === true) {
    labels.push('Dolby Vision');
  } else if (badges.hdr === true) {
    labels.push('HDR');
  }
  if (badges.atmos === true) {
    labels.push('Atmos');
  }
  return labels;
}

/** Fills the details element for an item. */
export function renderDetails(container, item, settings) {
  while (container.firstChild) {
    container.removeChild(container.firstChild);
  }

  const title = document.createElement('h1');
  title.className = 'title';
  title.textContent = item.title || '';
  container.appendChild(title);

  if (settings.show_footer) {
    const parts = metadataParts(item);
    if (parts.length > 0) {
      const line = document.createElement('p');
      line.className = 'metadata';
      line.textContent = parts.join('  \u00b7  ');
      container.appendChild(line);
    }
  }

  if (settings.show_badges) {
    const labels = badgeLabels(item);
    if (labels.length > 0) {
      const row = document.createElement('p');
      row.className = 'badges';
      labels.forEach(function addBadge(label) {
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = label;
        row.appendChild(badge);
      });
      container.appendChild(row);
    }
  }

  // The server draws the code and lists its URL only for items with a public page.
  const qr = item.images && typeof item.images.qr === 'string' ? item.images.qr : '';
  if (settings.show_qr && qr !== '') {
    const code = document.createElement('img');
    code.className = 'qr';
    code.alt = 'QR code: scan for the trailer or details';
    code.src = qr;
    container.appendChild(code);
  }

  if (item.demo === true) {
    const demo = document.createElement('p');
    demo.className = 'demo-badge';
    demo.textContent = 'Demo library';
    container.appendChild(demo);
  }
}
