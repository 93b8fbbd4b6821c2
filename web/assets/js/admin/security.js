/**
 * The security page: password change, two-factor enrolment and removal, the account's
 * sessions, API tokens and the audit log, each sent to or loaded from the admin API.
 *
 * Every part of the page reports in its own `#<part>-status` and `#<part>-alert` lines.
 *
 * Test hooks: `document.body.dataset.security` becomes "ready" once every part has loaded.
 * `#two-factor` carries `data-totp`, which is "off", "enrolling", "recovery" or "on". The
 * tables' bodies carry `data-count`, and `#audit` carries `data-loads`, the number of finished
 * loads.
 */

import { RequestError, sendJson } from './api.js';
import { enableSubmit, markBusy, setFieldError } from './form.js';
import { csrfToken, loginUrl, request, start } from './shell.js';

/** A TOTP code: six digits once spaces are removed. */
const TOTP_CODE = /^[0-9]{6}$/;

/** Browser and system names found in a user agent, most specific first. */
const BROWSERS = [
  ['Edg/', 'Edge'],
  ['OPR/', 'Opera'],
  ['Firefox/', 'Firefox'],
  ['Chrome/', 'Chrome'],
  ['Safari/', 'Safari'],
];
const SYSTEMS = [
  ['Android', 'Android'],
  ['iPhone', 'iPhone'],
  ['iPad', 'iPad'],
  ['Windows', 'Windows'],
  ['CrOS', 'ChromeOS'],
  ['Mac OS X', 'macOS'],
  ['Linux', 'Linux'],
];

/** Object URLs of the QR code and the recovery code file, released when replaced. */
const objectUrls = { qr: null, recovery: null };

/** The audit log's filters as last applied, and the paging cursor. */
const audit = { query: {}, before: null };

/** Returns the status and error line functions of the page part `part`. */
function feedback(part) {
  const status = document.getElementById(part + '-status');
  const alert = document.getElementById(part + '-alert');
  return {
    status: function showStatus(text) {
      alert.hidden = true;
      alert.textContent = '';
      status.textContent = text;
    },
    error: function showError(text) {
      status.textContent = '';
      alert.textContent = text;
      alert.hidden = false;
    },
  };
}

const feedbacks = {
  password: feedback('password'),
  twoFactor: feedback('two-factor'),
  sessions: feedback('sessions'),
  tokens: feedback('tokens'),
  audit: feedback('audit'),
};

/** Rethrows anything but a failed request, which the caller reports. */
function requireRequestError(error) {
  if (!(error instanceof RequestError)) {
    throw error;
  }
}

/** Returns `text` ending with a full stop. */
function withPeriod(text) {
  return /[.!?]$/.test(text) ? text : text + '.';
}

/**
 * Returns the message for a rejected request to follow a colon, so with a lowercase first
 * letter, plus the wait that a 429 response requests.
 */
function failureMessage(error) {
  let message = withPeriod(error.message.charAt(0).toLowerCase() + error.message.slice(1));
  if (error.status === 429 && error.retryAfterSeconds) {
    message += ' Try again in ' + error.retryAfterSeconds + ' seconds.';
  }
  return message;
}

/** Disables `button` and shows `label` on it until the returned function is called. */
function markButtonBusy(button, label) {
  const idle = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.textContent = label;
  return function notBusy() {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = idle;
  };
}

/** Moves focus to the heading of page part `part`, after the control that had it is gone. */
function focusPart(part) {
  const heading = document.getElementById(part + '-heading');
  heading.setAttribute('tabindex', '-1');
  heading.focus();
}

/** Returns a short name such as "Chrome on Linux" for a user agent. */
function browserName(agent) {
  if (!agent) {
    return 'Unknown browser';
  }
  let browser = null;
  let system = null;
  for (let i = 0; i < BROWSERS.length && browser === null; i += 1) {
    if (agent.indexOf(BROWSERS[i][0]) >= 0) {
      browser = BROWSERS[i][1];
    }
  }
  for (let i = 0; i < SYSTEMS.length && system === null; i += 1) {
    if (agent.indexOf(SYSTEMS[i][0]) >= 0) {
      system = SYSTEMS[i][1];
    }
  }
  if (browser && system) {
    return browser + ' on ' + system;
  }
  return browser || system || agent.slice(0, 60);
}

