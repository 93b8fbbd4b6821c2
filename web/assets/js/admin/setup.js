/**
 * The setup wizard: shows one step at a time and sends each to the API.
 *
 * Steps 1 and 2 collect the setup token and the account and send both to `POST /api/v1/setup`,
 * which creates the admin and signs the browser in. From step 3 on the page keeps the step (and
 * the source added in step 4) in its query with `history.pushState`, so the browser's back
 * button and a reload both land on a step the server can show again.
 *
 * Test hook: `document.body.dataset.wizard` is the number of the step shown, once it is ready.
 */

import { RequestError, sendJson, sitePath } from './api.js';
import { enableSubmit, markBusy, setFieldError, showError, showStatus } from './form.js';
import {
  credentialHint, credentialLabel, credentialState, describeTest,
} from './source-test.js';

const TOTP_CODE = /^[0-9]{6}$/;
const STEP_COUNT = 6;
/** Step names as the progress line shows them, in order. */
const STEP_TITLES = [
  'Setup token', 'Admin account', 'Two-factor sign-in', 'First source', 'Libraries', 'Open on a screen',
];
/** The first step once the admin exists: steps 1 and 2 cannot run again. */
const FIRST_SIGNED_IN_STEP = 3;

const wizard = document.getElementById('main');

/** CSRF token of the session, from the page or from the response that created the admin. */
let csrfToken = wizard ? wizard.dataset.csrfToken || null : null;
/** The source added in step 4, as the API returned it. */
let source = null;

function field(id) {
  return document.getElementById(id);
}

function currentStep() {
  return Number(wizard.dataset.step);
}

/** Returns the id of the source in the query, or null. */
function sourceFromQuery() {
  return new URLSearchParams(window.location.search).get('source');
}

/**
 * Sends an API request with the session's token. A 401 after the admin exists means the
 * session ended, so the page opens sign-in, which returns here.
 */
async function api(method, path, body) {
  try {
    return await sendJson(method, path, body === undefined ? null : body, csrfToken);
  } catch (error) {
    if (error instanceof RequestError && error.status === 401 && csrfToken) {
      showError('Your session has ended. Opening the sign-in page\u2026');
      const current = window.location.pathname + window.location.search;
      window.location.assign(sitePath('/admin/login') + '?next=' + encodeURIComponent(current));
      return new Promise(function never() {});
    }
    throw error;
  }
}

function stepQuery(step) {
  let query = '?step=' + step;
  const id = source ? source.id : sourceFromQuery();
  if (id && step >= 4) {
    query += '&source=' + encodeURIComponent(id);
  }
  return query;
}

/** Shows step `step`, moves the focus to its heading and, after sign-in, records it in the URL. */
function show(step, options) {
  const settings = options || {};
  const sections = document.querySelectorAll('section.wizard-step');
  for (let i = 0; i < sections.length; i += 1) {
    sections[i].hidden = Number(sections[i].dataset.step) !== step;
  }
  const items = document.querySelectorAll('.wizard-steps li');
  for (let i = 0; i < items.length; i += 1) {
    if (Number(items[i].dataset.step) === step) {
      items[i].setAttribute('aria-current', 'step');
    } else {
      items[i].removeAttribute('aria-current');
    }
  }
  field('wizard-progress').textContent = 'Step ' + step + ' of ' + STEP_COUNT + ': ' + STEP_TITLES[step - 1];
  wizard.dataset.step = String(step);
  if (step >= FIRST_SIGNED_IN_STEP && !settings.fromHistory) {
    const query = stepQuery(step);
    if (settings.replace) {
      window.history.replaceState({ step: step }, '', query);
    } else {
      window.history.pushState({ step: step }, '', query);
    }
  }
  const heading = field('step-' + step + '-heading');
  if (heading && !settings.keepFocus) {
    heading.focus();
  }
  document.body.dataset.wizard = String(step);
  enter(step);
}

