/**
 * Reachability of the Onesheet server, and the retry loop while it is unreachable.
 *
 * Requests made through `request()` mark the connection offline when they fail with
 * ServerUnreachableError. While offline, `request()` fails at once without touching the network,
 * and a single retry timer runs the probe with backoff until the server responds. So an offline
 * screen sends at most one request per backoff delay, however many parts of the page want data.
 */

import { ServerUnreachableError } from './api.js';
import { Backoff } from './backoff.js';

export class Connection {
  /**
   * @param {object} options
   * @param {function(): Promise<any>} options.probe request that proves the server is back;
   *   it must throw ServerUnreachableError while the server is unreachable
   * @param {function(boolean): void} options.onChange called with the new state on every change
   * @param {Backoff} [options.backoff]
   */
  constructor(options) {
    this.probe = options.probe;
    this.onChange = options.onChange;
    this.backoff = options.backoff || new Backoff();
    this.online = true;
    this.retryTimer = null;
  }

  isOnline() {
    return this.online;
  }

  /**
   * Runs `send` unless the server is known to be unreachable, and marks the connection
   * offline when it fails with ServerUnreachableError. Other errors pass through unchanged.
   */
  async request(send) {
    if (!this.online) {
      throw new ServerUnreachableError('server unreachable, waiting for the next retry');
    }
    try {
      return await send();
    } catch (error) {
      if (error instanceof ServerUnreachableError) {
        this.markOffline(error);
      }
      throw error;
    }
  }

  /** Switches to offline and starts the retry timer, unless already offline. */
  markOffline(error) {
    if (!this.online) {
      return;
    }
    console.warn('Onesheet server unreachable, retrying with backoff:', error.message);
    this.online = false;
    this.onChange(false);
    this.scheduleRetry();
  }

  scheduleRetry() {
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
    }
    const self = this;
    this.retryTimer = setTimeout(function retry() { self.retry(); }, this.backoff.nextDelayMs());
  }

  async retry() {
    this.retryTimer = null;
    try {
      await this.probe();
    } catch (error) {
      if (error instanceof ServerUnreachableError) {
        this.scheduleRetry();
        return;
      }
      // Any other error is a response from the server, so it is reachable again.
      console.warn('Onesheet server responded to the retry with an error:', error.message);
    }
    console.info('Onesheet server reachable again');
    this.backoff.reset();
    this.online = true;
    this.onChange(true);
  }
}
