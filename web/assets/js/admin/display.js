/**
 * The display settings page: the settings form, presets, the live preview and the history.
 *
 * The form comes from the settings' JSON Schema (settings-editor.js). Saving sends the whole
 * document to `PUT /api/v1/admin/settings`, which pushes it to the screens. Every edit goes to
 * the preview frame, a display page opened with `?preview=1` that lays the unsaved document
 * over its settings (common/preview.js), and a changed field is checked by
 * `POST /api/v1/admin/settings/preview`, so its error shows before saving.
 *
 * Test hooks on `<body>`: `data-display` is "loading", "ready", "saving", "saved" or "failed";
 * `data-history` is "loading" or "ready"; `data-preview-sent` counts the documents sent to the
 * preview.
 */

import { RequestError } from './api.js';
import { enableSubmit, markBusy, showError, showStatus } from './form.js';
import { SettingsEditor } from './settings-editor.js';
import { request, start } from './shell.js';

/** Pause after the last keystroke before the preview gets the document, in milliseconds. */
const PREVIEW_DELAY_MS = 250;
/** Versions per page of the history. */
const HISTORY_PAGE = 10;
/** Changed settings named in a history row before "and N more". */
const HISTORY_KEYS_SHOWN = 3;

const PREVIEW_READY = 'onesheet-preview-ready';
const PREVIEW_SETTINGS = 'onesheet-preview-settings';

const form = document.getElementById('settings-form');
const fields = document.getElementById('settings-fields');
const discardButton = document.getElementById('settings-discard');
const presetSelect = document.getElementById('preset');
const previewFrame = document.getElementById('preview');
const previewMode = document.getElementById('preview-mode');
const historyRows = document.getElementById('history-rows');
const historyStatus = document.getElementById('history-status');
const historyMore = document.getElementById('history-more');
const detail = document.getElementById('history-detail');

let editor = null;
/** The saved settings and their version, as the server last returned them. */
let saved = { version: 0, settings: null };
let presets = [];
let previewTimer = null;
let previewSent = 0;
/** Version before which the next history page starts, or null when no older page exists. */
let nextBefore = null;

function setState(state) {
  document.body.dataset.display = state;
}

function plural(count, one, many) {
  return count + ' ' + (count === 1 ? one : many);
}

// Preview.

function sendPreview() {
  if (editor === null || !previewFrame.contentWindow) {
    return;
  }
  const collected = editor.collect();
  previewFrame.contentWindow.postMessage(
    { type: PREVIEW_SETTINGS, settings: collected.document },
    window.location.origin
  );
  previewSent += 1;
  document.body.dataset.previewSent = String(previewSent);
}

function listenForPreview() {
  window.addEventListener('message', function takeMessage(event) {
    if (event.origin !== window.location.origin || event.source !== previewFrame.contentWindow) {
      return;
    }
    if (event.data && event.data.type === PREVIEW_READY) {
      sendPreview();
    }
  });
  previewMode.addEventListener('change', function switchMode() {
    const base = document.body.dataset.base || '';
    previewFrame.src = base + '/' + previewMode.value + '?preview=1';
  });
}

// Editing.

function isDirty() {
  if (editor === null || saved.settings === null) {
    return false;
  }
  const collected = editor.collect();
  return collected.errors.length > 0
    || JSON.stringify(collected.document) !== JSON.stringify(saved.settings);
}

function edited() {
  const dirty = isDirty();
  discardButton.disabled = !dirty;
  if (dirty) {
    showStatus('Unsaved changes. The preview shows them; screens get them when you save.');
  }
  clearTimeout(previewTimer);
  previewTimer = setTimeout(sendPreview, PREVIEW_DELAY_MS);
}

/** Checks the document with the server after a field changed, and marks any error. */
async function check() {
  const collected = editor.collect();
  if (collected.errors.length > 0) {
    editor.showErrors(collected.errors);
    return;
  }
  try {
    await request('POST', '/api/v1/admin/settings/preview', collected.document);
    editor.showErrors([]);
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    if (error.fields.length > 0) {
      const focused = document.activeElement;
      editor.showErrors(error.fields);
      // Only saving moves the focus to a marked field, so a check while typing puts it back.
      if (focused && typeof focused.focus === 'function') {
        focused.focus();
      }
    }
  }
}

function discard() {
  editor.setValues(saved.settings);
  discardButton.disabled = true;
  presetSelect.value = '';
  showStatus('Changes discarded: the form shows the saved settings of version ' + saved.version + '.');
  sendPreview();
}