/** Prepares a step when it is shown. */
function enter(step) {
  if (step === 4) {
    showKind(selectedKind());
  } else if (step === 5) {
    loadLibraries();
  } else if (step === 6) {
    fillDisplayLinks();
  }
}

function failureText(error) {
  if (error.status === 429 && error.retryAfterSeconds) {
    return error.message + ' Try again in ' + error.retryAfterSeconds + ' seconds.';
  }
  return error.message;
}

// ---- Steps 1 and 2: token and account -------------------------------------------------------

function submitToken(event) {
  event.preventDefault();
  const token = field('setup-token').value.trim();
  if (!token) {
    setFieldError('setup-token', 'Enter the setup token from the server log or the file data/setup-token.');
    field('setup-token').focus();
    return;
  }
  setFieldError('setup-token', '');
  showStatus('');
  show(2);
}

async function submitAccount(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const username = field('username').value.trim();
  const password = field('new-password').value;
  ['username', 'new-password', 'repeat-password'].forEach(function clear(id) { setFieldError(id, ''); });
  if (!username) {
    setFieldError('username', 'Enter a user name, such as admin.');
    field('username').focus();
    return;
  }
  if (!password) {
    setFieldError('new-password', 'Enter a password.');
    field('new-password').focus();
    return;
  }
  if (password !== field('repeat-password').value) {
    setFieldError('repeat-password', 'The two passwords differ. Type the same password twice.');
    field('repeat-password').focus();
    return;
  }

  const notBusy = markBusy(form, 'Creating the account\u2026');
  showStatus('Creating the account\u2026');
  try {
    const response = await sendJson('POST', '/api/v1/setup', {
      setup_token: field('setup-token').value.trim(),
      username: username,
      password: password,
    }, null);
    csrfToken = response.body.csrf_token;
    field('new-password').value = '';
    field('repeat-password').value = '';
    showStatus('Account created, and you are signed in as ' + response.body.username + '.');
    show(3, { replace: true });
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    if (error.code === 'setup-token-rejected') {
      show(1);
      setFieldError('setup-token', error.message);
      showError('The setup token was not accepted. Copy it again from the log or the file.');
      field('setup-token').focus();
    } else if (error.code === 'weak-password') {
      setFieldError('new-password', error.message);
      showError('Choose another password: ' + error.message);
      field('new-password').focus();
    } else if (error.code === 'invalid-username') {
      setFieldError('username', error.message);
      showError(error.message);
      field('username').focus();
    } else if (error.code === 'setup-done') {
      showError('An admin exists already, so setup is closed. Sign in instead.');
    } else {
      showError('Creating the account failed: ' + failureText(error));
    }
  } finally {
    notBusy();
  }
}

// ---- Step 3: two-factor sign-in --------------------------------------------------------------

async function beginTotp(event) {
  const button = event.currentTarget;
  button.disabled = true;
  showStatus('Preparing the code for your authenticator app\u2026');
  try {
    const response = await api('POST', '/api/v1/admin/account/totp');
    field('totp-qr').src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(response.body.qr_svg);
    field('totp-secret').textContent = response.body.secret;
    field('totp-start').hidden = true;
    field('totp-enrol').hidden = false;
    showStatus('Scan the QR code, then enter the code from the app.');
    field('totp-code').focus();
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    if (error.code === 'two-factor-state') {
      field('totp-start').hidden = true;
      field('totp-next').textContent = 'Continue';
      showStatus('Two-factor sign-in is on already for this account.');
    } else {
      showError('Starting two-factor sign-in failed: ' + failureText(error));
    }
    button.disabled = false;
  }
}