/** Returns a table cell labelled `label` for the stacked phone layout, holding `content`. */
function cell(label, content) {
  const td = document.createElement('td');
  td.dataset.label = label;
  if (content instanceof Node) {
    td.appendChild(content);
  } else {
    td.textContent = content === null || content === undefined || content === '' ? '\u2014' : content;
  }
  return td;
}

/** Returns a `<time>` element for Unix seconds, in the browser's time zone, or "Never". */
function timeOf(seconds) {
  if (!seconds) {
    return document.createTextNode('Never');
  }
  const date = new Date(seconds * 1000);
  const time = document.createElement('time');
  time.dateTime = date.toISOString();
  time.textContent = date.toLocaleString();
  return time;
}

/** Replaces the rows of `tbody` with `rows`, or with one row saying `empty`. */
function fillRows(tbody, columns, rows, empty) {
  tbody.textContent = '';
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = columns;
    td.textContent = empty;
    tr.appendChild(td);
    tbody.appendChild(tr);
  }
  for (let i = 0; i < rows.length; i += 1) {
    tbody.appendChild(rows[i]);
  }
  tbody.dataset.count = String(rows.length);
}

/**
 * Copies `text` to the clipboard and returns true, or returns false where the browser does not
 * allow it (a page over plain HTTP on another host), so the caller selects the text instead.
 */
async function copyText(text) {
  if (!navigator.clipboard || !window.isSecureContext) {
    return false;
  }
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (error) {
    return false;
  }
}

// Password.

const passwordForm = document.getElementById('password-form');

async function changePassword(event) {
  event.preventDefault();
  const fields = passwordForm.elements;
  const current = fields.current_password.value;
  const chosen = fields.new_password.value;
  const repeated = fields.repeat_password.value;
  const minChars = parseInt(fields.new_password.dataset.minChars, 10);
  setFieldError('current-password', current ? '' : 'Enter your current password.');
  setFieldError('new-password', Array.from(chosen).length >= minChars
    ? '' : 'Use at least ' + minChars + ' characters, for example a sentence of four words.');
  setFieldError('repeat-password', chosen === repeated
    ? '' : 'The two new passwords differ. Type the same password twice.');
  const invalid = passwordForm.querySelector('[aria-invalid="true"]');
  if (invalid) {
    feedbacks.password.error('The password was not changed: correct the marked fields.');
    invalid.focus();
    return;
  }

  const notBusy = markBusy(passwordForm, 'Changing\u2026');
  feedbacks.password.status('Changing the password\u2026');
  try {
    await request('PUT', '/api/v1/admin/account/password', {
      current_password: current,
      new_password: chosen,
    });
    passwordForm.reset();
    feedbacks.password.status('Password changed. Every other session of this account is signed out.');
    await loadSessions();
  } catch (error) {
    requireRequestError(error);
    if (error.code === 'wrong-password') {
      setFieldError('current-password', withPeriod(error.message));
      fields.current_password.focus();
    } else if (error.code === 'weak-password') {
      setFieldError('new-password', withPeriod(error.message));
      fields.new_password.focus();
    }
    feedbacks.password.error('The password was not changed: ' + failureMessage(error));
  } finally {
    notBusy();
  }
}

// Two-factor sign-in.

const twoFactor = document.getElementById('two-factor');
const totpPanels = {
  off: document.getElementById('totp-off'),
  enrolling: document.getElementById('totp-enrol'),
  recovery: document.getElementById('totp-recovery'),
  on: document.getElementById('totp-on'),
};
const beginButton = document.getElementById('totp-begin');
const confirmForm = document.getElementById('totp-confirm-form');
const disableForm = document.getElementById('totp-disable-form');

/** Shows the panel of `state` and hides the others. */
function showTotpState(state) {
  const names = Object.keys(totpPanels);
  for (let i = 0; i < names.length; i += 1) {
    totpPanels[names[i]].hidden = names[i] !== state;
  }
  twoFactor.dataset.totp = state;
}

