/**
 * The profiles and groups page: lists both, creates them, and edits one at a time: its name,
 * a group's mode, its screens, and its settings overrides in the settings form's partial mode
 * (settings-editor.js), where only overridden settings are sent.
 *
 * Screens are assigned with `PATCH /api/v1/admin/devices/{id}`, one request per screen whose
 * membership changed, after the profile or group itself is saved.
 *
 * Test hooks on `<body>`: `data-profiles` is "loading", "ready", "saving", "saved" or
 * "failed", and `data-editing` is the kind and id being edited, such as "profile-3".
 */

import { RequestError } from './api.js';
import { enableSubmit, markBusy, setFieldError, showError, showStatus } from './form.js';
import { SettingsEditor } from './settings-editor.js';
import { request, start } from './shell.js';

/** API collection and membership field by kind. */
const KINDS = {
  profile: { path: '/api/v1/admin/profiles', list: 'profiles', member: 'profile_id', title: 'profile' },
  group: { path: '/api/v1/admin/groups', list: 'groups', member: 'group_id', title: 'group' },
};

const editorSection = document.getElementById('layer-editor');
const layerForm = document.getElementById('layer-form');
const deleteButton = document.getElementById('layer-delete');

let globalSettings = {};
let devices = [];
const items = { profile: [], group: [] };
let overrides = null;
let presets = [];
/** The item being edited: `{kind, id}`, or null. */
let editing = null;

function setState(state) {
  document.body.dataset.profiles = state;
}

function plural(count, one, many) {
  return count + ' ' + (count === 1 ? one : many);
}

function membersOf(kind, id) {
  return devices.filter(function isMember(device) { return device[KINDS[kind].member] === id; });
}

// Lists.

function renderList(kind) {
  const list = document.getElementById(kind + '-list');
  while (list.firstChild) {
    list.removeChild(list.firstChild);
  }
  items[kind].forEach(function addItem(item) {
    const entry = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'secondary item';
    button.dataset.id = String(item.id);
    const overridden = countSettings(item.overrides);
    button.textContent = item.name;
    const detail = document.createElement('span');
    detail.className = 'hint';
    detail.textContent = plural(overridden, 'setting', 'settings') + ', '
      + plural(membersOf(kind, item.id).length, 'screen', 'screens')
      + (kind === 'group' ? ', ' + item.mode : '');
    button.appendChild(document.createElement('br'));
    button.appendChild(detail);
    button.addEventListener('click', function editItem() { edit(kind, item.id); });
    entry.appendChild(button);
    list.appendChild(entry);
  });
  document.getElementById(kind + '-empty').hidden = items[kind].length > 0;
}

/** Counts the settings an override sets: its leaves, with a list as one setting. */
function countSettings(value) {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return 1;
  }
  return Object.keys(value).reduce(function add(total, key) {
    return total + countSettings(value[key]);
  }, 0);
}

async function reloadLists() {
  const responses = await Promise.all([
    request('GET', KINDS.profile.path),
    request('GET', KINDS.group.path),
    request('GET', '/api/v1/admin/devices'),
  ]);
  items.profile = responses[0].body.profiles || [];
  items.group = responses[1].body.groups || [];
  devices = responses[2].body.devices || [];
  renderList('profile');
  renderList('group');
}

// Creating.

async function create(kind, event) {
  event.preventDefault();
  const form = event.currentTarget;
  const nameId = kind + '-name';
  const status = document.getElementById(kind + '-status');
  const name = document.getElementById(nameId).value.trim();
  if (name === '') {
    setFieldError(nameId, 'Enter a name, such as Lobby screens.');
    document.getElementById(nameId).focus();
    return;
  }
  setFieldError(nameId, '');
  const body = { name: name };
  if (kind === 'group') {
    body.mode = document.getElementById('group-mode').value;
  }
  const notBusy = markBusy(form, 'Creating\u2026');
  status.textContent = 'Creating the ' + KINDS[kind].title + '\u2026';
  try {
    const response = await request('POST', KINDS[kind].path, body);
    document.getElementById(nameId).value = '';
    await reloadLists();
    status.textContent = 'Created the ' + KINDS[kind].title + ' \u201c' + response.body.name + '\u201d.';
    edit(kind, response.body.id);
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    status.textContent = '';
    setFieldError(nameId, 'Creating failed: ' + error.message);
    document.getElementById(nameId).focus();
  } finally {
    notBusy();
  }
}