async function confirmTotp(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const code = field('totp-code').value.replace(/\s/g, '');
  setFieldError('totp-code', '');
  if (!TOTP_CODE.test(code)) {
    setFieldError('totp-code', 'Enter the six digits that the app shows.');
    field('totp-code').focus();
    return;
  }
  const notBusy = markBusy(form, 'Checking\u2026');
  showStatus('Checking the code\u2026');
  try {
    const response = await api('POST', '/api/v1/admin/account/totp/confirm', { code: code });
    showRecoveryCodes(response.body.recovery_codes || []);
    field('totp-enrol').hidden = true;
    field('totp-next').textContent = 'Continue';
    showStatus('Two-factor sign-in is on. Save the recovery codes before you continue.');
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    setFieldError('totp-code', failureText(error));
    showError('The code was not accepted: ' + failureText(error));
    field('totp-code').select();
    field('totp-code').focus();
  } finally {
    notBusy();
  }
}

function showRecoveryCodes(codes) {
  const list = field('recovery-codes');
  while (list.firstChild) {
    list.removeChild(list.firstChild);
  }
  codes.forEach(function add(code) {
    const item = document.createElement('li');
    item.textContent = code;
    list.appendChild(item);
  });
  list.dataset.codes = codes.join('\n');
  field('recovery').hidden = false;
  field('recovery').focus();
}

function recoveryText() {
  return 'Onesheet recovery codes. Each signs in once without the authenticator app.\n\n'
    + field('recovery-codes').dataset.codes + '\n';
}

async function copyRecoveryCodes() {
  try {
    await navigator.clipboard.writeText(recoveryText());
    showStatus('The recovery codes are on the clipboard.');
  } catch (error) {
    showError('Copying failed (' + error.message + '). Select the codes and copy them, or download them.');
  }
}

function downloadRecoveryCodes() {
  const blob = new Blob([recoveryText()], { type: 'text/plain' });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = 'onesheet-recovery-codes.txt';
  document.body.appendChild(link);
  link.click();
  document.body.removeChild(link);
  setTimeout(function release() { URL.revokeObjectURL(link.href); }, 1000);
  showStatus('The recovery codes were downloaded as onesheet-recovery-codes.txt.');
}

// ---- Step 4: first source --------------------------------------------------------------------

function selectedKind() {
  const checked = document.querySelector('input[name="kind"]:checked');
  return checked ? checked.value : 'local';
}

function showKind(kind) {
  const local = kind === 'local';
  field('local-info').hidden = !local;
  field('wizard-source-form').hidden = local;
  if (!local) {
    field('source-credential-label').textContent = credentialLabel(kind);
    field('source-credential-hint').textContent = credentialHint(kind);
  }
  field('source-next').textContent = local || source ? 'Continue' : 'Skip this step';
}

function showSourceErrors(error) {
  const ids = {
    name: 'source-name', id: 'source-name', credential: 'source-credential',
    settings: 'source-host', 'settings.host': 'source-host', 'settings.https': 'source-host',
    'settings.base_path': 'source-host',
  };
  let first = null;
  (error.fields || []).forEach(function mark(problem) {
    const id = ids[problem.field];
    if (id) {
      setFieldError(id, problem.message.charAt(0).toUpperCase() + problem.message.slice(1));
      first = first || id;
    }
  });
  if (first) {
    field(first).focus();
  }
}

/** Saves the source (a new one, or the one added before) and returns it, or null. */
async function saveSource(kind) {
  const name = field('source-name').value.trim();
  const host = field('source-host').value.trim();
  const credential = field('source-credential').value.trim();
  ['source-name', 'source-host', 'source-credential'].forEach(function clear(id) { setFieldError(id, ''); });
  if (!name) {
    setFieldError('source-name', 'Enter a name, such as Living room.');
    field('source-name').focus();
    return null;
  }
  if (!host) {
    setFieldError('source-host', 'Enter the server\u2019s address.');
    field('source-host').focus();
    return null;
  }
  if (!credential && !(source && source.credential_set)) {
    setFieldError('source-credential', 'Enter the ' + credentialLabel(kind) + '.');
    field('source-credential').focus();
    return null;
  }
  const settings = source ? JSON.parse(JSON.stringify(source.settings)) : {};
  settings.host = host;
  const body = { kind: kind, name: name, settings: settings };
  if (credential) {
    body.credential = credential;
  }
  const response = source
    ? await api('PUT', '/api/v1/admin/sources/' + encodeURIComponent(source.id), body)
    : await api('POST', '/api/v1/admin/sources', body);
  return response.body;
}

