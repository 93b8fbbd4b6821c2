/**
 * The claim page: fills the profile and group selects from the admin API, checks the pairing
 * code as the person types it, sends the form to `POST /api/v1/admin/devices/claim`, and shows
 * the result. The sign-out button ends the session.
 *
 * Test hook: `document.body.dataset.claim` is "loading", "ready", "sending", "claimed" or
 * "failed" (after a rejected claim).
 */

import { RequestError, sendJson, sitePath } from './api.js';
import { enableSubmit, markBusy, setFieldError, showError, showStatus } from './form.js';

/** Characters of a pairing code, the same alphabet as the server's: no 0, 1, I, L, O or U. */
const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_LENGTH = 6;

/** Error codes of a claim whose code cannot work again, so the screen must show a new one. */
const SPENT_CODE_ERRORS = ['pairing-code-expired', 'pairing-code-used'];

const form = document.getElementById('claim-form');
const result = document.getElementById('claim-result');

/** CSRF token of the session, sent with every change. */
let csrfToken = null;

function setState(state) {
  document.body.dataset.claim = state;
}

/** Returns the login page's URL that comes back to this page, code included. */
function loginUrl() {
  const current = window.location.pathname + window.location.search;
  return sitePath('/admin/login') + '?next=' + encodeURIComponent(current);
}

/**
 * Returns the code in canonical form (six characters, uppercase, no separator) and an error
 * message, of which exactly one is null.
 */
function readCode(text) {
  const compact = text.replace(/[\s-]/g, '').toUpperCase();
  if (!compact) {
    return { code: null, error: 'Enter the pairing code that the screen shows.' };
  }
  for (let i = 0; i < compact.length; i += 1) {
    if (CODE_ALPHABET.indexOf(compact.charAt(i)) < 0) {
      return {
        code: null,
        error: '\u201c' + compact.charAt(i) + '\u201d never occurs in pairing codes, which have no '
          + '0, 1, I, L, O or U. Type the code exactly as the screen shows it.',
      };
    }
  }
  if (compact.length !== CODE_LENGTH) {
    return {
      code: null,
      error: 'A pairing code has ' + CODE_LENGTH + ' characters, and this one has '
        + compact.length + '. Type the code exactly as the screen shows it.',
    };
  }
  return { code: compact, error: null };
}

/** Checks the code field, marks it, and returns the canonical code or null. */
function checkCodeField() {
  const checked = readCode(form.elements.code.value);
  setFieldError('code', checked.error || '');
  return checked.code;
}

/** Returns the message for a rejected claim, with what to do next. */
function claimFailureMessage(error) {
  if (SPENT_CODE_ERRORS.indexOf(error.code) >= 0) {
    return error.message + ' Ask the screen for a new code: it shows one by itself within '
      + 'seconds, or reload the screen.';
  }
  if (error.code === 'pairing-code-not-found') {
    return error.message + ' If the screen shows another code now, use that one.';
  }
  if (error.status === 429 && error.retryAfterSeconds) {
    return error.message + ' Try again in ' + error.retryAfterSeconds + ' seconds.';
  }
  return error.message;
}

/** Marks the fields that the server named in a rejection. */
function markServerFields(error) {
  const named = error.fields.slice();
  if (error.field && named.length === 0) {
    named.push({ field: error.field, message: error.message });
  }
  named.forEach(function markField(entry) {
    const id = entry.field.replace(/_id$/, '');
    if (document.getElementById(id + '-error')) {
      setFieldError(id, entry.message || error.message);
    }
  });
}

/**
 * Fills select `id` from `GET path`, whose body lists `{id, name}` objects under `key`.
 * A failure leaves the "none" choice and explains that beside the select, because a screen can be
 * claimed without a profile or group.
 */
