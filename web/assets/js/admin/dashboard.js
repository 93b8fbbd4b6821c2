/**
 * The dashboard: refreshes the server-rendered figures from GET /api/v1/admin/status every
 * ten seconds while the tab is visible, and shows times in the browser's time zone.
 *
 * Test hook: `document.body.dataset.refreshes` counts the finished refreshes.
 */

import { sitePath } from './api.js';
import { request, start } from './shell.js';

/** Time between two refreshes, in milliseconds. */
const REFRESH_MS = 10000;

const KIND_LABELS = {
  movie: 'Movies',
  show: 'Shows',
  episode: 'Episodes',
  album: 'Albums',
  artist: 'Artists',
  game: 'Games',
  custom: 'Other',
};

const CONDITION_LABELS = {
  ok: 'OK',
  pending: 'Waiting for the first refresh',
  stale: 'Stale',
  failing: 'Failing',
  disabled: 'Disabled',
};

const CONDITION_BADGES = {
  ok: 'ok',
  failing: 'failing',
  stale: 'warning',
  pending: 'warning',
};

let timer = null;
let refreshing = false;
let refreshes = 0;

/** Formats a byte count with a binary unit, as the server does. */
function formatBytes(count) {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (count < 1024) {
    return count + ' B';
  }
  let value = count / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return value.toFixed(1) + ' ' + units[unit];
}

/** Formats seconds as the two largest units, as the server does. */
function formatDuration(seconds) {
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (days > 0) {
    return days + ' d ' + hours + ' h';
  }
  if (hours > 0) {
    return hours + ' h ' + minutes + ' min';
  }
  if (minutes > 0) {
    return minutes + ' min ' + rest + ' s';
  }
  return rest + ' s';
}

function formatCache(figures) {
  if (!figures) {
    return 'off';
  }
  const rate = figures.hit_rate === null || figures.hit_rate === undefined
    ? 'no lookups yet'
    : Math.round(figures.hit_rate * 100) + ' % hits';
  return formatBytes(figures.bytes) + ' of ' + formatBytes(figures.max_bytes) + ', ' + rate;
}

/** Returns a `<time>` element showing Unix seconds `unix` in the browser's time zone. */
function timeElement(unix) {
  const element = document.createElement('time');
  element.dataset.unix = String(unix);
  showLocalTime(element);
  return element;
}

function showLocalTime(element) {
  const date = new Date(Number(element.dataset.unix) * 1000);
  element.dateTime = date.toISOString();
  element.textContent = date.toLocaleString();
}

function setField(name, text) {
  const element = document.querySelector('[data-field="' + name + '"]');
  if (element) {
    element.textContent = text;
  }
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined && text !== null) {
    node.textContent = text;
  }
  return node;
}

function renderWarnings(warnings) {
  const section = document.getElementById('warnings');
  const list = document.getElementById('warning-list');
  list.textContent = '';
  warnings.forEach(function addWarning(warning) {
    const item = element('li', 'notice warning', warning.message);
    item.dataset.code = warning.code;
    if (warning.link) {
      const link = element('a', null, warning.link_text || 'Open the page');
      link.href = sitePath(warning.link);
      item.appendChild(document.createTextNode(' '));
      item.appendChild(link);
    }
    list.appendChild(item);
  });
  section.hidden = warnings.length === 0;
}

function renderHealth(health) {
  setField('version', health.version);
  setField('uptime', formatDuration(health.uptime_seconds));
  setField('memory', health.resident_memory_bytes === null
    ? 'not measured'
    : formatBytes(health.resident_memory_bytes));
  setField('memory-cache', formatCache(health.image_memory_cache));
  setField('disk-cache', formatCache(health.image_disk_cache));
}

function renderCatalog(catalog) {
  setField('items', String(catalog.items));
  document.getElementById('demo-badge').hidden = !catalog.demo;
  const list = document.getElementById('kind-list');
  list.textContent = '';
  catalog.by_kind.forEach(function addKind(count) {
    list.appendChild(element('li', null, (KIND_LABELS[count.kind] || count.kind) + ': ' + count.items));
  });
}

