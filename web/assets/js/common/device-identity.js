/**
 * The screen's device identity and pending pairing code, kept in localStorage so that they
 * survive reloads and restarts of the browser.
 *
 * Storage can be missing or throw (private windows, full quota, some TV browsers). Then the
 * values live only as long as the page, and the screen pairs again after a reload.
 */

const IDENTITY_KEY = 'onesheet.device';
const PAIRING_KEY = 'onesheet.pairing';

function readJson(key) {
  try {
    const raw = window.localStorage.getItem(key);
    return raw === null ? null : JSON.parse(raw);
  } catch (error) {
    console.warn('Cannot read ' + key + ' from localStorage: ' + error.message);
    return null;
  }
}

function writeJson(key, value) {
  try {
    if (value === null) {
      window.localStorage.removeItem(key);
    } else {
      window.localStorage.setItem(key, JSON.stringify(value));
    }
  } catch (error) {
    console.warn('Cannot write ' + key + ' to localStorage: ' + error.message);
  }
}

function isNonEmptyString(value) {
  return typeof value === 'string' && value.length > 0;
}

export class IdentityStore {
  constructor() {
    // The in-memory copies stand in when localStorage fails.
    this.identity = null;
    this.pairing = null;
    const identity = readJson(IDENTITY_KEY);
    if (identity && isNonEmptyString(identity.device_id) && isNonEmptyString(identity.secret)) {
      this.identity = { device_id: identity.device_id, secret: identity.secret };
    }
    const pairing = readJson(PAIRING_KEY);
    if (pairing && isNonEmptyString(pairing.code) && isNonEmptyString(pairing.ticket)
      && typeof pairing.expires_at === 'number') {
      this.pairing = pairing;
    }
  }

  /** Returns `{device_id, secret}`, or null for a screen that has not been paired. */
  getIdentity() {
    return this.identity;
  }

  setIdentity(deviceId, secret) {
    this.identity = { device_id: deviceId, secret: secret };
    writeJson(IDENTITY_KEY, this.identity);
    this.setPairing(null);
  }

  clearIdentity() {
    this.identity = null;
    writeJson(IDENTITY_KEY, null);
  }

  /**
   * Returns `{code, ticket, expires_at}` of the code shown before a reconnect, or null when
   * there is none or it expired. `nowSeconds` is the page's estimate of the server's clock.
   */
  getPairing(nowSeconds) {
    if (this.pairing !== null && this.pairing.expires_at <= nowSeconds) {
      this.setPairing(null);
    }
    return this.pairing;
  }

  /** Stores the code and ticket of a `pairing` message, or clears them with null. */
  setPairing(pairing) {
    this.pairing = pairing;
    writeJson(PAIRING_KEY, pairing);
  }

  /** Returns the `X-Onesheet-Device` header value, or null without an identity. */
  credentialHeader() {
    return this.identity ? this.identity.device_id + ':' + this.identity.secret : null;
  }
}