function setObjectUrl(name, blob) {
  if (objectUrls[name]) {
    URL.revokeObjectURL(objectUrls[name]);
  }
  objectUrls[name] = blob ? URL.createObjectURL(blob) : null;
  return objectUrls[name];
}

async function loadAccount() {
  const summary = document.getElementById('two-factor-summary');
  try {
    const response = await request('GET', '/api/v1/admin/account');
    const state = response.body.two_factor;
    if (state.enabled) {
      const left = state.recovery_codes_left;
      summary.textContent = 'On: signing in asks for a code from your authenticator app. '
        + left + (left === 1 ? ' recovery code is' : ' recovery codes are') + ' left.';
      showTotpState('on');
    } else {
      summary.textContent = 'Off: signing in needs only the password.';
      showTotpState('off');
    }
  } catch (error) {
    requireRequestError(error);
    summary.textContent = 'The state of two-factor sign-in could not be loaded.';
    feedbacks.twoFactor.error('Loading the account failed: ' + failureMessage(error)
      + ' Reload the page to try again.');
  }
}

async function beginEnrolment() {
  const notBusy = markButtonBusy(beginButton, 'Preparing\u2026');
  feedbacks.twoFactor.status('Preparing a new key\u2026');
  try {
    const response = await request('POST', '/api/v1/admin/account/totp');
    const image = document.getElementById('totp-qr');
    image.src = setObjectUrl('qr', new Blob([response.body.qr_svg], { type: 'image/svg+xml' }));
    // Groups of four characters are easier to type into an app.
    document.getElementById('totp-secret').textContent =
      response.body.secret.replace(/(.{4})(?=.)/g, '$1 ');
    showTotpState('enrolling');
    feedbacks.twoFactor.status('Scan the QR code, then enter the code that the app shows.');
    confirmForm.elements.code.focus();
  } catch (error) {
    requireRequestError(error);
    feedbacks.twoFactor.error('Two-factor sign-in could not be set up: ' + failureMessage(error));
  } finally {
    notBusy();
  }
}

async function confirmEnrolment(event) {
  event.preventDefault();
  const code = confirmForm.elements.code.value.replace(/\s/g, '');
  if (!TOTP_CODE.test(code)) {
    setFieldError('totp-code', 'Enter the six digits that the app shows now.');
    confirmForm.elements.code.focus();
    return;
  }
  setFieldError('totp-code', '');

  const notBusy = markBusy(confirmForm, 'Checking\u2026');
  feedbacks.twoFactor.status('Checking the code\u2026');
  try {
    // A rejected code is a 401 here, which `request` would take for an ended session.
    const response = await sendJson('POST', '/api/v1/admin/account/totp/confirm', { code: code },
      csrfToken());
    showRecoveryCodes(response.body.recovery_codes);
  } catch (error) {
    requireRequestError(error);
    if (error.status === 401 && error.code !== 'code-rejected') {
      window.location.assign(loginUrl());
      return;
    }
    setFieldError('totp-code', withPeriod(error.message));
    feedbacks.twoFactor.error('Two-factor sign-in is still off: ' + failureMessage(error));
    confirmForm.elements.code.select();
    confirmForm.elements.code.focus();
  } finally {
    notBusy();
  }
}

function showRecoveryCodes(codes) {
  const list = document.getElementById('recovery-codes');
  list.textContent = '';
  for (let i = 0; i < codes.length; i += 1) {
    const item = document.createElement('li');
    const code = document.createElement('code');
    code.textContent = codes[i];
    item.appendChild(code);
    list.appendChild(item);
  }
  const username = document.querySelector('.who strong');
  const lines = [
    'Onesheet recovery codes' + (username ? ' for ' + username.textContent : ''),
    'Created ' + new Date().toLocaleString(),
    'Each code signs in once in place of a code from the authenticator app.',
    '',
  ].concat(codes);
  const download = document.getElementById('recovery-download');
  download.href = setObjectUrl('recovery', new Blob([lines.join('\n') + '\n'], { type: 'text/plain' }));
  list.dataset.text = codes.join('\n');

  // The key is no longer needed on screen once the app has it.
  setObjectUrl('qr', null);
  document.getElementById('totp-qr').removeAttribute('src');
  document.getElementById('totp-secret').textContent = '';
  confirmForm.reset();

  showTotpState('recovery');
  feedbacks.twoFactor.status('Two-factor sign-in is on. Save the recovery codes now.');
  totpPanels.recovery.focus();
}

