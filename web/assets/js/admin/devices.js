/**
 * The screens table: loads `GET /api/v1/admin/devices`, keeps each row current from the device
 * event stream, filters rows in the browser, and runs bulk actions on the selected rows through
 * the commands, update and revoke routes, counting the screens that acknowledged.
 *
 * Test hooks: `document.body.dataset.screens` is "loading", then "ready" after each load of the
 * list, and `dataset.live` is "open" while the stream is connected. Each row is
 * `tr[data-device-id]` with `data-status`.
 */

import { RequestError, sitePath } from './api.js';
import { showError, showStatus } from './form.js';
import { request, start } from './shell.js';
import {
  STATUS_LABELS, ago, localTime, openFeed, screenStatus, statusBadgeClass,
} from './screen-feed.js';

/** Maximum devices of one command request, as the API accepts. */
const COMMAND_BATCH = 800;

/** Time between refreshes of the "last seen" cells, in milliseconds. */
const CLOCK_MS = 15000;

/**
 * Time between reloads of the whole list, in milliseconds. A screen that polls over HTTP turns
 * offline by staying silent, which sends no event.
 */
const RELOAD_MS = 60000;

/** Time to keep counting acknowledgements of a bulk command, in milliseconds. */
const ACK_WATCH_MS = 60000;

const COMMAND_LABELS = {
  next: 'Next poster',
  reload: 'Reload',
  pause: 'Pause',
  resume: 'Resume',
};

const table = document.getElementById('screens');
const body = table.querySelector('tbody');
const selectAll = document.getElementById('select-all');
const empty = document.getElementById('screens-empty');
const dialog = document.getElementById('confirm');

/** Devices by id, as the API last sent them. */
const devices = new Map();
/** Table rows by device id. */
const rows = new Map();
/** Ids of the selected devices. */
const selected = new Set();
const groups = new Map();
const profiles = new Map();

/** The bulk command whose acknowledgements are being counted, or null. */
let watch = null;

function setState(state) {
  document.body.dataset.screens = state;
}

function text(value) {
  return value === null || value === undefined || value === '' ? '\u2014' : String(value);
}

function cell(label) {
  const td = document.createElement('td');
  td.dataset.label = label;
  return td;
}

function createRow(id) {
  const tr = document.createElement('tr');
  tr.dataset.deviceId = id;

  const choose = cell('Select');
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.className = 'row-select';
  box.addEventListener('change', function onSelect() {
    if (box.checked) {
      selected.add(id);
    } else {
      selected.delete(id);
    }
    updateSelection();
  });
  choose.appendChild(box);
  tr.appendChild(choose);

  const name = cell('Name');
  const link = document.createElement('a');
  link.href = sitePath('/admin/devices/' + encodeURIComponent(id));
  name.appendChild(link);
  tr.appendChild(name);

  ['Location', 'Mode', 'Status', 'Last seen', 'On screen', 'Profile', 'Group', 'Address']
    .forEach(function addCell(label) {
      tr.appendChild(cell(label));
    });
  return tr;
}

function fillRow(tr, device) {
  const cells = tr.children;
  const status = screenStatus(device);
  const lastStatus = device.last_status || null;
  tr.dataset.status = status;

  const box = cells[0].firstChild;
  box.checked = selected.has(device.id);
  box.setAttribute('aria-label', 'Select ' + device.name);
  cells[1].firstChild.textContent = device.name;
  cells[2].textContent = text(device.location);
  cells[3].textContent = text(lastStatus && lastStatus.mode);

  const badge = document.createElement('span');
  badge.className = statusBadgeClass(status);
  badge.textContent = STATUS_LABELS[status];
  if (lastStatus && lastStatus.paused && status === 'online') {
    badge.textContent += ', paused';
  }
  cells[4].textContent = '';
  cells[4].appendChild(badge);

  cells[5].textContent = ago(device.last_heard_at);
  cells[5].title = localTime(device.last_heard_at);
  cells[6].textContent = text(device.current_title);
  cells[7].textContent = text(device.profile_id === null ? null : nameOf(profiles, device.profile_id));
  cells[8].textContent = text(device.group_id === null ? null : nameOf(groups, device.group_id));
  cells[9].textContent = text(device.last_address);
}