async function save(event) {
  event.preventDefault();
  const collected = editor.collect();
  if (collected.errors.length > 0) {
    editor.showErrors(collected.errors);
    showError('Some fields cannot be read. Fix the marked fields and save again.');
    return;
  }
  const notBusy = markBusy(form, 'Saving\u2026');
  setState('saving');
  showStatus('Saving the settings\u2026');
  try {
    const response = await request('PUT', '/api/v1/admin/settings', collected.document);
    const body = response.body;
    saved = { version: body.version, settings: body.settings };
    editor.setValues(body.settings);
    editor.showErrors([]);
    discardButton.disabled = true;
    presetSelect.value = '';
    showStatus('Saved as version ' + body.version + ': '
      + plural(body.changed.length, 'setting', 'settings') + ' changed, sent to '
      + plural(body.screens_updated, 'screen', 'screens') + ' online.');
    setState('saved');
    loadHistory(null);
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    const unmatched = editor.showErrors(error.fields);
    const extra = unmatched.map(function describe(item) { return item.field + ': ' + item.message; });
    showError('Saving failed: ' + error.message
      + (error.fields.length > 0 ? ' Fix the marked fields and save again.' : ' Try again.')
      + (extra.length > 0 ? ' ' + extra.join(' ') : ''));
    setState('failed');
  } finally {
    notBusy();
  }
}

// Presets.

function fillPresets() {
  presets.forEach(function addPreset(preset) {
    const option = document.createElement('option');
    option.value = preset.id;
    option.textContent = preset.name + ' (' + preset.mode + ')';
    presetSelect.appendChild(option);
  });
  presetSelect.disabled = presets.length === 0;
}

/** Lays `layer` over `target` as the server merges overrides: objects key by key. */
function mergeInto(target, layer) {
  Object.keys(layer).forEach(function mergeKey(key) {
    const value = layer[key];
    if (value && typeof value === 'object' && !Array.isArray(value)
      && target[key] && typeof target[key] === 'object' && !Array.isArray(target[key])) {
      mergeInto(target[key], value);
    } else {
      target[key] = JSON.parse(JSON.stringify(value));
    }
  });
  return target;
}

function choosePreset() {
  const preset = presets.filter(function byId(item) { return item.id === presetSelect.value; })[0];
  if (!preset) {
    return;
  }
  const settings = mergeInto(defaultsFrom(editor.schema), preset.settings || {});
  editor.setValues(settings);
  if (previewMode.value !== preset.mode) {
    previewMode.value = preset.mode;
    previewMode.dispatchEvent(new Event('change'));
  }
  edited();
  showStatus('Preset \u201c' + preset.name + '\u201d loaded into the form. Review it, then save to '
    + 'send it to the screens.');
}

/** Returns the defaults that the schema lists for each top-level section. */
function defaultsFrom(schema) {
  const settings = {};
  Object.keys(schema.properties || {}).forEach(function copyDefault(key) {
    const value = schema.properties[key].default;
    if (value !== undefined) {
      settings[key] = JSON.parse(JSON.stringify(value));
    }
  });
  return settings;
}

// History.

function formatTime(unixSeconds) {
  return new Date(unixSeconds * 1000).toLocaleString();
}

function summary(changed) {
  if (changed.length === 0) {
    return 'No change';
  }
  const shown = changed.slice(0, HISTORY_KEYS_SHOWN).join(', ');
  const more = changed.length - HISTORY_KEYS_SHOWN;
  return more > 0 ? shown + ' and ' + more + ' more' : shown;
}

function historyButton(label, accessibleName, onClick) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'secondary inline';
  button.textContent = label;
  button.setAttribute('aria-label', accessibleName);
  button.addEventListener('click', onClick);
  return button;
}

function addHistoryRow(version) {
  const row = document.createElement('tr');
  row.dataset.version = String(version.version);
  const current = version.version === saved.version;
  const cells = [
    'Version ' + version.version + (current ? ' (current)' : ''),
    formatTime(version.created_at),
    version.created_by,
    summary(version.changed),
  ];
  cells.forEach(function addCell(text) {
    const cell = document.createElement('td');
    cell.textContent = text;
    row.appendChild(cell);
  });
  const actions = document.createElement('td');
  actions.className = 'actions';
  actions.appendChild(historyButton('Changes', 'Show the changes of version ' + version.version,
    function showChanges(event) { showVersion(version.version, event.currentTarget); }));
  if (!current) {
    actions.appendChild(historyButton('Revert', 'Revert to version ' + version.version,
      function revertClicked(event) { revert(version.version, event.currentTarget); }));
  }
  row.appendChild(actions);
  historyRows.appendChild(row);
}

