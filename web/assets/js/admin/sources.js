/**
 * The sources page: lists the media servers from `GET /api/v1/admin/sources`, and adds, edits,
 * tests, refreshes and deletes them through the same API.
 *
 * The editor starts from the source as the API returns it and changes only the fields it
 * shows, so settings without a field here (per-library filters, now-playing user lists) survive
 * a save. The credential field starts empty: sent empty, the server keeps the stored one.
 *
 * Test hooks on `document.body.dataset`: `sources` becomes "ready" once the list is shown,
 * `refresh` is "running" or "done" for the last refresh started here, and `test` contains the
 * last connection test's outcome, "ok" or the error code.
 */

import { RequestError } from './api.js';
import {
  enableSubmit, markBusy, setFieldError, showError, showStatus,
} from './form.js';
import { request, start } from './shell.js';
import {
  KIND_LABELS, credentialHint, credentialLabel, credentialState, describeTest,
} from './source-test.js';

/** Milliseconds between two list reloads while a source is refreshing. */
const LIST_POLL_MS = 2000;
/** Milliseconds between two status polls while a refresh started here runs. */
const POLL_INTERVAL_MS = 1000;
/** Maximum wait for one refresh, in milliseconds, after which the page stops polling and shows an error. */
const REFRESH_DEADLINE_MS = 10 * 60 * 1000;
/** Polls without any sign of the refresh after which it counts as finished: it ran too fast to see. */
const QUIET_POLLS = 4;

/** API field of an error to the id of the form element that shows it. */
const FIELD_IDS = {
  id: 'name',
  kind: 'kind',
  name: 'name',
  credential: 'credential',
  clear_credential: 'credential',
  settings: 'host',
  'settings.host': 'host',
  'settings.base_path': 'base-path',
  'settings.https': 'https',
  'settings.libraries': 'libraries',
  'settings.refresh_minutes': 'refresh-minutes',
  'settings.weight': 'weight',
  'settings.now_playing.poll_seconds': 'poll-seconds',
  'settings.tls.ca_file': 'ca-file',
  'settings.filter.genres_include': 'genres-include',
  'settings.filter.genres_exclude': 'genres-exclude',
  'settings.filter.min_rating': 'min-rating',
  'settings.filter.year_from': 'year-from',
  'settings.filter.year_to': 'year-to',
  'settings.filter.content_rating_max': 'content-rating-max',
  'settings.filter.added_within_days': 'added-within-days',
};

const form = document.getElementById('source-form');
const editor = document.getElementById('source-editor');
const rows = document.getElementById('sources-rows');
const table = document.getElementById('sources-table');
const dialog = document.getElementById('delete-dialog');

/** Sources as last listed, by id. */
let sources = {};
/** The source in the editor, or null while adding a new one. */
let editing = null;
/** Whether the editor shows the server's libraries; until then a save keeps the saved choice. */
let libraryChoicesLoaded = false;
/** Id of the source that the open delete dialog would delete. */
let deleting = null;
/** Timer of the next list reload while some source is busy, or null. */
let listTimer = null;

function sourcePath(id) {
  return '/api/v1/admin/sources/' + encodeURIComponent(id);
}

function field(id) {
  return document.getElementById(id);
}

/** Creates an element with optional class and text. */
function element(tag, className, text) {
  const created = document.createElement(tag);
  if (className) {
    created.className = className;
  }
  if (text !== undefined) {
    created.textContent = text;
  }
  return created;
}

function formatTime(unix) {
  if (!unix) {
    return 'Never';
  }
  return new Date(unix * 1000).toLocaleString();
}

/** Returns the status badge and detail of a source as the list shows them. */
function describeStatus(source) {
  if (!source.enabled) {
    return { className: 'badge', label: 'Disabled', detail: '' };
  }
  const status = source.status;
  if (!status) {
    return { className: 'badge', label: 'Starting', detail: '' };
  }
  if (status.progress) {
    const total = status.progress.total ? ' of ' + status.progress.total : '';
    return {
      className: 'badge warning',
      label: 'Refreshing',
      detail: status.progress.fetched + total + ' items fetched',
    };
  }
  if (status.state === 'failing') {
    const since = status.last_success_unix
      ? ' Last worked ' + formatTime(status.last_success_unix) + '.'
      : '';
    return { className: 'badge failing', label: 'Failing', detail: (status.last_error || '') + since };
  }
  if (status.state === 'ok') {
    return { className: 'badge ok', label: 'OK', detail: '' };
  }
  return { className: 'badge', label: 'Waiting for the first refresh', detail: '' };
}

