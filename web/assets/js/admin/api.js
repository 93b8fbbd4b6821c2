/**
 * JSON requests from the admin pages to the admin and sign-in API.
 *
 * URLs are built on the base path that the server writes into `<body data-base>`, because the
 * admin pages sit at different depths below it. Every failure becomes a RequestError whose
 * message names what failed and what to do, ready to show to the person at the form.
 */

/** Time limit for one request including its body, in milliseconds. */
const REQUEST_TIMEOUT_MS = 15000;

export class RequestError extends Error {
  /**
   * @param {string} message sentence for the person at the form
   * @param {{status?: number, code?: string, field?: string|null, fields?: Array, retryAfterSeconds?: number|null}} [details]
   */
  constructor(message, details) {
    super(message);
    const facts = details || {};
    this.name = 'RequestError';
    this.status = facts.status || 0;
    this.code = facts.code || 'network';
    this.field = facts.field || null;
    this.fields = facts.fields || [];
    this.retryAfterSeconds = facts.retryAfterSeconds || null;
  }
}

/** Returns the site's base path, such as `/posters`, or an empty string at the root. */
export function basePath() {
  return document.body.dataset.base || '';
}

/** Returns the absolute path of `path` (which starts with `/`) below the base path. */
export function sitePath(path) {
  return basePath() + path;
}

/** Returns the message of a JSON error body, starting with a capital letter. */
function errorMessage(status, body) {
  const message = body && body.error && body.error.message;
  if (!message) {
    return 'The server rejected the request with HTTP ' + status + '. Reload the page and try again.';
  }
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/**
 * Sends a request with an optional JSON body and returns the parsed JSON response.
 *
 * @param {string} method HTTP method
 * @param {string} path path below the base path, such as `/api/v1/auth/login`
 * @param {object|null} body JSON body, or null for none
 * @param {string|null} csrfToken the session's CSRF token, sent as `X-CSRF-Token` when given
 * @returns {Promise<{status: number, body: any}>}
 * @throws {RequestError}
 */
export async function sendJson(method, path, body, csrfToken) {
  const headers = { Accept: 'application/json' };
  if (body !== null) {
    headers['Content-Type'] = 'application/json';
  }
  if (csrfToken) {
    headers['X-CSRF-Token'] = csrfToken;
  }
  const controller = typeof AbortController === 'function' ? new AbortController() : null;
  const timer = controller
    ? setTimeout(function abortRequest() { controller.abort(); }, REQUEST_TIMEOUT_MS)
    : null;

  let response;
  let parsed = null;
  try {
    response = await fetch(sitePath(path), {
      method: method,
      headers: headers,
      body: body === null ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'same-origin',
      signal: controller ? controller.signal : undefined,
    });
    if (response.status !== 204) {
      parsed = await response.json().catch(function notJson() { return null; });
    }
  } catch (error) {
    if (error.name === 'AbortError') {
      throw new RequestError('The server did not respond within ' + REQUEST_TIMEOUT_MS / 1000
        + ' seconds. Check the connection and try again.');
    }
    throw new RequestError(
      'The server could not be reached (' + error.message + '). Check the connection and try again.'
    );
  } finally {
    if (timer !== null) {
      clearTimeout(timer);
    }
  }

  if (response.ok) {
    return { status: response.status, body: parsed };
  }
  const detail = parsed && parsed.error ? parsed.error : {};
  const retryAfter = parseInt(response.headers.get('Retry-After') || '', 10);
  throw new RequestError(errorMessage(response.status, parsed), {
    status: response.status,
    code: detail.code || 'http-' + response.status,
    field: detail.field || null,
    fields: detail.fields || [],
    retryAfterSeconds: isNaN(retryAfter) ? null : retryAfter,
  });
}