async function loadChoices(id, path, key, noun) {
  const select = document.getElementById(id);
  const hint = document.getElementById(id + '-hint');
  hint.textContent = 'Loading ' + noun + 's\u2026';
  try {
    const response = await sendJson('GET', path, null, null);
    const entries = (response.body && response.body[key]) || [];
    entries.forEach(function addOption(entry) {
      const option = document.createElement('option');
      option.value = String(entry.id);
      option.textContent = entry.name;
      select.appendChild(option);
    });
    hint.textContent = entries.length === 0
      ? 'No ' + noun + 's exist yet.'
      : 'Screens share the settings of their ' + noun + '.';
    select.dataset.loaded = 'true';
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    hint.textContent = '';
    setFieldError(id, 'The ' + noun + 's could not be loaded: ' + error.message
      + ' The screen can still be claimed without one.');
    select.dataset.loaded = 'failed';
  }
}

/** Returns the selected numeric id of select `id`, or null for the "none" choice. */
function selectedId(id) {
  const value = document.getElementById(id).value;
  return value === '' ? null : Number(value);
}

function showResult(device) {
  form.hidden = true;
  document.getElementById('claim-result-text').textContent = '\u201c' + device.name
    + '\u201d is paired. It starts showing posters within a few seconds.';
  result.hidden = false;
  result.focus();
  showStatus('Screen \u201c' + device.name + '\u201d claimed.');
  setState('claimed');
}

function claimAnother() {
  form.reset();
  form.elements.code.value = '';
  setFieldError('code', '');
  setFieldError('name', '');
  setFieldError('location', '');
  result.hidden = true;
  form.hidden = false;
  showStatus('');
  setState('ready');
  form.elements.code.focus();
}

async function submitClaim(event) {
  event.preventDefault();
  const code = checkCodeField();
  const name = form.elements.name.value.trim();
  setFieldError('name', name ? '' : 'Enter a name for the screen, such as Lobby left.');
  setFieldError('location', '');
  if (code === null || !name) {
    showError('Check the marked fields.');
    (code === null ? form.elements.code : form.elements.name).focus();
    return;
  }

  const body = { code: code, name: name };
  const location = form.elements.location.value.trim();
  if (location) {
    body.location = location;
  }
  const profileId = selectedId('profile');
  if (profileId !== null) {
    body.profile_id = profileId;
  }
  const groupId = selectedId('group');
  if (groupId !== null) {
    body.group_id = groupId;
  }

  const notBusy = markBusy(form, 'Claiming\u2026');
  setState('sending');
  showStatus('Claiming the screen\u2026');
  try {
    const response = await sendJson('POST', '/api/v1/admin/devices/claim', body, csrfToken);
    showResult(response.body.device);
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    if (error.status === 401) {
      showError('Your session has ended. Opening the sign-in page\u2026');
      window.location.assign(loginUrl());
      return;
    }
    markServerFields(error);
    showError(claimFailureMessage(error));
    setState('failed');
  } finally {
    notBusy();
  }
}

async function signOut(event) {
  const button = event.currentTarget;
  button.disabled = true;
  showStatus('Signing out\u2026');
  try {
    await sendJson('POST', '/api/v1/auth/logout', null, csrfToken);
    window.location.assign(loginUrl());
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    showError('Signing out failed: ' + error.message);
    button.disabled = false;
  }
}

async function start() {
  setState('loading');
  const signOutButton = document.getElementById('sign-out');
  try {
    const session = await sendJson('GET', '/api/v1/auth/session', null, null);
    csrfToken = session.body.csrf_token;
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    if (error.status === 401) {
      window.location.assign(loginUrl());
      return;
    }
    showError('Reading your session failed: ' + error.message + ' Reload the page to try again.');
    return;
  }

  if (signOutButton) {
    signOutButton.addEventListener('click', signOut);
    signOutButton.disabled = false;
  }
  if (!form) {
    return;
  }
  form.addEventListener('submit', submitClaim);
  form.elements.code.addEventListener('change', checkCodeField);
  result.querySelector('#claim-another').addEventListener('click', claimAnother);
  enableSubmit(form);
  setState('ready');
  (form.elements.code.value ? form.elements.name : form.elements.code).focus();

  await Promise.all([
    loadChoices('profile', '/api/v1/admin/profiles', 'profiles', 'profile'),
    loadChoices('group', '/api/v1/admin/groups', 'groups', 'group'),
  ]);
}

start();