async function copyRecoveryCodes() {
  const list = document.getElementById('recovery-codes');
  if (await copyText(list.dataset.text)) {
    feedbacks.twoFactor.status('The recovery codes are copied. Paste them somewhere safe.');
    return;
  }
  window.getSelection().selectAllChildren(list);
  feedbacks.twoFactor.status('This browser does not allow copying from this page. The codes '
    + 'are selected: copy them with Ctrl+C, or download them as a file.');
}

async function finishRecoveryCodes() {
  setObjectUrl('recovery', null);
  document.getElementById('recovery-codes').textContent = '';
  document.getElementById('recovery-download').setAttribute('href', '#two-factor');
  await loadAccount();
  feedbacks.twoFactor.status('Two-factor sign-in is on.');
  focusPart('two-factor');
}

async function disableTwoFactor(event) {
  event.preventDefault();
  const password = disableForm.elements.password.value;
  const typed = disableForm.elements.code.value.trim();
  setFieldError('disable-password', password ? '' : 'Enter your password.');
  setFieldError('disable-code', typed ? '' : 'Enter a code from the app, or a recovery code.');
  if (!password || !typed) {
    (password ? disableForm.elements.code : disableForm.elements.password).focus();
    return;
  }
  const digits = typed.replace(/\s/g, '');
  const body = TOTP_CODE.test(digits)
    ? { password: password, code: digits }
    : { password: password, recovery_code: typed };

  const notBusy = markBusy(disableForm, 'Turning off\u2026');
  feedbacks.twoFactor.status('Turning off two-factor sign-in\u2026');
  try {
    await request('DELETE', '/api/v1/admin/account/totp', body);
    disableForm.reset();
    await loadAccount();
    feedbacks.twoFactor.status('Two-factor sign-in is off. Signing in needs only the password now.');
    focusPart('two-factor');
  } catch (error) {
    requireRequestError(error);
    let message = failureMessage(error);
    if (error.code === 'wrong-password') {
      // The server does not say which of the two was wrong.
      message = 'the password or the code is wrong. Check both: an app code works once, for '
        + 'about 30 seconds, and a recovery code works once.';
    }
    feedbacks.twoFactor.error('Two-factor sign-in is still on: ' + message);
    disableForm.elements.password.focus();
  } finally {
    notBusy();
  }
}

// Sessions.

const sessionRows = document.getElementById('sessions-rows');
const revokeOthersButton = document.getElementById('revoke-others');

function sessionRow(session) {
  const tr = document.createElement('tr');
  const name = browserName(session.user_agent);
  const browser = document.createElement('span');
  browser.textContent = name;
  if (session.user_agent) {
    browser.title = session.user_agent;
  }
  const browserCell = cell('Browser', browser);

  if (session.current) {
    tr.className = 'current';
    const badge = document.createElement('span');
    badge.className = 'badge ok';
    badge.textContent = 'This session';
    browserCell.appendChild(document.createTextNode(' '));
    browserCell.appendChild(badge);
  }
  tr.appendChild(browserCell);
  tr.appendChild(cell('Address', session.client_ip));
  tr.appendChild(cell('Signed in', timeOf(session.created_at)));
  tr.appendChild(cell('Last used', timeOf(session.last_seen_at)));

  if (session.current) {
    tr.appendChild(cell('Action', 'This browser'));
  } else {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'secondary';
    button.textContent = 'Sign out';
    button.setAttribute('aria-label', 'Sign out the session of ' + name
      + (session.client_ip ? ' at ' + session.client_ip : ''));
    button.addEventListener('click', function revokeThis() {
      revokeSession(session.id, name, button);
    });
    tr.appendChild(cell('Action', button));
  }
  return tr;
}

