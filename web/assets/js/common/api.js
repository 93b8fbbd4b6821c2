/**
 * GET requests to the Onesheet JSON API.
 *
 * Callers pass URLs relative to the page (`api/v1/playlist`), so the same code works when the
 * site is served under a base path such as `/posters`. Failures come in two kinds because a
 * display page reacts to them differently:
 * - ServerUnreachableError: no usable response (network failure, timeout, 5xx from the server or a
 *   proxy, 408, 429, a body that is not JSON). Keep showing what is loaded and retry later.
 * - ApiError: the server rejected the request (other 4xx, with the JSON error body). Repeating
 *   the same request will not help.
 */

/** Time limit for one request including its body, in milliseconds. */
const REQUEST_TIMEOUT_MS = 10000;

export class ServerUnreachableError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ServerUnreachableError';
  }
}

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status code
   * @param {object|null} body parsed `{"error": {...}}` body, when the response had one
   */
  constructor(status, body) {
    const detail = body && body.error ? body.error : {};
    super(detail.message || 'request rejected with HTTP ' + status);
    this.name = 'ApiError';
    this.status = status;
    this.code = detail.code || 'http-' + status;
    this.field = detail.field || null;
    this.requestId = detail.request_id || null;
  }
}

/** Returns whether a status means "try again later" rather than "this request is wrong". */
function isRetryableStatus(status) {
  return status >= 500 || status === 408 || status === 429;
}

/**
 * Sends a GET request and parses the JSON body.
 *
 * With `options.etag` the request is conditional (If-None-Match), and a 304 resolves with a
 * null body. The browser cache is bypassed so that a 304 reaches this code instead of being
 * turned into a cached 200.
 *
 * @param {string} url URL relative to the page
 * @param {{etag?: string|null, timeoutMs?: number}} [options]
 * @returns {Promise<{status: number, etag: string|null, body: any}>}
 * @throws {ServerUnreachableError|ApiError}
 */
export async function getJson(url, options) {
  const settings = options || {};
  const headers = { Accept: 'application/json' };
  if (settings.etag) {
    headers['If-None-Match'] = settings.etag;
  }

  // Some older TV browsers lack AbortController, and there the request has no time limit.
  const controller = typeof AbortController === 'function' ? new AbortController() : null;
  const timer = controller
    ? setTimeout(function abortRequest() { controller.abort(); }, settings.timeoutMs || REQUEST_TIMEOUT_MS)
    : null;

  try {
    let response;
    try {
      response = await fetch(url, {
        method: 'GET',
        headers: headers,
        cache: 'no-store',
        credentials: 'same-origin',
        signal: controller ? controller.signal : undefined,
      });
    } catch (error) {
      throw new ServerUnreachableError('GET ' + url + ' failed: ' + error.message);
    }

    const etag = response.headers.get('ETag');
    if (response.status === 304) {
      return { status: 304, etag: etag || settings.etag || null, body: null };
    }
    if (isRetryableStatus(response.status)) {
      throw new ServerUnreachableError('GET ' + url + ' returned HTTP ' + response.status);
    }

    let body;
    try {
      body = await response.json();
    } catch (error) {
      // A 4xx without a JSON body is still a rejection. A 2xx without one comes from a proxy
      // or captive portal, not from our server.
      if (!response.ok) {
        throw new ApiError(response.status, null);
      }
      throw new ServerUnreachableError('GET ' + url + ' returned a body that is not JSON');
    }
    if (!response.ok) {
      throw new ApiError(response.status, body);
    }
    return { status: response.status, etag: etag, body: body };
  } finally {
    if (timer !== null) {
      clearTimeout(timer);
    }
  }
}
