/**
 * The live server log: reads GET /api/v1/admin/logs/stream with an EventSource and appends
 * each line, keeping at most the number of lines that the form's `data-max-lines` gives.
 *
 * The browser reconnects a broken stream by itself and sends the id of the last line it
 * received, so the server fills the gap. While the view is paused, new lines wait in memory,
 * within the same bound, and appear on resume.
 *
 * Test hook: `document.body.dataset.logs` is "connecting", "live", "paused" or
 * "reconnecting".
 */

import { sitePath } from './api.js';
import { request, start } from './shell.js';

const controls = document.getElementById('log-controls');
const levelField = document.getElementById('log-level');
const pauseButton = document.getElementById('log-pause');
const clearButton = document.getElementById('log-clear');
const downloadLink = document.getElementById('log-download');
const view = document.getElementById('log-view');
const stateLine = document.getElementById('log-state');
const errorLine = document.getElementById('form-error');
const maxLines = parseInt(controls.dataset.maxLines, 10) || 1000;

/** Wait before opening a new stream after the browser gave up on one, in milliseconds. */
const RETRY_MS = 5000;

let source = null;
let paused = false;
/** Lines received while paused, oldest first. */
let waiting = [];
/** Lines dropped from `waiting` because it was full. */
let droppedWhilePaused = 0;
let everOpened = false;
let retryTimer = null;

function setState(name, text) {
  document.body.dataset.logs = name;
  stateLine.textContent = text;
}

function showError(text) {
  errorLine.textContent = text;
  errorLine.hidden = !text;
}

function clockTime() {
  return new Date().toLocaleTimeString();
}

/** True when the view is scrolled to its end, so new lines should keep it there. */
function atEnd() {
  return view.scrollHeight - view.scrollTop - view.clientHeight < 40;
}

function trimView() {
  while (view.childNodes.length > maxLines) {
    view.removeChild(view.firstChild);
  }
}

function appendNode(node) {
  const follow = atEnd();
  view.appendChild(node);
  trimView();
  if (follow) {
    view.scrollTop = view.scrollHeight;
  }
}

function lineNode(line) {
  const node = document.createElement('div');
  node.className = 'log-line level-' + line.level;
  node.dataset.seq = String(line.seq);
  node.textContent = line.text;
  return node;
}

function markerNode(text) {
  const node = document.createElement('div');
  node.className = 'log-line log-marker';
  node.textContent = text;
  return node;
}

function skippedText(count) {
  return count + (count === 1 ? ' line' : ' lines')
    + ' skipped because this page could not keep up';
}

function receive(node) {
  if (paused) {
    waiting.push(node);
    if (waiting.length > maxLines) {
      waiting.shift();
      droppedWhilePaused += 1;
    }
    setState('paused', 'Paused: ' + waiting.length + ' new '
      + (waiting.length === 1 ? 'line waits.' : 'lines wait.'));
    return;
  }
  appendNode(node);
}

function onLine(event) {
  let line;
  try {
    line = JSON.parse(event.data);
  } catch (error) {
    return;
  }
  receive(lineNode(line));
}

function onSkipped(event) {
  receive(markerNode(skippedText(parseInt(event.data, 10) || 0)));
}

function onOpen() {
  showError('');
  if (paused) {
    setState('paused', 'Paused. New lines wait until you resume.');
  } else if (everOpened) {
    setState('live', 'Live again: reconnected at ' + clockTime() + '.');
  } else {
    setState('live', 'Live: new lines appear as the server writes them.');
  }
  everOpened = true;
}

/**
 * Handles a broken stream. While the EventSource reconnects by itself, the page shows that it
 * is reconnecting. Once the EventSource has given up after an error response, the page checks
 * the session, which opens the sign-in page when it ended, and opens a new stream a little
 * later.
 */
function onError() {
  if (source && source.readyState === EventSource.CONNECTING) {
    setState('reconnecting', 'Connection to the server lost at ' + clockTime()
      + '. Reconnecting\u2026');
    return;
  }
  closeStream();
  setState('reconnecting', 'The log stream stopped. Trying again in '
    + RETRY_MS / 1000 + ' seconds\u2026');
  request('GET', '/api/v1/auth/session').then(function sessionAlive() {
    retryTimer = setTimeout(openStream, RETRY_MS);
  }, function sessionCheckFailed(failure) {
    showError('The server log cannot be read: ' + failure.message);
    retryTimer = setTimeout(openStream, RETRY_MS);
  });
}

function closeStream() {
  if (source) {
    source.close();
    source = null;
  }
  if (retryTimer !== null) {
    clearTimeout(retryTimer);
    retryTimer = null;
  }
}

function levelQuery() {
  return '?level=' + encodeURIComponent(levelField.value);
}

function openStream() {
  closeStream();
  retryTimer = null;
  setState(everOpened ? 'reconnecting' : 'connecting', 'Connecting\u2026');
  source = new EventSource(sitePath('/api/v1/admin/logs/stream' + levelQuery()));
  source.addEventListener('line', onLine);
  source.addEventListener('skipped', onSkipped);
  source.addEventListener('open', onOpen);
  source.addEventListener('error', onError);
}

function flushWaiting() {
  if (droppedWhilePaused > 0) {
    appendNode(markerNode(droppedWhilePaused + (droppedWhilePaused === 1 ? ' line' : ' lines')
      + ' dropped while paused, because at most ' + maxLines + ' lines wait'));
  }
  waiting.forEach(appendNode);
  waiting = [];
  droppedWhilePaused = 0;
}

function togglePause() {
  paused = !paused;
  pauseButton.setAttribute('aria-pressed', paused ? 'true' : 'false');
  pauseButton.textContent = paused ? 'Resume' : 'Pause';
  if (paused) {
    setState('paused', 'Paused. New lines wait until you resume.');
    return;
  }
  flushWaiting();
  view.scrollTop = view.scrollHeight;
  if (source && source.readyState === EventSource.OPEN) {
    setState('live', 'Live: new lines appear as the server writes them.');
  } else {
    setState('reconnecting', 'Resumed; waiting for the connection\u2026');
  }
}

function changeLevel() {
  view.textContent = '';
  waiting = [];
  droppedWhilePaused = 0;
  downloadLink.href = sitePath('/api/v1/admin/logs/download' + levelQuery());
  everOpened = false;
  openStream();
}

function clearView() {
  view.textContent = '';
  waiting = [];
  droppedWhilePaused = 0;
  if (paused) {
    setState('paused', 'Paused. The view is cleared; new lines wait until you resume.');
  } else {
    stateLine.textContent = 'View cleared at ' + clockTime() + '. New lines keep arriving.';
  }
}

controls.addEventListener('submit', function noSubmit(event) { event.preventDefault(); });
levelField.addEventListener('change', changeLevel);
pauseButton.addEventListener('click', togglePause);
clearButton.addEventListener('click', clearView);
pauseButton.disabled = false;
clearButton.disabled = false;
downloadLink.href = sitePath('/api/v1/admin/logs/download' + levelQuery());
window.addEventListener('pagehide', closeStream);
openStream();
start();
