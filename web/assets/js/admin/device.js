/**
 * The page of one screen: loads `GET /api/v1/admin/devices/{id}`, follows the device event
 * stream for this screen, sends commands, saves the name, assignments and overrides with
 * `PATCH`, merges another record into this one, and revokes or deletes after a confirmation.
 *
 * Test hooks: `document.body.dataset.screen` is "loading", then "ready" after each load, and
 * "gone" once the record is deleted. `dataset.live` is "open" while the stream is connected.
 */

import { RequestError, sitePath } from './api.js';
import { enableSubmit, markBusy, setFieldError, showError, showStatus } from './form.js';
import { request, start } from './shell.js';
import {
  STATUS_LABELS, ago, localTime, openFeed, screenStatus, statusBadgeClass,
} from './screen-feed.js';

/** Width of the poster thumbnail that the image route derives, in pixels. */
const THUMBNAIL_WIDTH = 320;

const COMMAND_LABELS = {
  next: 'Next poster',
  previous: 'Previous poster',
  pause: 'Pause',
  resume: 'Resume',
  reload: 'Reload',
  identify: 'Show name on screen',
};

const STATE_LABELS = {
  queued: 'Queued',
  delivered: 'Delivered, waiting for the ack',
  acked: 'Acknowledged',
  failed: 'Failed',
  expired: 'Expired',
};

const root = document.getElementById('screen');
const deviceId = root ? root.dataset.deviceId : null;
const devicePath = deviceId ? '/api/v1/admin/devices/' + encodeURIComponent(deviceId) : null;
const form = document.getElementById('screen-form');
const mergeForm = document.getElementById('merge-form');
const dialog = document.getElementById('confirm');

/** The device as the API last sent it. */
let device = null;
/** Whether the form contains edits that a reload must not overwrite. */
let editing = false;

function setState(state) {
  document.body.dataset.screen = state;
}

function text(value) {
  return value === null || value === undefined || value === '' ? '\u2014' : String(value);
}

function showDevice(row) {
  device = row;
  const status = screenStatus(row);
  const lastStatus = row.last_status || null;

  document.querySelector('main h1').textContent = row.name;
  document.title = row.name + ' \u00b7 Onesheet';

  const badge = document.createElement('span');
  badge.className = statusBadgeClass(status);
  badge.textContent = STATUS_LABELS[status];
  if (lastStatus && lastStatus.paused && status === 'online') {
    badge.textContent += ', paused';
  }
  const statusFact = document.getElementById('fact-status');
  statusFact.textContent = '';
  statusFact.appendChild(badge);
  statusFact.dataset.status = status;

  const seen = document.getElementById('fact-seen');
  seen.textContent = ago(row.last_heard_at);
  seen.title = localTime(row.last_heard_at);
  document.getElementById('fact-mode').textContent = text(lastStatus && lastStatus.mode);
  document.getElementById('fact-transport').textContent = row.transport === 'websocket'
    ? 'WebSocket'
    : row.transport === 'long-poll' ? 'HTTP long-polling' : 'Not connected';
  document.getElementById('fact-address').textContent = text(row.last_address);

  const poster = document.getElementById('poster');
  const caption = document.getElementById('poster-title');
  const itemId = lastStatus && lastStatus.current_item_id;
  if (itemId) {
    const src = sitePath('/img/' + encodeURIComponent(itemId) + '/poster?w=' + THUMBNAIL_WIDTH);
    if (poster.getAttribute('src') !== src) {
      poster.src = src;
    }
    poster.alt = 'Poster of ' + (row.current_title || 'the item on screen');
    poster.hidden = false;
    caption.textContent = row.current_title || 'An item that is no longer in the catalog';
    caption.dataset.itemId = itemId;
  } else {
    poster.hidden = true;
    poster.removeAttribute('src');
    caption.textContent = 'Nothing on screen yet.';
    delete caption.dataset.itemId;
  }

  const inactive = status === 'revoked' || status === 'merged';
  const commandButtons = document.querySelectorAll('#command-buttons button');
  for (let i = 0; i < commandButtons.length; i += 1) {
    commandButtons[i].disabled = inactive;
  }
  document.getElementById('revoke').disabled = inactive;
  document.getElementById('delete').disabled = false;

  if (!editing) {
    fillForm(row);
  }
}