async function loadSessions() {
  try {
    const response = await request('GET', '/api/v1/admin/account/sessions');
    const sessions = response.body.sessions;
    fillRows(sessionRows, 5, sessions.map(sessionRow), 'No sessions.');
    revokeOthersButton.disabled = sessions.length < 2;
  } catch (error) {
    requireRequestError(error);
    feedbacks.sessions.error('The sessions could not be loaded: ' + failureMessage(error));
  }
}

async function revokeSession(id, name, button) {
  markButtonBusy(button, 'Signing out\u2026');
  feedbacks.sessions.status('Signing out the session of ' + name + '\u2026');
  try {
    await request('DELETE', '/api/v1/admin/account/sessions/' + encodeURIComponent(id));
    await loadSessions();
    feedbacks.sessions.status('The session of ' + name + ' is signed out.');
  } catch (error) {
    requireRequestError(error);
    await loadSessions();
    feedbacks.sessions.error('The session could not be signed out: ' + failureMessage(error));
  }
  focusPart('sessions');
}

async function revokeOtherSessions() {
  const notBusy = markButtonBusy(revokeOthersButton, 'Signing out\u2026');
  feedbacks.sessions.status('Signing out every other session\u2026');
  try {
    const response = await request('DELETE', '/api/v1/admin/account/sessions/others');
    const ended = response.body.ended;
    notBusy();
    await loadSessions();
    feedbacks.sessions.status(ended === 1
      ? 'One other session is signed out.'
      : ended + ' other sessions are signed out.');
  } catch (error) {
    requireRequestError(error);
    notBusy();
    feedbacks.sessions.error('The other sessions could not be signed out: ' + failureMessage(error));
  }
}

// API tokens.

const tokenForm = document.getElementById('token-form');
const tokenRows = document.getElementById('tokens-rows');
const tokenCreated = document.getElementById('token-created');

function tokenRow(token) {
  const tr = document.createElement('tr');
  tr.appendChild(cell('Name', token.name));
  tr.appendChild(cell('Scope', token.scope));
  tr.appendChild(cell('Created', timeOf(token.created_at)));
  tr.appendChild(cell('Last used', timeOf(token.last_used_at)));
  if (token.revoked_at) {
    const state = document.createElement('span');
    state.appendChild(document.createTextNode('Revoked '));
    state.appendChild(timeOf(token.revoked_at));
    tr.appendChild(cell('State', state));
    tr.className = 'revoked';
  } else {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'secondary';
    button.textContent = 'Revoke';
    button.setAttribute('aria-label', 'Revoke the token ' + token.name);
    button.addEventListener('click', function revokeThis() {
      revokeToken(token, button);
    });
    tr.appendChild(cell('State', button));
  }
  return tr;
}

async function loadTokens() {
  try {
    const response = await request('GET', '/api/v1/admin/tokens');
    const tokens = response.body.tokens.slice();
    // Active tokens first, newest first within each group.
    tokens.sort(function byState(a, b) {
      if (!a.revoked_at !== !b.revoked_at) {
        return a.revoked_at ? 1 : -1;
      }
      return b.created_at - a.created_at;
    });
    fillRows(tokenRows, 5, tokens.map(tokenRow), 'No tokens yet.');
  } catch (error) {
    requireRequestError(error);
    feedbacks.tokens.error('The tokens could not be loaded: ' + failureMessage(error));
  }
}