function actionButton(label, name, handler) {
  const button = element('button', 'secondary inline', label);
  button.type = 'button';
  button.setAttribute('aria-label', label + ' ' + name);
  button.addEventListener('click', handler);
  return button;
}

/** Creates a table cell whose `data-label` names its column on a phone, where rows stack. */
function labelledCell(label, className, text) {
  const cell = element('td', className, text);
  cell.dataset.label = label;
  return cell;
}

function renderRow(source) {
  const row = element('tr');
  row.dataset.id = source.id;

  const name = element('td');
  name.dataset.label = 'Name';
  name.appendChild(element('strong', '', source.name));
  name.appendChild(element('span', 'hint block', source.id));
  row.appendChild(name);
  row.appendChild(labelledCell('Kind', '', KIND_LABELS[source.kind] || source.kind));

  const state = describeStatus(source);
  const status = labelledCell('Status', 'source-status');
  status.appendChild(element('span', state.className, state.label));
  if (state.detail) {
    status.appendChild(element('span', 'hint block', state.detail));
  }
  if (source.tls_verify_disabled) {
    status.appendChild(element('span', 'badge warning', 'Certificate not checked'));
  }
  row.appendChild(status);

  const items = source.status ? source.status.items : 0;
  row.appendChild(labelledCell('Items', 'source-items', String(items)));
  row.appendChild(labelledCell('Last refresh', '', formatTime(source.status && source.status.last_success_unix)));

  const cell = element('td');
  const actions = element('div', 'row-actions');
  cell.appendChild(actions);
  actions.appendChild(actionButton('Edit', source.name, function edit() { openEditor(source.id); }));
  actions.appendChild(actionButton('Test', source.name, function test(event) {
    testSource(source.id, event.currentTarget);
  }));
  const refresh = actionButton('Refresh now', source.name, function refreshNow(event) {
    refreshSource(source.id, event.currentTarget);
  });
  refresh.disabled = !source.enabled;
  actions.appendChild(refresh);
  actions.appendChild(actionButton('Delete', source.name, function askDelete() { confirmDelete(source.id); }));
  row.appendChild(cell);
  return row;
}

function renderList(list) {
  // Rows are rebuilt, so the focus moves to the same button in the new row.
  const focused = rows.contains(document.activeElement)
    ? document.activeElement.getAttribute('aria-label')
    : null;
  sources = {};
  while (rows.firstChild) {
    rows.removeChild(rows.firstChild);
  }
  list.forEach(function addRow(source) {
    sources[source.id] = source;
    rows.appendChild(renderRow(source));
  });
  field('sources-loading').hidden = true;
  field('sources-empty').hidden = list.length > 0;
  table.hidden = list.length === 0;
  if (focused) {
    const buttons = rows.querySelectorAll('button');
    for (let i = 0; i < buttons.length; i += 1) {
      if (buttons[i].getAttribute('aria-label') === focused) {
        buttons[i].focus();
      }
    }
  }
}

/** True while an enabled source waits for its first refresh or is refreshing. */
function isBusy(source) {
  return source.enabled && (!source.status || source.status.state === 'pending' || Boolean(source.status.progress));
}

async function loadList() {
  const response = await request('GET', '/api/v1/admin/sources');
  const list = response.body.sources || [];
  renderList(list);
  if (listTimer === null && list.some(isBusy)) {
    listTimer = setTimeout(function reloadList() {
      listTimer = null;
      loadList().catch(function reloadFailed(error) {
        showError('Reloading the list failed: ' + error.message);
      });
    }, LIST_POLL_MS);
  }
  return list;
}

/** Runs `action` and shows its failure, prefixed with `task`, the name of what it does. */
async function withErrors(task, action) {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    showError(task + ' failed: ' + error.message);
    return null;
  }
}

// ---- Editor ---------------------------------------------------------------------------------

function setKindTexts(kind) {
  field('credential-label').textContent = credentialLabel(kind);
  field('credential-hint').textContent = credentialHint(kind);
}

function clearFieldErrors() {
  Object.keys(FIELD_IDS).forEach(function clear(key) {
    setFieldError(FIELD_IDS[key], '');
  });
}

function setNumber(id, value) {
  field(id).value = value === null || value === undefined ? '' : String(value);
}