async function submitSource(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const kind = selectedKind();
  const notBusy = markBusy(form, 'Testing\u2026');
  showStatus('Saving the source\u2026');
  try {
    const saved = await saveSource(kind);
    if (!saved) {
      showError('Check the marked fields.');
      return;
    }
    source = saved;
    field('source-credential').value = '';
    showCredentialState();
    window.history.replaceState({ step: 4 }, '', '?step=4&source=' + encodeURIComponent(saved.id));
    showStatus('Saved. Testing the connection to ' + saved.name + '\u2026');
    const tested = await api('POST', '/api/v1/admin/sources/' + encodeURIComponent(saved.id) + '/test');
    const described = describeTest(tested.body, kind);
    field('wizard-test-text').textContent = described.text;
    field('wizard-test-result').classList.toggle('ok', described.ok);
    field('wizard-test-result').classList.toggle('failing', !described.ok);
    field('wizard-test-result').hidden = false;
    document.body.dataset.test = tested.body.ok ? 'ok' : tested.body.error.code;
    field('source-next').textContent = 'Continue';
    if (described.ok) {
      showStatus('The connection works. Continue to pick its libraries.');
    } else {
      showError('Connection test failed. Fix the address or credential and try again, or continue and fix it later under Sources.');
    }
    field('wizard-test-result').focus();
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    showSourceErrors(error);
    showError('Saving the source failed: ' + failureText(error));
  } finally {
    notBusy();
  }
}

function showCredentialState() {
  const state = field('source-credential-state');
  state.hidden = !source;
  if (source) {
    state.textContent = credentialState(source.kind, source.credential_set);
  }
}

/** After a reload on step 4 or later, fetches the source named in the query. */
async function restoreSource() {
  const id = sourceFromQuery();
  if (!id || source) {
    return;
  }
  try {
    source = (await api('GET', '/api/v1/admin/sources/' + encodeURIComponent(id))).body;
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    source = null;
    return;
  }
  const radio = field('kind-' + source.kind);
  if (radio) {
    radio.checked = true;
  }
  field('source-name').value = source.name;
  field('source-host').value = source.settings.host;
  showCredentialState();
}

function continueFromSource() {
  if (selectedKind() === 'local' || !source) {
    show(6);
  } else {
    show(5);
  }
}

// ---- Step 5: libraries -----------------------------------------------------------------------

async function loadLibraries() {
  const list = field('wizard-libraries');
  while (list.firstChild) {
    list.removeChild(list.firstChild);
  }
  if (!source) {
    field('libraries-intro').textContent = 'No media server was added, so there are no libraries to pick.';
    field('libraries-next').textContent = 'Continue';
    return;
  }
  field('libraries-next').disabled = true;
  showStatus('Asking ' + source.name + ' for its libraries\u2026');
  try {
    const response = await api('GET', '/api/v1/admin/sources/' + encodeURIComponent(source.id) + '/libraries');
    const chosen = source.settings.libraries || [];
    (response.body.libraries || []).forEach(function add(library, index) {
      const row = document.createElement('div');
      row.className = 'field check';
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.id = 'wizard-library-' + index;
      box.value = library.id;
      box.checked = chosen.indexOf(library.id) >= 0;
      const label = document.createElement('label');
      label.htmlFor = box.id;
      label.textContent = library.name + ' (' + library.kind + ')';
      row.appendChild(box);
      row.appendChild(label);
      list.appendChild(row);
    });
    showStatus(source.name + ' offers ' + (response.body.libraries || []).length + ' libraries.');
    document.body.dataset.libraries = 'loaded';
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    showError('Loading the libraries failed: ' + failureText(error)
      + ' Continue to read every library, and pick them later under Sources.');
  } finally {
    field('libraries-next').disabled = false;
  }
}