async function createToken(event) {
  event.preventDefault();
  const name = tokenForm.elements.name.value.trim();
  const scope = tokenForm.elements.scope.value;
  // The server writes its limit into the field.
  const maxChars = tokenForm.elements.name.maxLength;
  let problem = '';
  if (!name) {
    problem = 'Enter a name, such as home-assistant.';
  } else if (Array.from(name).length > maxChars) {
    problem = 'Use at most ' + maxChars + ' characters.';
  }
  setFieldError('token-name', problem);
  if (problem) {
    tokenForm.elements.name.focus();
    return;
  }

  const notBusy = markBusy(tokenForm, 'Creating\u2026');
  feedbacks.tokens.status('Creating the token\u2026');
  try {
    const response = await request('POST', '/api/v1/admin/tokens', { name: name, scope: scope });
    const created = response.body;
    document.getElementById('token-value-label').textContent = 'Token ' + created.name
      + ' (' + created.scope + ')';
    const value = document.getElementById('token-value');
    value.value = created.token;
    tokenCreated.hidden = false;
    tokenForm.reset();
    await loadTokens();
    feedbacks.tokens.status('Token ' + created.name + ' created. Copy it now: it is shown only once.');
    value.focus();
    value.select();
  } catch (error) {
    requireRequestError(error);
    if (error.code === 'invalid-token' || error.field === 'name') {
      setFieldError('token-name', withPeriod(error.message));
      tokenForm.elements.name.focus();
    }
    feedbacks.tokens.error('The token was not created: ' + failureMessage(error));
  } finally {
    notBusy();
  }
}

async function copyToken() {
  const value = document.getElementById('token-value');
  if (await copyText(value.value)) {
    feedbacks.tokens.status('The token is copied. Paste it into the script\u2019s settings.');
    return;
  }
  value.focus();
  value.select();
  feedbacks.tokens.status('This browser does not allow copying from this page. The token is '
    + 'selected: copy it with Ctrl+C.');
}

async function revokeToken(token, button) {
  markButtonBusy(button, 'Revoking\u2026');
  feedbacks.tokens.status('Revoking the token ' + token.name + '\u2026');
  try {
    await request('DELETE', '/api/v1/admin/tokens/' + encodeURIComponent(token.id));
    // A token shown once and now revoked must not stay on the page.
    document.getElementById('token-value').value = '';
    tokenCreated.hidden = true;
    await loadTokens();
    feedbacks.tokens.status('The token ' + token.name + ' is revoked. Scripts that send it are '
      + 'rejected from now on.');
  } catch (error) {
    requireRequestError(error);
    await loadTokens();
    feedbacks.tokens.error('The token was not revoked: ' + failureMessage(error));
  }
  focusPart('tokens');
}

// Audit log.

const auditPart = document.getElementById('audit');
const auditForm = document.getElementById('audit-form');
const auditRows = document.getElementById('audit-rows');
const olderButton = document.getElementById('audit-older');
const newestButton = document.getElementById('audit-newest');

/** Returns a short text of an event's detail, such as "scope: read, id: 3". */
function detailText(detail) {
  if (detail === null || detail === undefined) {
    return '';
  }
  if (typeof detail !== 'object') {
    return String(detail);
  }
  return Object.keys(detail).map(function pair(key) {
    const value = detail[key];
    return key + ': ' + (typeof value === 'object' ? JSON.stringify(value) : String(value));
  }).join(', ');
}

function auditRow(event) {
  const tr = document.createElement('tr');
  tr.appendChild(cell('Time', timeOf(event.at)));
  tr.appendChild(cell('Actor', event.actor));
  tr.appendChild(cell('Action', event.action));
  tr.appendChild(cell('Target', event.target));
  tr.appendChild(cell('Address', event.ip));
  tr.appendChild(cell('Details', detailText(event.detail)));
  return tr;
}

/** Returns Unix seconds of a `datetime-local` value in the browser's time zone, or null. */
function secondsOf(value) {
  if (!value) {
    return null;
  }
  const milliseconds = new Date(value).getTime();
  return isNaN(milliseconds) ? null : Math.floor(milliseconds / 1000);
}

/** Reads the filter form into query values and marks invalid fields. Returns null if any is. */
function readAuditFilters() {
  const fields = auditForm.elements;
  const since = secondsOf(fields.since.value);
  const until = secondsOf(fields.until.value);
  setFieldError('audit-since', '');
  setFieldError('audit-until', since !== null && until !== null && since >= until
    ? 'Choose a time after the start of the range.' : '');
  if (since !== null && until !== null && since >= until) {
    fields.until.focus();
    return null;
  }
  return {
    actor: fields.actor.value.trim(),
    action: fields.action.value.trim(),
    since: since === null ? '' : String(since),
    until: until === null ? '' : String(until),
    limit: fields.limit.value,
  };
}