function fillOptions(select, values, selected, emptyLabel) {
  while (select.firstChild) {
    select.removeChild(select.firstChild);
  }
  if (emptyLabel) {
    const none = element('option', '', emptyLabel);
    none.value = '';
    select.appendChild(none);
  }
  const seen = {};
  values.concat(selected).forEach(function add(value) {
    if (!value || seen[value]) {
      return;
    }
    seen[value] = true;
    const option = element('option', '', value);
    option.value = value;
    option.selected = selected.indexOf(value) >= 0;
    select.appendChild(option);
  });
}

function selectedValues(select) {
  const values = [];
  for (let i = 0; i < select.options.length; i += 1) {
    if (select.options[i].selected && select.options[i].value) {
      values.push(select.options[i].value);
    }
  }
  return values;
}

/** Shows the saved library choice until the server's list is loaded. */
function showSavedLibraries(ids) {
  const choices = field('library-choices');
  while (choices.firstChild) {
    choices.removeChild(choices.firstChild);
  }
  libraryChoicesLoaded = false;
  const text = ids.length === 0
    ? 'Reading every library.'
    : 'Reading ' + (ids.length === 1 ? '1 chosen library.' : ids.length + ' chosen libraries.');
  choices.appendChild(element('p', 'hint', text));
}

function showLibraryChoices(libraries, chosen) {
  const choices = field('library-choices');
  while (choices.firstChild) {
    choices.removeChild(choices.firstChild);
  }
  const known = {};
  libraries.forEach(function addChoice(library, index) {
    known[library.id] = true;
    const row = element('div', 'field check');
    const box = element('input');
    box.type = 'checkbox';
    box.id = 'library-' + index;
    box.value = library.id;
    box.checked = chosen.indexOf(library.id) >= 0;
    const label = element('label', '', library.name + ' (' + library.kind + ')');
    label.htmlFor = box.id;
    row.appendChild(box);
    row.appendChild(label);
    choices.appendChild(row);
  });
  const missing = chosen.filter(function unknown(id) { return !known[id]; });
  if (missing.length > 0) {
    choices.appendChild(element('p', 'field-error',
      'The server no longer offers ' + missing.length + ' of the chosen libraries; saving drops them.'));
  }
  if (libraries.length === 0) {
    choices.appendChild(element('p', 'hint', 'The server offers no libraries.'));
  }
  libraryChoicesLoaded = true;
}

async function loadLibraries() {
  if (!editing) {
    return;
  }
  const button = field('load-libraries');
  const id = editing.id;
  button.disabled = true;
  setFieldError('libraries', '');
  showStatus('Asking the server for its libraries\u2026');
  try {
    const response = await request('GET', sourcePath(id) + '/libraries');
    if (!editing || editing.id !== id) {
      return;
    }
    showLibraryChoices(response.body.libraries || [], editing.settings.libraries || []);
    showStatus('Loaded ' + (response.body.libraries || []).length + ' libraries from the server.');
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    setFieldError('libraries', 'Loading the libraries failed: ' + error.message);
    showStatus('');
  } finally {
    button.disabled = false;
  }
}

async function loadFacets() {
  if (!editing) {
    return;
  }
  const id = editing.id;
  try {
    const response = await request('GET', sourcePath(id) + '/facets');
    if (!editing || editing.id !== id) {
      return;
    }
    const filter = editing.settings.filter || {};
    fillOptions(field('genres-include'), response.body.genres || [], filter.genres_include || []);
    fillOptions(field('genres-exclude'), response.body.genres || [], filter.genres_exclude || []);
    const rating = filter.content_rating_max ? [filter.content_rating_max] : [];
    fillOptions(field('content-rating-max'), response.body.content_ratings || [], rating, 'No limit');
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    showError('Loading the genres and ratings failed: ' + error.message);
  }
}