// Editing.

function itemFor(kind, id) {
  return items[kind].filter(function byId(item) { return item.id === id; })[0] || null;
}

function renderScreens(kind, id) {
  const list = document.getElementById('layer-screen-list');
  while (list.firstChild) {
    list.removeChild(list.firstChild);
  }
  const hint = document.getElementById('layer-screens-hint');
  const member = KINDS[kind].member;
  hint.textContent = devices.length === 0
    ? 'No screens yet: claim one first, then assign it here.'
    : 'Checked screens belong to this ' + KINDS[kind].title + '. A screen belongs to one '
      + KINDS[kind].title + ' at most, so checking one moves it here.';
  devices.forEach(function addScreen(device) {
    const row = document.createElement('div');
    row.className = 'check-row';
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.id = 'screen-' + device.id;
    box.value = device.id;
    box.checked = device[member] === id;
    const label = document.createElement('label');
    label.htmlFor = box.id;
    let text = device.name + (device.location ? ' (' + device.location + ')' : '');
    const other = device[member] !== null && device[member] !== id ? itemFor(kind, device[member]) : null;
    if (other) {
      text += ', now in \u201c' + other.name + '\u201d';
    }
    label.textContent = text;
    row.appendChild(box);
    row.appendChild(label);
    list.appendChild(row);
  });
}

function edit(kind, id) {
  const item = itemFor(kind, id);
  if (!item) {
    showError('That ' + KINDS[kind].title + ' no longer exists. Reload the page.');
    return;
  }
  editing = { kind: kind, id: id };
  document.body.dataset.editing = kind + '-' + id;
  document.getElementById('layer-editor-heading').textContent =
    'Edit ' + KINDS[kind].title + ' \u201c' + item.name + '\u201d';
  document.getElementById('layer-name').value = item.name;
  setFieldError('layer-name', '');
  document.getElementById('layer-mode-field').hidden = kind !== 'group';
  if (kind === 'group') {
    document.getElementById('layer-mode').value = item.mode;
  }
  renderScreens(kind, id);
  overrides.setValues(item.overrides || {}, globalSettings);
  document.getElementById('layer-preset').value = '';
  disarmDelete();
  showStatus('');
  editorSection.hidden = false;
  editorSection.focus();
}

function close() {
  editing = null;
  delete document.body.dataset.editing;
  editorSection.hidden = true;
}

/** Sends a PATCH for each screen whose membership changed. Returns the counts. */
async function assignScreens(kind, id) {
  const member = KINDS[kind].member;
  const boxes = document.querySelectorAll('#layer-screen-list input[type="checkbox"]');
  let added = 0;
  let removed = 0;
  const failures = [];
  for (let i = 0; i < boxes.length; i += 1) {
    const device = devices.filter(function byId(entry) { return entry.id === boxes[i].value; })[0];
    if (!device) {
      continue;
    }
    const wasMember = device[member] === id;
    if (boxes[i].checked === wasMember) {
      continue;
    }
    const change = {};
    change[member] = boxes[i].checked ? id : null;
    try {
      await request('PATCH', '/api/v1/admin/devices/' + encodeURIComponent(device.id), change);
      if (boxes[i].checked) {
        added += 1;
      } else {
        removed += 1;
      }
    } catch (error) {
      if (!(error instanceof RequestError)) {
        throw error;
      }
      failures.push(device.name + ': ' + error.message);
    }
  }
  return { added: added, removed: removed, failures: failures };
}