function renderScreens(screens) {
  if (!screens) {
    return;
  }
  setField('screens-online', String(screens.online));
  setField('screens-offline', String(screens.offline));
  setField('screens-frozen', String(screens.frozen));
  setField('screens-total', String(screens.total));
}

function sourceRow(source) {
  const row = document.createElement('tr');
  row.dataset.source = source.id;

  const name = element('td', null, source.name + ' ');
  name.appendChild(element('span', 'muted', '(' + source.kind + ')'));
  row.appendChild(name);

  const condition = element('td');
  const badge = CONDITION_BADGES[source.condition] || '';
  condition.appendChild(element('span', ('badge ' + badge).trim(),
    CONDITION_LABELS[source.condition] || source.condition));
  if (source.refreshing) {
    condition.appendChild(document.createTextNode(' '));
    condition.appendChild(element('span', 'muted', 'refreshing'));
  }
  row.appendChild(condition);

  row.appendChild(element('td', null, String(source.items)));
  const lastWorked = element('td');
  if (source.last_success_unix === null || source.last_success_unix === undefined) {
    lastWorked.textContent = 'never';
  } else {
    lastWorked.appendChild(timeElement(source.last_success_unix));
  }
  row.appendChild(lastWorked);
  row.appendChild(element('td', null, source.last_error || ''));
  return row;
}

function renderSources(sources) {
  const rows = document.getElementById('source-rows');
  rows.textContent = '';
  sources.forEach(function addSource(source) {
    rows.appendChild(sourceRow(source));
  });
}

function renderAudit(events) {
  const list = document.getElementById('audit-list');
  list.textContent = '';
  events.forEach(function addEvent(event) {
    const item = document.createElement('li');
    item.appendChild(timeElement(event.at));
    item.appendChild(document.createTextNode(' '));
    item.appendChild(element('strong', null, event.actor));
    item.appendChild(document.createTextNode(' '));
    item.appendChild(element('code', null, event.action));
    if (event.target) {
      item.appendChild(document.createTextNode(' ' + event.target));
    }
    list.appendChild(item);
  });
  document.getElementById('audit-empty').hidden = events.length > 0;
}

function render(report) {
  renderWarnings(report.warnings);
  renderHealth(report.health);
  renderCatalog(report.catalog);
  renderScreens(report.screens);
  renderSources(report.sources);
  renderAudit(report.audit);

  const status = document.getElementById('dashboard-status');
  status.textContent = 'Figures as of ';
  status.appendChild(timeElement(report.generated_at));
  status.appendChild(document.createTextNode('. They refresh every ' + REFRESH_MS / 1000 + ' seconds.'));
}

async function refresh() {
  timer = null;
  if (refreshing) {
    return;
  }
  refreshing = true;
  const error = document.getElementById('dashboard-error');
  try {
    const response = await request('GET', '/api/v1/admin/status');
    render(response.body);
    error.hidden = true;
    error.textContent = '';
  } catch (failure) {
    error.textContent = 'Refreshing the figures failed: ' + failure.message
      + ' The figures shown are from the last refresh; the page tries again in '
      + REFRESH_MS / 1000 + ' seconds.';
    error.hidden = false;
  }
  refreshing = false;
  refreshes += 1;
  document.body.dataset.refreshes = String(refreshes);
  schedule();
}

function schedule() {
  if (timer === null && !document.hidden) {
    timer = setTimeout(refresh, REFRESH_MS);
  }
}

/** Stops polling while the tab is hidden and refreshes at once when it is shown again. */
function onVisibilityChange() {
  if (document.hidden) {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
  } else if (timer === null) {
    refresh();
  }
}

const times = document.querySelectorAll('time[data-unix]');
for (let i = 0; i < times.length; i += 1) {
  showLocalTime(times[i]);
}
document.addEventListener('visibilitychange', onVisibilityChange);
schedule();
start();