function fillForm(source) {
  const settings = source ? source.settings : {};
  const filter = settings.filter || {};
  const tls = settings.tls || { verify: true };
  const nowPlaying = settings.now_playing || { enabled: true, poll_seconds: 5 };
  const kind = source ? source.kind : 'jellyfin';

  form.reset();
  clearFieldErrors();
  field('kind').value = kind;
  field('name').value = source ? source.name : '';
  field('host').value = settings.host || '';
  field('base-path').value = settings.base_path || '';
  field('https').value = settings.https === undefined || settings.https === null ? '' : String(settings.https);
  field('credential').value = '';
  field('credential-state').textContent = credentialState(kind, Boolean(source && source.credential_set));
  field('clear-credential-field').hidden = !(source && source.credential_set);
  field('enabled').checked = source ? source.enabled : true;
  setKindTexts(kind);

  fillOptions(field('genres-include'), [], filter.genres_include || []);
  fillOptions(field('genres-exclude'), [], filter.genres_exclude || []);
  fillOptions(field('content-rating-max'), [], filter.content_rating_max ? [filter.content_rating_max] : [], 'No limit');
  field('allow-unrated').checked = Boolean(filter.allow_unrated);
  setNumber('min-rating', filter.min_rating);
  setNumber('year-from', filter.year_from);
  setNumber('year-to', filter.year_to);
  setNumber('added-within-days', filter.added_within_days);
  field('require-4k').checked = Boolean(filter.require_4k);
  field('require-hdr').checked = Boolean(filter.require_hdr);

  setNumber('refresh-minutes', source ? settings.refresh_minutes : 30);
  setNumber('weight', source ? settings.weight : 1);
  setNumber('poll-seconds', nowPlaying.poll_seconds);
  field('now-playing').checked = nowPlaying.enabled !== false;
  field('tls-verify').checked = tls.verify !== false;
  field('ca-file').value = tls.ca_file || '';

  showSavedLibraries(settings.libraries || []);
  field('load-libraries').disabled = !source;
  field('test-result').hidden = true;
}

function openEditor(id) {
  editing = id ? sources[id] : null;
  fillForm(editing);
  field('editor-heading').textContent = editing ? 'Edit ' + editing.name : 'Add a source';
  editor.hidden = false;
  editor.focus();
  showStatus(editing ? 'Editing ' + editing.name + '.' : 'Fill in the server\u2019s address and credential.');
  if (editing) {
    loadLibraries();
    loadFacets();
  }
}

function closeEditor() {
  editor.hidden = true;
  editing = null;
  field('add-source').focus();
}

/** Reads a number field: undefined when empty, NaN when not a number. */
function readNumber(id) {
  const text = field(id).value.trim();
  if (text === '') {
    return undefined;
  }
  return Number(text);
}

/** Builds the request body from the form on top of the source's current settings. */
function buildBody() {
  const current = editing ? JSON.parse(JSON.stringify(editing.settings)) : {};
  const settings = current;
  const problems = [];

  function number(id, apply) {
    const value = readNumber(id);
    if (value !== undefined && isNaN(value)) {
      problems.push([id, 'Enter a number, or leave the field empty.']);
      return;
    }
    apply(value);
  }

  settings.host = field('host').value.trim();
  const basePath = field('base-path').value.trim();
  if (basePath) {
    settings.base_path = basePath;
  } else {
    delete settings.base_path;
  }
  const https = field('https').value;
  if (https) {
    settings.https = https === 'true';
  } else {
    delete settings.https;
  }
  if (libraryChoicesLoaded) {
    const boxes = field('library-choices').querySelectorAll('input[type="checkbox"]');
    settings.libraries = [];
    for (let i = 0; i < boxes.length; i += 1) {
      if (boxes[i].checked) {
        settings.libraries.push(boxes[i].value);
      }
    }
  }

  const filter = settings.filter || {};
  filter.genres_include = selectedValues(field('genres-include'));
  filter.genres_exclude = selectedValues(field('genres-exclude'));
  filter.content_rating_max = field('content-rating-max').value || null;
  filter.allow_unrated = field('allow-unrated').checked;
  filter.require_4k = field('require-4k').checked;
  filter.require_hdr = field('require-hdr').checked;
  number('min-rating', function set(value) { filter.min_rating = value === undefined ? null : value; });
  number('year-from', function set(value) { filter.year_from = value === undefined ? null : value; });
  number('year-to', function set(value) { filter.year_to = value === undefined ? null : value; });
  number('added-within-days', function set(value) {
    filter.added_within_days = value === undefined ? null : value;
  });
  settings.filter = filter;

  number('refresh-minutes', function set(value) {
    if (value === undefined) { delete settings.refresh_minutes; } else { settings.refresh_minutes = value; }
  });
  number('weight', function set(value) {
    if (value === undefined) { delete settings.weight; } else { settings.weight = value; }
  });
  const nowPlaying = settings.now_playing || {};
  nowPlaying.enabled = field('now-playing').checked;
  number('poll-seconds', function set(value) {
    if (value === undefined) { delete nowPlaying.poll_seconds; } else { nowPlaying.poll_seconds = value; }
  });
  settings.now_playing = nowPlaying;
  settings.tls = {
    verify: field('tls-verify').checked,
    ca_file: field('ca-file').value.trim() || null,
  };

  const body = {
    kind: field('kind').value,
    name: field('name').value.trim(),
    enabled: field('enabled').checked,
    settings: settings,
  };
  const credential = field('credential').value.trim();
  if (credential) {
    body.credential = credential;
  }
  if (field('clear-credential').checked) {
    body.clear_credential = true;
  }
  if (!body.name) {
    problems.push(['name', 'Enter a name, such as Living room.']);
  }
  if (!settings.host) {
    problems.push(['host', 'Enter the server\u2019s address, such as http://192.168.1.20:8096.']);
  }
  return { body: body, problems: problems };
}

