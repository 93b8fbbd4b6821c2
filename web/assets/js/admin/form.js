/**
 * Feedback on the admin forms: the live status and error lines below a form, errors beside
 * single fields, and the busy state of a submit button.
 *
 * The page markup provides `#form-status` (role=status) and `#form-error` (role=alert), and
 * for a field `#ID` an optional `#ID-error` that the field's `aria-describedby` names.
 */

/** Shows a progress or success message and clears the error line. */
export function showStatus(text) {
  const status = document.getElementById('form-status');
  const error = document.getElementById('form-error');
  if (error) {
    error.hidden = true;
    error.textContent = '';
  }
  if (status) {
    status.textContent = text;
  }
}

/** Shows an error message, which screen readers announce at once, and clears the status line. */
export function showError(text) {
  const status = document.getElementById('form-status');
  const error = document.getElementById('form-error');
  if (status) {
    status.textContent = '';
  }
  if (error) {
    error.textContent = text;
    error.hidden = false;
  }
}

/** Marks field `id` as invalid with `text`, or as valid when `text` is empty. */
export function setFieldError(id, text) {
  const field = document.getElementById(id);
  const message = document.getElementById(id + '-error');
  if (field) {
    if (text) {
      field.setAttribute('aria-invalid', 'true');
    } else {
      field.removeAttribute('aria-invalid');
    }
  }
  if (message) {
    message.textContent = text || '';
    message.hidden = !text;
  }
}

/**
 * Disables the form's submit button and shows `label` on it until the returned function is
 * called, so a slow request cannot be sent twice.
 */
export function markBusy(form, label) {
  const button = form.querySelector('button[type="submit"]');
  if (!button) {
    return function notBusy() {};
  }
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

/** Enables the submit buttons, which the markup disables until this module runs. */
export function enableSubmit(form) {
  const buttons = form.querySelectorAll('button[type="submit"]');
  for (let i = 0; i < buttons.length; i += 1) {
    buttons[i].disabled = false;
  }
}
