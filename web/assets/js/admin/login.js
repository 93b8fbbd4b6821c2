/**
 * The sign-in page: sends the password form to `POST /api/v1/auth/login`, then, for an account
 * with two-factor sign-in, the code to `POST /api/v1/auth/second-factor`, and opens the page in
 * the form's `data-next`, which the server has already checked.
 *
 * Test hook: `document.body.dataset.login` is "password", "second-factor" or "done".
 */

import { RequestError, sendJson } from './api.js';
import { enableSubmit, markBusy, setFieldError, showError, showStatus } from './form.js';

/** A TOTP code: six digits, with spaces an app may show between them. */
const TOTP_CODE = /^[0-9]{6}$/;

const loginForm = document.getElementById('login-form');
const factorForm = document.getElementById('second-factor-form');

/** CSRF token of the session that waits for its second factor. */
let pendingCsrfToken = null;

function setStep(step) {
  document.body.dataset.login = step;
}

function finishSignIn() {
  setStep('done');
  showStatus('Signed in. Opening the next page\u2026');
  window.location.assign(loginForm.dataset.next);
}

/** Returns the message for a rejected sign-in step, with what to do next. */
function failureMessage(error) {
  if (error.status === 429 && error.retryAfterSeconds) {
    return error.message + ' Try again in ' + error.retryAfterSeconds + ' seconds.';
  }
  return error.message;
}

async function submitPassword(event) {
  event.preventDefault();
  const username = loginForm.elements.username.value.trim();
  const password = loginForm.elements.password.value;
  setFieldError('username', '');
  setFieldError('password', '');
  if (!username || !password) {
    showError(!username ? 'Enter your user name.' : 'Enter your password.');
    (username ? loginForm.elements.password : loginForm.elements.username).focus();
    return;
  }

  const notBusy = markBusy(loginForm, 'Signing in\u2026');
  showStatus('Signing in\u2026');
  try {
    const response = await sendJson('POST', '/api/v1/auth/login', {
      username: username,
      password: password,
      remember: loginForm.elements.remember.checked,
    }, null);
    if (response.body && response.body.status === 'second-factor-required') {
      pendingCsrfToken = response.body.csrf_token;
      loginForm.hidden = true;
      factorForm.hidden = false;
      setStep('second-factor');
      showStatus('Password accepted. Enter the code from your authenticator app.');
      factorForm.elements.code.focus();
      return;
    }
    finishSignIn();
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    showError(failureMessage(error));
    loginForm.elements.password.select();
    loginForm.elements.password.focus();
  } finally {
    notBusy();
  }
}

async function submitSecondFactor(event) {
  event.preventDefault();
  const typed = factorForm.elements.code.value.trim();
  setFieldError('second-factor-code', '');
  if (!typed) {
    showError('Enter the six-digit code from your authenticator app, or a recovery code.');
    factorForm.elements.code.focus();
    return;
  }
  const digits = typed.replace(/\s/g, '');
  const body = TOTP_CODE.test(digits) ? { code: digits } : { recovery_code: typed };

  const notBusy = markBusy(factorForm, 'Checking\u2026');
  showStatus('Checking the code\u2026');
  try {
    await sendJson('POST', '/api/v1/auth/second-factor', body, pendingCsrfToken);
    finishSignIn();
  } catch (error) {
    if (!(error instanceof RequestError)) {
      throw error;
    }
    if (error.status === 401 && (error.code === 'unauthorized' || error.code === 'not-signed-in')) {
      // The half-finished session expired: start over with the password.
      factorForm.hidden = true;
      loginForm.hidden = false;
      setStep('password');
      showError('The sign-in took too long and expired. Enter your password again.');
      loginForm.elements.password.value = '';
      loginForm.elements.password.focus();
      return;
    }
    showError(failureMessage(error));
    factorForm.elements.code.select();
    factorForm.elements.code.focus();
  } finally {
    notBusy();
  }
}

if (loginForm && factorForm) {
  loginForm.addEventListener('submit', submitPassword);
  factorForm.addEventListener('submit', submitSecondFactor);
  enableSubmit(loginForm);
  enableSubmit(factorForm);
  setStep('password');
  loginForm.elements.username.focus();
}