/** Marks the fields that the API named, and returns whether any was found in the form. */
function showFieldErrors(error) {
  const fields = error.fields && error.fields.length > 0
    ? error.fields
    : (error.field ? [{ field: error.field, message: error.message }] : []);
  let first = null;
  fields.forEach(function mark(problem) {
    const id = FIELD_IDS[problem.field];
    if (id) {
      const message = problem.message.charAt(0).toUpperCase() + problem.message.slice(1);
      setFieldError(id, message);
      if (!first) {
        first = id;
      }
    }
  });
  if (first && field(first) && field(first).focus) {
    field(first).focus();
  }
  return first !== null;
}

/** Saves the editor's source and returns it, or null when the save failed. */
async function save() {
  clearFieldErrors();
  const built = buildBody();
  if (built.problems.length > 0) {
    built.problems.forEach(function mark(problem) { setFieldError(problem[0], problem[1]); });
    showError('Check the marked fields: ' + built.problems[0][1]);
    field(built.problems[0][0]).focus();
    return null;
  }
  const adding = editing === null;
  const notBusy = markBusy(form, 'Saving\u2026');
  showStatus('Saving ' + built.body.name + '\u2026');
  try {
    const response = adding
      ? await request('POST', '/api/v1/admin/sources', built.body)
      : await request('PUT', sourcePath(editing.id), built.body);
    const saved = response.body;
    sources[saved.id] = saved;
    editing = saved;
    field('credential').value = '';
    field('clear-credential').checked = false;
    field('credential-state').textContent = credentialState(saved.kind, saved.credential_set);
    field('clear-credential-field').hidden = !saved.credential_set;
    field('editor-heading').textContent = 'Edit ' + saved.name;
    field('load-libraries').disabled = false;
    showStatus((adding ? 'Added ' : 'Saved ') + saved.name + '.');
    await withErrors('Reloading the list', loadList);
    return saved;
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    showFieldErrors(error);
    showError('Saving failed: ' + error.message);
    return null;
  } finally {
    notBusy();
  }
}

async function submitForm(event) {
  event.preventDefault();
  const adding = editing === null;
  const saved = await save();
  if (saved && adding) {
    // A new source can now be tested and its libraries listed.
    await runEditorTest();
    loadLibraries();
    loadFacets();
  }
}

function showTestResult(report, kind) {
  const described = describeTest(report, kind);
  const result = field('test-result');
  field('test-result-text').textContent = described.text;
  result.classList.toggle('ok', described.ok);
  result.classList.toggle('failing', !described.ok);
  result.hidden = false;
  document.body.dataset.test = report.ok ? 'ok' : (report.error ? report.error.code : 'failed');
  return described;
}