function fillForm(row) {
  form.elements.name.value = row.name;
  form.elements.location.value = row.location || '';
  document.getElementById('profile').value = row.profile_id === null ? '' : String(row.profile_id);
  document.getElementById('group').value = row.group_id === null ? '' : String(row.group_id);
  const overrides = row.overrides || {};
  form.elements.overrides.value = Object.keys(overrides).length === 0
    ? ''
    : JSON.stringify(overrides, null, 2);
}

function showCommands(commands) {
  const body = document.querySelector('#command-history tbody');
  body.textContent = '';
  if (commands.length === 0) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = 5;
    td.textContent = 'No commands yet.';
    tr.appendChild(td);
    body.appendChild(tr);
    return;
  }
  commands.forEach(function addCommand(command) {
    const tr = document.createElement('tr');
    tr.dataset.commandId = String(command.id);
    tr.dataset.state = command.state;
    [
      COMMAND_LABELS[command.command.type] || command.command.type,
      STATE_LABELS[command.state] || command.state,
      localTime(command.created_at),
      command.acked_at ? localTime(command.acked_at) : '\u2014',
      command.error || '\u2014',
    ].forEach(function addCell(value) {
      const td = document.createElement('td');
      td.textContent = value;
      tr.appendChild(td);
    });
    body.appendChild(tr);
  });
}

function showDuplicates(detail) {
  const note = document.getElementById('duplicate-note');
  const duplicates = detail.possible_duplicates || [];
  note.hidden = duplicates.length === 0;
  note.textContent = duplicates.length === 0
    ? ''
    : 'Other records share this screen\u2019s address and browser: ' + duplicates.join(', ')
      + '. If they are this screen paired again, merge them below.';
}

async function loadDetail() {
  setState('loading');
  try {
    const response = await request('GET', devicePath);
    const detail = response.body;
    showDevice(Object.assign({}, detail.device, { current_title: detail.current_title }));
    showCommands(detail.commands || []);
    showDuplicates(detail);
    setState('ready');
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    if (error.status === 404) {
      showError('This screen does not exist (any more). Go back to the screen list.');
      setState('gone');
      return;
    }
    showError('The screen could not be loaded: ' + error.message);
    setState('failed');
  }
}

async function loadChoices(path, key, selectIds) {
  try {
    const response = await request('GET', path);
    selectIds.forEach(function fill(selectId) {
      const select = document.getElementById(selectId);
      (response.body[key] || []).forEach(function addOption(entry) {
        const option = document.createElement('option');
        option.value = String(entry.id);
        option.textContent = entry.name;
        select.appendChild(option);
      });
    });
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    selectIds.forEach(function mark(selectId) {
      setFieldError(selectId, 'The ' + key + ' could not be loaded: ' + error.message
        + ' Reload the page to choose one.');
    });
  }
}

async function loadMergeChoices() {
  try {
    const response = await request('GET', '/api/v1/admin/devices');
    const select = document.getElementById('merge-retired');
    (response.body.devices || []).forEach(function addOption(other) {
      if (other.id === deviceId || other.merged_into) {
        return;
      }
      const option = document.createElement('option');
      option.value = other.id;
      option.textContent = other.name + ' (' + other.id + ')';
      select.appendChild(option);
    });
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    setFieldError('merge-retired', 'The other screens could not be loaded: ' + error.message);
  }
}