function nameOf(map, id) {
  return map.has(id) ? map.get(id) : '#' + id;
}

/** Returns whether `device` passes the filters above the table. */
function matches(device) {
  const query = document.getElementById('filter-text').value.trim().toLowerCase();
  const status = document.getElementById('filter-status').value;
  const group = document.getElementById('filter-group').value;
  const profile = document.getElementById('filter-profile').value;
  if (status) {
    const actual = screenStatus(device);
    if (actual !== status) {
      return false;
    }
  }
  if (group && String(device.group_id) !== group) {
    return false;
  }
  if (profile && String(device.profile_id) !== profile) {
    return false;
  }
  if (query) {
    const haystack = [device.name, device.location, device.last_address, device.id]
      .filter(Boolean).join(' ').toLowerCase();
    if (haystack.indexOf(query) < 0) {
      return false;
    }
  }
  return true;
}

function applyFilters() {
  let visibleCount = 0;
  rows.forEach(function filterRow(tr, id) {
    const visible = matches(devices.get(id));
    tr.hidden = !visible;
    if (visible) {
      visibleCount += 1;
    } else if (selected.has(id)) {
      // A hidden row cannot be seen, so it must not be acted on by mistake.
      selected.delete(id);
      tr.children[0].firstChild.checked = false;
    }
  });
  if (devices.size === 0) {
    empty.textContent = 'No screen is paired yet. Open the display page on a screen, then claim '
      + 'the code it shows.';
    empty.hidden = false;
  } else if (visibleCount === 0) {
    empty.textContent = 'No screen matches the filters.';
    empty.hidden = false;
  } else {
    empty.hidden = true;
  }
  updateSelection();
}

/** Puts the rows in name order. Moving rows is left to loads and renames, so focus stays. */
function sortRows() {
  const ordered = Array.from(devices.values()).sort(function byName(a, b) {
    return a.name.localeCompare(b.name) || a.id.localeCompare(b.id);
  });
  ordered.forEach(function place(device) {
    body.appendChild(rows.get(device.id));
  });
}

function upsert(device) {
  if (device.merged_into) {
    // The list leaves merged records out, so the table does too.
    if (devices.has(device.id)) {
      remove(device.id);
    }
    return;
  }
  const previous = devices.get(device.id);
  devices.set(device.id, device);
  let tr = rows.get(device.id);
  const added = !tr;
  if (added) {
    tr = createRow(device.id);
    rows.set(device.id, tr);
  }
  fillRow(tr, device);
  if (added || previous.name !== device.name) {
    sortRows();
  }
}

function remove(id) {
  const tr = rows.get(id);
  if (tr) {
    tr.remove();
  }
  rows.delete(id);
  devices.delete(id);
  selected.delete(id);
  applyFilters();
}

async function loadList() {
  setState('loading');
  try {
    const response = await request('GET', '/api/v1/admin/devices');
    const listed = response.body.devices || [];
    const seen = new Set();
    listed.forEach(function addDevice(device) {
      seen.add(device.id);
      upsert(device);
    });
    Array.from(devices.keys()).forEach(function dropGone(id) {
      if (!seen.has(id)) {
        remove(id);
      }
    });
    applyFilters();
    setState('ready');
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    showError('The screens could not be loaded: ' + error.message);
    setState('failed');
  }
}

/** Fills the filter and bulk selects with groups or profiles, keeping each current choice. */
async function loadChoices(path, key, map, selectIds) {
  try {
    const response = await request('GET', path);
    map.clear();
    (response.body[key] || []).forEach(function addEntry(entry) {
      map.set(entry.id, entry.name);
    });
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    showError('The ' + key + ' could not be loaded: ' + error.message
      + ' Filtering and assigning by ' + key + ' are unavailable until the page is reloaded.');
    return;
  }
  selectIds.forEach(function fill(selectId) {
    const select = document.getElementById(selectId);
    const current = select.value;
    while (select.options.length > 1) {
      select.remove(1);
    }
    map.forEach(function addOption(name, id) {
      const option = document.createElement('option');
      option.value = String(id);
      option.textContent = name;
      select.appendChild(option);
    });
    select.value = current;
  });
}