async function saveLibraries(event) {
  const button = event.currentTarget;
  if (!source) {
    show(6);
    return;
  }
  const boxes = field('wizard-libraries').querySelectorAll('input[type="checkbox"]');
  const chosen = [];
  for (let i = 0; i < boxes.length; i += 1) {
    if (boxes[i].checked) {
      chosen.push(boxes[i].value);
    }
  }
  button.disabled = true;
  showStatus('Saving the libraries\u2026');
  try {
    const settings = JSON.parse(JSON.stringify(source.settings));
    settings.libraries = chosen;
    const response = await api('PUT', '/api/v1/admin/sources/' + encodeURIComponent(source.id), {
      kind: source.kind,
      name: source.name,
      enabled: source.enabled,
      settings: settings,
    });
    source = response.body;
    showStatus(chosen.length === 0
      ? 'Saved: every library is read.'
      : 'Saved: ' + chosen.length + (chosen.length === 1 ? ' library is read.' : ' libraries are read.'));
    show(6);
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    showError('Saving the libraries failed: ' + failureText(error));
  } finally {
    button.disabled = false;
  }
}

// ---- Step 6: the addresses of the display pages ----------------------------------------------

function fillDisplayLinks() {
  const site = wizard.dataset.site || (window.location.origin + (document.body.dataset.base || ''));
  const links = document.querySelectorAll('.display-url');
  for (let i = 0; i < links.length; i += 1) {
    links[i].textContent = site + links[i].dataset.path;
  }
}

// ---- Set-up ----------------------------------------------------------------------------------

function goBack(event) {
  const target = Number(event.currentTarget.dataset.back);
  if (target < FIRST_SIGNED_IN_STEP && csrfToken) {
    showStatus('The account exists already, so the steps before this one are done.');
    return;
  }
  show(target);
}

function restoreFromHistory(event) {
  const step = event.state && event.state.step
    ? event.state.step
    : Number(new URLSearchParams(window.location.search).get('step'));
  if (step >= FIRST_SIGNED_IN_STEP && step <= STEP_COUNT) {
    show(step, { fromHistory: true });
  }
}

async function setUp() {
  field('token-form').addEventListener('submit', submitToken);
  field('account-form').addEventListener('submit', submitAccount);
  field('totp-begin').addEventListener('click', beginTotp);
  field('totp-form').addEventListener('submit', confirmTotp);
  field('recovery-copy').addEventListener('click', copyRecoveryCodes);
  field('recovery-download').addEventListener('click', downloadRecoveryCodes);
  field('totp-next').addEventListener('click', function next() { show(4); });
  field('wizard-source-form').addEventListener('submit', submitSource);
  field('source-next').addEventListener('click', continueFromSource);
  field('libraries-next').addEventListener('click', saveLibraries);
  const radios = document.querySelectorAll('input[name="kind"]');
  for (let i = 0; i < radios.length; i += 1) {
    radios[i].addEventListener('change', function kindChanged() { showKind(selectedKind()); });
  }
  const backs = document.querySelectorAll('[data-back]');
  for (let i = 0; i < backs.length; i += 1) {
    backs[i].addEventListener('click', goBack);
  }
  window.addEventListener('popstate', restoreFromHistory);
  const forms = document.querySelectorAll('.wizard form');
  for (let i = 0; i < forms.length; i += 1) {
    enableSubmit(forms[i]);
  }
  field('totp-begin').disabled = false;

  const step = currentStep();
  if (step >= FIRST_SIGNED_IN_STEP) {
    await restoreSource();
  }
  show(step, { replace: true, keepFocus: true });
  if (step === 1) {
    field('setup-token').focus();
  }
}

if (wizard && wizard.classList.contains('wizard')) {
  setUp();
}