async function sendCommand(event) {
  const button = event.currentTarget;
  const type = button.dataset.command;
  const line = document.getElementById('command-status');
  const idle = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  line.textContent = COMMAND_LABELS[type] + ': sending\u2026';
  try {
    const response = await request('POST', devicePath + '/commands', { command: { type: type } });
    const command = response.body.command;
    line.textContent = command.state === 'queued'
      ? COMMAND_LABELS[type] + ': queued. The screen is offline and receives it when it reconnects.'
      : COMMAND_LABELS[type] + ': delivered, waiting for the screen to acknowledge.';
    line.dataset.commandId = String(command.id);
    await loadDetail();
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    line.textContent = '';
    showError(COMMAND_LABELS[type] + ' failed: ' + error.message);
  } finally {
    button.removeAttribute('aria-busy');
    button.textContent = idle;
    button.disabled = false;
  }
}

function onCommandFinished(data) {
  const line = document.getElementById('command-status');
  if (line.dataset.commandId === String(data.command_id)) {
    line.textContent = data.ok
      ? 'The screen acknowledged the command.'
      : 'The command failed: the screen did not acknowledge it in time. Check that it is online.';
  }
  loadDetail();
}

function selectedId(id) {
  const value = document.getElementById(id).value;
  return value === '' ? null : Number(value);
}

async function saveForm(event) {
  event.preventDefault();
  ['name', 'location', 'profile', 'group', 'overrides'].forEach(function clear(id) {
    setFieldError(id, '');
  });
  const name = form.elements.name.value.trim();
  if (!name) {
    setFieldError('name', 'Enter a name for the screen, such as Lobby left.');
    showError('Check the marked fields.');
    form.elements.name.focus();
    return;
  }
  let overrides = null;
  const overridesText = form.elements.overrides.value.trim();
  if (overridesText) {
    try {
      overrides = JSON.parse(overridesText);
    } catch (error) {
      setFieldError('overrides', 'This is not valid JSON (' + error.message + '). Write an object '
        + 'such as {"screensaver": {"interval_seconds": 20}}, or leave the field empty.');
      showError('Check the marked fields.');
      form.elements.overrides.focus();
      return;
    }
    if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) {
      setFieldError('overrides', 'Write a JSON object in braces, or leave the field empty.');
      showError('Check the marked fields.');
      form.elements.overrides.focus();
      return;
    }
  }
  const patch = {
    name: name,
    location: form.elements.location.value.trim() || null,
    profile_id: selectedId('profile'),
    group_id: selectedId('group'),
    overrides: overrides,
  };

  const notBusy = markBusy(form, 'Saving\u2026');
  showStatus('Saving\u2026');
  try {
    const response = await request('PATCH', devicePath, patch);
    editing = false;
    showDevice(Object.assign({}, response.body, { current_title: device ? device.current_title : null }));
    showStatus('Saved. A connected screen uses the new settings at once.');
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    markServerFields(error);
    showError('Saving failed: ' + error.message);
  } finally {
    notBusy();
  }
}

/** Marks the fields that the server named in a rejection. Override paths go to the editor. */
function markServerFields(error) {
  const named = error.fields.slice();
  if (error.field && named.length === 0) {
    named.push({ field: error.field, message: error.message });
  }
  named.forEach(function markField(entry) {
    const id = entry.field.replace(/_id$/, '');
    if (document.getElementById(id + '-error')) {
      setFieldError(id, entry.message || error.message);
    } else {
      setFieldError('overrides', entry.field + ': ' + (entry.message || error.message));
    }
  });
}

/** Shows `question` in the confirmation dialog and resolves to whether it was confirmed. */
function confirmAction(question, confirmLabel) {
  document.getElementById('confirm-text').textContent = question;
  document.getElementById('confirm-yes').textContent = confirmLabel;
  return new Promise(function ask(resolve) {
    dialog.addEventListener('close', function onClose() {
      resolve(dialog.returnValue === 'confirm');
    }, { once: true });
    dialog.returnValue = '';
    dialog.showModal();
  });
}