async function loadAudit() {
  const parts = [];
  const names = Object.keys(audit.query);
  for (let i = 0; i < names.length; i += 1) {
    if (audit.query[names[i]]) {
      parts.push(names[i] + '=' + encodeURIComponent(audit.query[names[i]]));
    }
  }
  if (audit.before !== null) {
    parts.push('before=' + audit.before);
  }
  auditPart.setAttribute('aria-busy', 'true');
  feedbacks.audit.status('Loading the audit log\u2026');
  try {
    const response = await request('GET', '/api/v1/admin/audit' + (parts.length ? '?' + parts.join('&') : ''));
    const events = response.body.events;
    fillRows(auditRows, 6, events.map(auditRow), 'No events match these filters.');
    olderButton.disabled = response.body.next_before === null;
    olderButton.dataset.before = response.body.next_before === null ? '' : String(response.body.next_before);
    newestButton.disabled = audit.before === null;
    const filtered = audit.query.actor || audit.query.action || audit.query.since || audit.query.until;
    feedbacks.audit.status(events.length + (events.length === 1 ? ' event' : ' events')
      + (filtered ? ' match the filters' : '') + (audit.before === null ? ', newest first.' : ', older page.'));
  } catch (error) {
    requireRequestError(error);
    if (error.field && document.getElementById('audit-' + error.field)) {
      setFieldError('audit-' + error.field, withPeriod(error.message));
    }
    feedbacks.audit.error('The audit log could not be loaded: ' + failureMessage(error));
  } finally {
    auditPart.removeAttribute('aria-busy');
    auditPart.dataset.loads = String(parseInt(auditPart.dataset.loads || '0', 10) + 1);
  }
}

async function applyAuditFilters(event) {
  event.preventDefault();
  const query = readAuditFilters();
  if (query === null) {
    feedbacks.audit.error('The filters were not applied: correct the marked fields.');
    return;
  }
  audit.query = query;
  audit.before = null;
  const notBusy = markBusy(auditForm, 'Applying\u2026');
  try {
    await loadAudit();
  } finally {
    notBusy();
  }
}

function clearAuditFilters() {
  // The reset event comes before the form's fields are cleared.
  setTimeout(function reloadAfterReset() {
    setFieldError('audit-since', '');
    setFieldError('audit-until', '');
    audit.query = readAuditFilters() || {};
    audit.before = null;
    loadAudit();
  }, 0);
}

async function showOlderEvents() {
  audit.before = parseInt(olderButton.dataset.before, 10);
  const notBusy = markButtonBusy(olderButton, 'Loading\u2026');
  await loadAudit();
  const hasMore = !olderButton.disabled;
  notBusy();
  olderButton.disabled = !hasMore;
  focusPart('audit');
}

async function showNewestEvents() {
  audit.before = null;
  await loadAudit();
  focusPart('audit');
}

// Start-up.

async function setUp() {
  passwordForm.addEventListener('submit', changePassword);
  beginButton.addEventListener('click', beginEnrolment);
  confirmForm.addEventListener('submit', confirmEnrolment);
  disableForm.addEventListener('submit', disableTwoFactor);
  document.getElementById('recovery-copy').addEventListener('click', copyRecoveryCodes);
  document.getElementById('recovery-done').addEventListener('click', finishRecoveryCodes);
  revokeOthersButton.addEventListener('click', revokeOtherSessions);
  tokenForm.addEventListener('submit', createToken);
  document.getElementById('token-copy').addEventListener('click', copyToken);
  auditForm.addEventListener('submit', applyAuditFilters);
  auditForm.addEventListener('reset', clearAuditFilters);
  olderButton.addEventListener('click', showOlderEvents);
  newestButton.addEventListener('click', showNewestEvents);

  audit.query = readAuditFilters() || {};
  await Promise.all([loadAccount(), loadSessions(), loadTokens(), loadAudit()]);

  const forms = [passwordForm, confirmForm, disableForm, tokenForm, auditForm];
  for (let i = 0; i < forms.length; i += 1) {
    enableSubmit(forms[i]);
  }
  beginButton.disabled = false;
  start();
  document.body.dataset.security = 'ready';
}

setUp();