async function save(event) {
  event.preventDefault();
  if (editing === null) {
    return;
  }
  const kind = editing.kind;
  const id = editing.id;
  const name = document.getElementById('layer-name').value.trim();
  if (name === '') {
    setFieldError('layer-name', 'Enter a name.');
    document.getElementById('layer-name').focus();
    return;
  }
  setFieldError('layer-name', '');
  const collected = overrides.collect();
  if (collected.errors.length > 0) {
    overrides.showErrors(collected.errors);
    showError('Some fields cannot be read. Fix the marked fields and save again.');
    return;
  }
  const body = { name: name, overrides: collected.document };
  if (kind === 'group') {
    body.mode = document.getElementById('layer-mode').value;
  }

  const notBusy = markBusy(layerForm, 'Saving\u2026');
  setState('saving');
  showStatus('Saving the ' + KINDS[kind].title + '\u2026');
  try {
    await request('PATCH', KINDS[kind].path + '/' + id, body);
    overrides.showErrors([]);
    const assigned = await assignScreens(kind, id);
    await reloadLists();
    edit(kind, id);
    const parts = ['Saved with ' + plural(countSettings(collected.document), 'overridden setting',
      'overridden settings') + '.'];
    if (assigned.added > 0 || assigned.removed > 0) {
      parts.push(plural(assigned.added, 'screen', 'screens') + ' added, '
        + plural(assigned.removed, 'screen', 'screens') + ' removed.');
    }
    if (assigned.failures.length > 0) {
      showError(parts.join(' ') + ' Assigning failed for ' + assigned.failures.join('; ')
        + '. Try again.');
      setState('failed');
    } else {
      showStatus(parts.join(' ') + ' Its screens received the new settings.');
      setState('saved');
    }
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    if (error.field === 'name') {
      setFieldError('layer-name', error.message);
    }
    const unmatched = overrides.showErrors(
      error.fields.filter(function notName(field) { return field.field !== 'name'; })
    );
    const extra = unmatched.map(function describe(item) { return item.field + ': ' + item.message; });
    showError('Saving failed: ' + error.message
      + (error.fields.length > 0 ? ' Fix the marked fields and save again.' : ' Try again.')
      + (extra.length > 0 ? ' ' + extra.join(' ') : ''));
    setState('failed');
  } finally {
    notBusy();
  }
}

function disarmDelete() {
  delete deleteButton.dataset.armed;
  deleteButton.textContent = 'Delete';
}

async function remove() {
  if (editing === null) {
    return;
  }
  const kind = editing.kind;
  const item = itemFor(kind, editing.id);
  // The first click only arms the button, so one slip of the finger deletes nothing.
  if (deleteButton.dataset.armed !== 'true') {
    deleteButton.dataset.armed = 'true';
    deleteButton.textContent = 'Delete \u201c' + (item ? item.name : '') + '\u201d: click again';
    showStatus('Click Delete again to delete this ' + KINDS[kind].title
      + '. Its screens keep running with the other settings.');
    return;
  }
  deleteButton.disabled = true;
  showStatus('Deleting\u2026');
  try {
    await request('DELETE', KINDS[kind].path + '/' + editing.id);
    close();
    await reloadLists();
    document.getElementById(kind + '-status').textContent =
      'Deleted the ' + KINDS[kind].title + ' \u201c' + (item ? item.name : '') + '\u201d.';
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    showError('Deleting failed: ' + error.message);
  } finally {
    deleteButton.disabled = false;
    disarmDelete();
  }
}

// Presets.

function fillPresets() {
  const select = document.getElementById('layer-preset');
  presets.forEach(function addPreset(preset) {
    const option = document.createElement('option');
    option.value = preset.id;
    option.textContent = preset.name + ' (' + preset.mode + ')';
    select.appendChild(option);
  });
  select.addEventListener('change', function choosePreset() {
    const preset = presets.filter(function byId(item) { return item.id === select.value; })[0];
    if (!preset || editing === null) {
      return;
    }
    overrides.setValues(preset.settings || {}, globalSettings);
    showStatus('Preset \u201c' + preset.name + '\u201d loaded as the overridden settings. Review '
      + 'them, then save.');
  });
}

// Start.

async function load() {
  setState('loading');
  if (!layerForm) {
    setState('ready');
    return;
  }
  try {
    const responses = await Promise.all([
      request('GET', '/api/v1/admin/settings/schema'),
      request('GET', '/api/v1/admin/settings'),
      request('GET', '/api/v1/admin/presets'),
    ]);
    const schema = responses[0].body;
    globalSettings = responses[1].body.settings;
    presets = responses[2].body.presets || [];
    overrides = new SettingsEditor(document.getElementById('override-fields'), schema, {
      prefix: 'override',
      partial: true,
    });
    await reloadLists();
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    showError('Loading failed: ' + error.message + ' Reload the page to try again.');
    editorSection.hidden = false;
    setState('failed');
    return;
  }

  ['profile', 'group'].forEach(function listen(kind) {
    const form = document.getElementById(kind + '-create');
    form.addEventListener('submit', function submitted(event) { create(kind, event); });
    enableSubmit(form);
  });
  fillPresets();
  layerForm.addEventListener('submit', save);
  document.getElementById('layer-close').addEventListener('click', close);
  deleteButton.addEventListener('click', remove);
  enableSubmit(layerForm);
  setState('ready');
}

load();
start();