function visibleSelection() {
  return Array.from(selected).filter(function isShown(id) {
    return rows.has(id) && !rows.get(id).hidden;
  });
}

function updateSelection() {
  const count = visibleSelection().length;
  document.getElementById('bulk-count').textContent = count === 0
    ? 'none'
    : count + (count === 1 ? ' screen' : ' screens');
  const buttons = document.querySelectorAll('#bulk button');
  for (let i = 0; i < buttons.length; i += 1) {
    buttons[i].disabled = count === 0;
  }
  let visibleCount = 0;
  rows.forEach(function countShown(tr) {
    if (!tr.hidden) {
      visibleCount += 1;
    }
  });
  selectAll.checked = visibleCount > 0 && count === visibleCount;
  selectAll.indeterminate = count > 0 && count < visibleCount;
}

function toggleAll() {
  rows.forEach(function toggle(tr, id) {
    if (tr.hidden) {
      return;
    }
    tr.children[0].firstChild.checked = selectAll.checked;
    if (selectAll.checked) {
      selected.add(id);
    } else {
      selected.delete(id);
    }
  });
  updateSelection();
}

/** Marks `button` busy until the returned function is called. */
function busy(button, label) {
  const idle = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.textContent = label;
  return function notBusy() {
    button.removeAttribute('aria-busy');
    button.textContent = idle;
    updateSelection();
  };
}

function reportWatch() {
  if (!watch) {
    return;
  }
  const waiting = watch.queued - watch.acked - watch.failed;
  let message = watch.label + ': queued for ' + watch.queued + ' of ' + watch.targets
    + (watch.targets === 1 ? ' screen' : ' screens') + ', ' + watch.acked + ' acknowledged';
  if (watch.failed > 0) {
    message += ', ' + watch.failed + ' failed';
  }
  if (waiting > 0) {
    message += ', ' + waiting + ' waiting (offline screens receive it when they reconnect)';
  }
  message += '.';
  if (watch.errors.length > 0) {
    message += ' Not queued: ' + watch.errors.join('; ') + '.';
  }
  document.body.dataset.acked = String(watch.acked);
  showStatus(message);
}

async function sendCommand(event) {
  const button = event.currentTarget;
  const type = button.dataset.command;
  const ids = visibleSelection();
  const notBusy = busy(button, 'Sending\u2026');
  const next = {
    label: COMMAND_LABELS[type],
    targets: ids.length,
    queued: 0,
    acked: 0,
    failed: 0,
    pending: new Set(),
    errors: [],
  };
  watch = next;
  showStatus(next.label + ': sending to ' + ids.length + ' screens\u2026');
  try {
    for (let offset = 0; offset < ids.length; offset += COMMAND_BATCH) {
      const batch = ids.slice(offset, offset + COMMAND_BATCH);
      const response = await request('POST', '/api/v1/admin/devices/commands', {
        device_ids: batch,
        command: { type: type },
      });
      (response.body.results || []).forEach(function count(result) {
        if (result.command) {
          next.queued += 1;
          if (result.command.state === 'acked') {
            next.acked += 1;
          } else if (result.command.state === 'failed' || result.command.state === 'expired') {
            next.failed += 1;
          } else {
            next.pending.add(result.command.id);
          }
        } else {
          const name = devices.has(result.device_id) ? devices.get(result.device_id).name : result.device_id;
          next.errors.push(name + ': ' + (result.error || 'rejected'));
        }
      });
    }
    reportWatch();
    setTimeout(function stopWatching() {
      if (watch === next) {
        watch = null;
      }
    }, ACK_WATCH_MS);
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    watch = null;
    showError(COMMAND_LABELS[type] + ' failed: ' + error.message);
  } finally {
    notBusy();
  }
}

function onCommandFinished(data) {
  if (!watch || !watch.pending.has(data.command_id)) {
    return;
  }
  watch.pending.delete(data.command_id);
  if (data.ok) {
    watch.acked += 1;
  } else {
    watch.failed += 1;
  }
  reportWatch();
}