async function runEditorTest() {
  let source = editing;
  if (!source) {
    source = await save();
    if (!source) {
      return;
    }
  }
  const button = field('test-source');
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  showStatus('Testing the connection to ' + source.name + '\u2026');
  try {
    const response = await request('POST', sourcePath(source.id) + '/test');
    const described = showTestResult(response.body, source.kind);
    if (described.ok) {
      showStatus('Connection test passed.');
    } else {
      showError('Connection test failed. The result above says why and what to do.');
    }
    field('test-result').focus();
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    showError('The connection test could not run: ' + error.message);
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

// ---- Row actions ----------------------------------------------------------------------------

async function testSource(id, button) {
  const source = sources[id];
  button.disabled = true;
  showStatus('Testing the connection to ' + source.name + '\u2026');
  try {
    const response = await request('POST', sourcePath(id) + '/test');
    const described = describeTest(response.body, source.kind);
    document.body.dataset.test = response.body.ok ? 'ok' : response.body.error.code;
    if (described.ok) {
      showStatus(source.name + ': ' + described.text);
    } else {
      showError(source.name + ': ' + described.text);
    }
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    showError('The connection test of ' + source.name + ' could not run: ' + error.message);
  } finally {
    button.disabled = false;
  }
}

function sleep(milliseconds) {
  return new Promise(function wait(resolve) { setTimeout(resolve, milliseconds); });
}

/** Shows a refresh's progress in the status line. */
function showProgress(source) {
  const progress = source.status && source.status.progress;
  if (!progress) {
    showStatus('Refreshing ' + source.name + '\u2026');
    return;
  }
  const total = progress.total ? ' of ' + progress.total : '';
  showStatus('Refreshing ' + source.name + ': ' + progress.fetched + total + ' items fetched\u2026');
}

/**
 * Starts a refresh and polls the source until it ends. The end shows as the progress going
 * away, or as a new success time or error. A refresh that ends between two polls within the
 * same second leaves neither, so some quiet polls in a row count as the end too.
 */
async function refreshSource(id, button) {
  const before = sources[id];
  const beforeStatus = before.status || {};
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  document.body.dataset.refresh = 'running';
  showStatus('Starting a refresh of ' + before.name + '\u2026');
  try {
    await request('POST', sourcePath(id) + '/refresh');
    const deadline = Date.now() + REFRESH_DEADLINE_MS;
    let seenRunning = false;
    let quiet = 0;
    let current = before;
    while (Date.now() < deadline) {
      await sleep(POLL_INTERVAL_MS);
      current = (await request('GET', sourcePath(id))).body;
      const status = current.status || {};
      if (status.progress) {
        seenRunning = true;
        quiet = 0;
        showProgress(current);
        continue;
      }
      const changed = status.last_success_unix !== beforeStatus.last_success_unix
        || status.last_error !== beforeStatus.last_error
        || status.state !== beforeStatus.state;
      quiet += 1;
      if (seenRunning || changed || quiet >= QUIET_POLLS) {
        break;
      }
      showProgress(current);
    }
    await withErrors('Reloading the list', loadList);
    const status = current.status || {};
    if (status.progress) {
      showError('The refresh of ' + current.name + ' is still running after '
        + REFRESH_DEADLINE_MS / 60000 + ' minutes. Its progress shows in the list.');
    } else if (status.state === 'failing') {
      showError('The refresh of ' + current.name + ' failed: ' + (status.last_error || 'no reason given')
        + '. Test the connection to see why.');
    } else {
      showStatus('Refreshed ' + current.name + ': ' + (status.items || 0) + ' items.');
    }
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    showError('Refreshing ' + before.name + ' failed: ' + error.message);
  } finally {
    document.body.dataset.refresh = 'done';
    button.removeAttribute('aria-busy');
    button.disabled = false;
  }
}

function confirmDelete(id) {
  deleting = id;
  const source = sources[id];
  const items = source.status ? source.status.items : 0;
  field('delete-text').textContent = 'Delete ' + source.name + '? Its ' + items
    + ' items leave the catalog and screens stop showing them. The stored credential is '
    + 'deleted too.';
  dialog.showModal();
  field('delete-cancel').focus();
}

async function deleteConfirmed() {
  const id = deleting;
  const source = sources[id];
  const button = field('delete-confirm');
  button.disabled = true;
  showStatus('Deleting ' + source.name + '\u2026');
  try {
    await request('DELETE', sourcePath(id));
    dialog.close();
    if (editing && editing.id === id) {
      closeEditor();
    }
    await withErrors('Reloading the list', loadList);
    showStatus('Deleted ' + source.name + '.');
    field('add-source').focus();
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    dialog.close();
    showError('Deleting ' + source.name + ' failed: ' + error.message);
  } finally {
    button.disabled = false;
    deleting = null;
  }
}

async function setUp() {
  field('add-source').addEventListener('click', function add() { openEditor(null); });
  field('cancel-edit').addEventListener('click', closeEditor);
  field('kind').addEventListener('change', function kindChanged() { setKindTexts(field('kind').value); });
  field('load-libraries').addEventListener('click', loadLibraries);
  field('test-source').addEventListener('click', runEditorTest);
  field('delete-confirm').addEventListener('click', deleteConfirmed);
  field('delete-cancel').addEventListener('click', function cancel() { dialog.close(); });
  form.addEventListener('submit', submitForm);
  enableSubmit(form);
  field('test-source').disabled = false;
  field('add-source').disabled = false;
  start();

  const loaded = await withErrors('Loading the sources', loadList);
  if (loaded === null) {
    field('sources-loading').textContent = 'The sources could not be loaded. Reload the page to try again.';
  }
  document.body.dataset.sources = 'ready';
}

if (form && rows) {
  setUp();
} else {
  start();
}