async function merge(event) {
  event.preventDefault();
  setFieldError('merge-retired', '');
  const retired = document.getElementById('merge-retired').value;
  if (!retired) {
    setFieldError('merge-retired', 'Choose the record to retire.');
    showError('Check the marked fields.');
    return;
  }
  const label = document.getElementById('merge-retired').selectedOptions[0].textContent;
  const confirmed = await confirmAction('Merge ' + label + ' into this screen? The other record '
    + 'can no longer connect, and this cannot be undone.', 'Merge');
  if (!confirmed) {
    showStatus('Nothing was merged.');
    return;
  }
  const notBusy = markBusy(mergeForm, 'Merging\u2026');
  showStatus('Merging\u2026');
  try {
    await request('POST', '/api/v1/admin/devices/merge', { survivor: deviceId, retired: retired });
    const select = document.getElementById('merge-retired');
    select.remove(select.selectedIndex);
    showStatus(label + ' is merged into this screen.');
    await loadDetail();
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    showError('Merging failed: ' + error.message);
  } finally {
    notBusy();
  }
}

async function revoke(event) {
  const button = event.currentTarget;
  const confirmed = await confirmAction('Revoke ' + (device ? device.name : deviceId) + '? It '
    + 'disconnects at once and must be paired again to show posters.', 'Revoke');
  if (!confirmed) {
    showStatus('Nothing was revoked.');
    return;
  }
  button.disabled = true;
  showStatus('Revoking\u2026');
  try {
    await request('POST', devicePath + '/revoke', null);
    showStatus('Revoked. The screen shows a pairing code again.');
    await loadDetail();
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    button.disabled = false;
    showError('Revoking failed: ' + error.message);
  }
}

async function remove(event) {
  const button = event.currentTarget;
  const confirmed = await confirmAction('Delete ' + (device ? device.name : deviceId) + ' and its '
    + 'command history? This cannot be undone.', 'Delete');
  if (!confirmed) {
    showStatus('Nothing was deleted.');
    return;
  }
  button.disabled = true;
  showStatus('Deleting\u2026');
  try {
    await request('DELETE', devicePath, null);
    showGone();
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    button.disabled = false;
    showError('Deleting failed: ' + error.message);
  }
}

function showGone() {
  const buttons = root.querySelectorAll('button');
  for (let i = 0; i < buttons.length; i += 1) {
    buttons[i].disabled = true;
  }
  showStatus('The screen is deleted. Go back to the screen list.');
  setState('gone');
}

function setUp() {
  if (!root) {
    start();
    return;
  }
  const commandButtons = document.querySelectorAll('#command-buttons button');
  for (let i = 0; i < commandButtons.length; i += 1) {
    commandButtons[i].addEventListener('click', sendCommand);
  }
  form.addEventListener('submit', saveForm);
  form.addEventListener('input', function onEdit() {
    editing = true;
  });
  mergeForm.addEventListener('submit', merge);
  document.getElementById('revoke').addEventListener('click', revoke);
  document.getElementById('delete').addEventListener('click', remove);

  setState('loading');
  Promise.all([
    loadChoices('/api/v1/admin/profiles', 'profiles', ['profile']),
    loadChoices('/api/v1/admin/groups', 'groups', ['group']),
    loadMergeChoices(),
  ]).then(function ready() {
    enableSubmit(form);
    enableSubmit(mergeForm);
    // Loads at once too, so the page fills even when the stream cannot open.
    loadDetail();
    const liveState = document.getElementById('live-state');
    openFeed(deviceId, {
      opened: loadDetail,
      device: function onDevice(row) {
        showDevice(row);
      },
      removed: showGone,
      command: onCommandFinished,
      resync: loadDetail,
      state: function onState(message, open) {
        if (liveState) {
          liveState.textContent = message;
        }
        document.body.dataset.live = open ? 'open' : 'closed';
      },
    });
  });
  start();
}

setUp();