/**
 * Runs `action(id)` for each selected screen one after the other, with progress, and reports
 * how many succeeded and why the others failed.
 */
async function eachSelected(button, verb, action) {
  const ids = visibleSelection();
  const notBusy = busy(button, verb + '\u2026');
  const failures = [];
  let done = 0;
  for (let i = 0; i < ids.length; i += 1) {
    showStatus(verb + ' ' + (i + 1) + ' of ' + ids.length + '\u2026');
    try {
      await action(ids[i]);
      done += 1;
    } catch (error) {
      if (!(error instanceof RequestError)) {
        notBusy();
        throw error;
      }
      const name = devices.has(ids[i]) ? devices.get(ids[i]).name : ids[i];
      failures.push(name + ': ' + error.message);
    }
  }
  notBusy();
  const summary = verb + ': done for ' + done + ' of ' + ids.length + ' screens.';
  if (failures.length > 0) {
    showError(summary + ' Failed: ' + failures.join(' ') + ' Fix the cause and try again.');
  } else {
    showStatus(summary);
  }
}

function assign(field, selectId, event) {
  const value = document.getElementById(selectId).value;
  const patch = {};
  patch[field] = value === '' ? null : Number(value);
  return eachSelected(event.currentTarget, 'Assigning', async function update(id) {
    const response = await request('PATCH', '/api/v1/admin/devices/' + encodeURIComponent(id), patch);
    upsert(Object.assign({}, devices.get(id), response.body));
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

async function revokeSelected(event) {
  const button = event.currentTarget;
  const count = visibleSelection().length;
  const confirmed = await confirmAction('Revoke ' + count + (count === 1 ? ' screen' : ' screens')
    + '? They disconnect at once and must be paired again to show posters.', 'Revoke');
  if (!confirmed) {
    showStatus('Nothing was revoked.');
    return;
  }
  await eachSelected(button, 'Revoking', function revoke(id) {
    return request('POST', '/api/v1/admin/devices/' + encodeURIComponent(id) + '/revoke', null);
  });
}

function refreshClock() {
  devices.forEach(function refresh(device, id) {
    const seen = rows.get(id).children[5];
    seen.textContent = ago(device.last_heard_at);
  });
}

function setUp() {
  ['filter-text', 'filter-status', 'filter-group', 'filter-profile'].forEach(function listen(id) {
    document.getElementById(id).addEventListener('input', applyFilters);
    document.getElementById(id).addEventListener('change', applyFilters);
  });
  document.getElementById('screen-filters').addEventListener('submit', function stay(event) {
    event.preventDefault();
  });
  selectAll.addEventListener('change', toggleAll);
  const commandButtons = document.querySelectorAll('#bulk button[data-command]');
  for (let i = 0; i < commandButtons.length; i += 1) {
    commandButtons[i].addEventListener('click', sendCommand);
  }
  document.getElementById('bulk-assign-group').addEventListener('click', function onGroup(event) {
    assign('group_id', 'bulk-group', event);
  });
  document.getElementById('bulk-assign-profile').addEventListener('click', function onProfile(event) {
    assign('profile_id', 'bulk-profile', event);
  });
  document.getElementById('bulk-revoke').addEventListener('click', revokeSelected);

  loadChoices('/api/v1/admin/groups', 'groups', groups, ['filter-group', 'bulk-group'])
    .then(function refillGroups() { devices.forEach(upsert); });
  loadChoices('/api/v1/admin/profiles', 'profiles', profiles, ['filter-profile', 'bulk-profile'])
    .then(function refillProfiles() { devices.forEach(upsert); });

  const liveState = document.getElementById('live-state');
  openFeed(null, {
    opened: loadList,
    device: function onDevice(row) {
      upsert(row);
      applyFilters();
    },
    removed: remove,
    command: onCommandFinished,
    resync: loadList,
    state: function onState(message, open) {
      liveState.textContent = message;
      document.body.dataset.live = open ? 'open' : 'closed';
    },
  });
  // Loads at once too, so the table fills even when the stream cannot open.
  loadList();
  setInterval(refreshClock, CLOCK_MS);
  setInterval(loadList, RELOAD_MS);
  start();
}

setUp();