/** Loads a page of the history: the newest with `before` null, else the versions before it. */
async function loadHistory(before) {
  document.body.dataset.history = 'loading';
  historyStatus.textContent = 'Loading the history\u2026';
  historyMore.disabled = true;
  let path = '/api/v1/admin/settings/history?limit=' + HISTORY_PAGE;
  if (before !== null) {
    path += '&before=' + before;
  }
  try {
    const response = await request('GET', path);
    if (before === null) {
      while (historyRows.firstChild) {
        historyRows.removeChild(historyRows.firstChild);
      }
    }
    response.body.versions.forEach(addHistoryRow);
    nextBefore = response.body.next_before;
    historyMore.hidden = nextBefore === null || nextBefore === undefined;
    historyStatus.textContent = historyRows.children.length === 0
      ? 'No saved versions yet: the screens use the built-in defaults.'
      : '';
    document.body.dataset.history = 'ready';
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    historyStatus.textContent = 'Loading the history failed: ' + error.message;
  } finally {
    historyMore.disabled = false;
  }
}

function showValue(value) {
  if (value === null || value === undefined) {
    return 'not set';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

async function showVersion(version, button) {
  button.disabled = true;
  historyStatus.textContent = 'Loading version ' + version + '\u2026';
  try {
    const response = await request('GET', '/api/v1/admin/settings/history/' + version);
    const body = response.body;
    const compared = body.compared_version === 0 ? 'the built-in defaults' : 'version ' + body.compared_version;
    document.getElementById('history-detail-heading').textContent =
      'Version ' + version + ' compared with ' + compared;
    document.getElementById('history-detail-old').textContent = body.compared_version === 0
      ? 'Default'
      : 'Version ' + body.compared_version;
    document.getElementById('history-detail-new').textContent = 'Version ' + version;
    const rows = document.getElementById('history-detail-rows');
    while (rows.firstChild) {
      rows.removeChild(rows.firstChild);
    }
    body.changes.forEach(function addChange(change) {
      const row = document.createElement('tr');
      [change.key, showValue(change.old), showValue(change.new)].forEach(function addCell(text, index) {
        const cell = document.createElement(index === 0 ? 'th' : 'td');
        if (index === 0) {
          cell.scope = 'row';
        }
        cell.textContent = text;
        row.appendChild(cell);
      });
      rows.appendChild(row);
    });
    document.getElementById('history-detail-empty').hidden = body.changes.length > 0;
    detail.hidden = false;
    detail.focus();
    historyStatus.textContent = '';
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    historyStatus.textContent = 'Loading version ' + version + ' failed: ' + error.message;
  } finally {
    button.disabled = false;
  }
}

async function revert(version, button) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  showStatus('Reverting to version ' + version + '\u2026');
  try {
    const response = await request('POST', '/api/v1/admin/settings/history/' + version + '/revert');
    const body = response.body;
    saved = { version: body.version, settings: body.settings };
    editor.setValues(body.settings);
    editor.showErrors([]);
    discardButton.disabled = true;
    sendPreview();
    showStatus('Reverted to version ' + version + ', saved as version ' + body.version + ': '
      + plural(body.changed.length, 'setting', 'settings') + ' changed, sent to '
      + plural(body.screens_updated, 'screen', 'screens') + ' online.');
    detail.hidden = true;
    await loadHistory(null);
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    showError('Reverting to version ' + version + ' failed: ' + error.message);
    button.disabled = false;
  } finally {
    button.removeAttribute('aria-busy');
  }
}

// Start.

async function load() {
  setState('loading');
  listenForPreview();
  try {
    const responses = await Promise.all([
      request('GET', '/api/v1/admin/settings/schema'),
      request('GET', '/api/v1/admin/settings'),
      request('GET', '/api/v1/admin/presets'),
    ]);
    const schema = responses[0].body;
    saved = { version: responses[1].body.version, settings: responses[1].body.settings };
    presets = responses[2].body.presets || [];

    editor = new SettingsEditor(fields, schema, { prefix: 'setting', onChange: edited });
    editor.setValues(saved.settings);
    fields.addEventListener('change', function fieldChanged() { check(); });
    form.addEventListener('submit', save);
    discardButton.addEventListener('click', discard);
    presetSelect.addEventListener('change', choosePreset);
    historyMore.addEventListener('click', function showOlder() { loadHistory(nextBefore); });
    fillPresets();
    enableSubmit(form);
    sendPreview();
    setState('ready');
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    fields.textContent = '';
    showError('Loading the settings failed: ' + error.message + ' Reload the page to try again.');
    setState('failed');
  }
  await loadHistory(null);
}

load();
start();
