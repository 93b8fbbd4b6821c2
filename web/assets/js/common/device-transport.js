/**
 * The long-poll fallback of the device session, for screens behind a proxy that strips the
 * WebSocket `Upgrade` header.
 *
 * `GET api/v1/devices/poll` waits up to 25 s on the server and returns `{"messages": [...]}`
 * with the same messages the socket would carry: `settings` first, then queued commands. Until
 * one poll succeeds, the transport adds `?welcome=true`. The server then returns at once, with
 * `welcome` in place of `settings`, so the session learns the screen's name and the server's
 * clock as it does over the socket. `POST api/v1/devices/poll` takes
 * `{"messages": [...]}` with the screen's `status` and `ack` messages. Both authenticate with
 * the `X-Onesheet-Device` header.
 */

/** Time limit of one poll: the server's 25 s wait plus room for a slow network. */
const POLL_TIMEOUT_MS = 40000;
/** Time limit of one report, in milliseconds. */
const REPORT_TIMEOUT_MS = 10000;
/** Maximum messages per report, as the server accepts them. */
const MAX_REPORT_MESSAGES = 50;

async function fetchWithTimeout(url, init, timeoutMs) {
  const controller = typeof AbortController === 'function' ? new AbortController() : null;
  const timer = controller
    ? setTimeout(function abortRequest() { controller.abort(); }, timeoutMs)
    : null;
  try {
    return await fetch(url, Object.assign({ signal: controller ? controller.signal : undefined }, init));
  } finally {
    if (timer !== null) {
      clearTimeout(timer);
    }
  }
}

function sleep(milliseconds) {
  return new Promise(function wait(resolve) { setTimeout(resolve, milliseconds); });
}

/**
 * Starts polling and returns `{report(message): Promise, stop()}`.
 * @param {object} options
 * @param {function(): string|null} options.credential the `X-Onesheet-Device` value
 * @param {function(object): void} options.onMessage receives each server message
 * @param {function(): void} options.onRejected called once when the server rejects the
 *   credential; polling has stopped then
 * @param {{nextDelayMs: function(): number, reset: function(): void}} options.schedule retry delays
 */
export function runTransport(options) {
  let stopped = false;
  let welcomed = false;
  let queue = [];
  let flushing = null;

  function headers(extra) {
    return Object.assign({ Accept: 'application/json', 'X-Onesheet-Device': options.credential() || '' }, extra || {});
  }

  async function pollOnce() {
    const url = welcomed ? 'api/v1/devices/poll' : 'api/v1/devices/poll?welcome=true';
    const response = await fetchWithTimeout(url, {
      method: 'GET',
      headers: headers(),
      cache: 'no-store',
      credentials: 'same-origin',
    }, POLL_TIMEOUT_MS);
    if (response.status === 401) {
      return 'rejected';
    }
    if (!response.ok) {
      throw new Error('GET ' + url + ' returned HTTP ' + response.status);
    }
    const body = await response.json();
    welcomed = true;
    const messages = body && Array.isArray(body.messages) ? body.messages : [];
    messages.forEach(function deliver(message) {
      if (!stopped) {
        options.onMessage(message);
      }
    });
    return 'ok';
  }

  async function loop() {
    while (!stopped) {
      let outcome;
      try {
        outcome = await pollOnce();
      } catch (error) {
        console.warn('Device poll failed, retrying with backoff: ' + error.message);
        await sleep(options.schedule.nextDelayMs());
        continue;
      }
      if (outcome === 'rejected') {
        stopped = true;
        options.onRejected();
        return;
      }
      options.schedule.reset();
    }
  }

  async function flush() {
    const batch = queue.slice(0, MAX_REPORT_MESSAGES);
    queue = queue.slice(batch.length);
    try {
      const response = await fetchWithTimeout('api/v1/devices/poll', {
        method: 'POST',
        headers: headers({ 'Content-Type': 'application/json' }),
        body: JSON.stringify({ messages: batch }),
        cache: 'no-store',
        credentials: 'same-origin',
      }, REPORT_TIMEOUT_MS);
      if (!response.ok) {
        console.warn('Device report rejected with HTTP ' + response.status);
      }
    } catch (error) {
      // Status reports repeat on their own, and the server fails an unacknowledged command.
      console.warn('Device report failed, dropping ' + batch.length + ' messages: ' + error.message);
    }
  }

  loop();

  return {
    /** Queues a message for the next report and returns a promise that settles once it is sent. */
    report: function report(message) {
      queue.push(message);
      if (flushing === null) {
        // Messages queued in the same turn of the event loop go out in one request.
        flushing = Promise.resolve().then(async function sendQueued() {
          while (queue.length > 0 && !stopped) {
            await flush();
          }
          flushing = null;
        });
      }
      return flushing;
    },
    stop: function stop() {
      stopped = true;
    },
  };
}
