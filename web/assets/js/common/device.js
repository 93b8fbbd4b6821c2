/**
 * The screen's device session: the WebSocket at `api/v1/devices/ws`, pairing, commands and
 * status reports.
 *
 * One session per page. `start()` reads the stored identity and connects. A paired screen sends
 * `hello` with its id and secret, and an unpaired one requests a pairing code and shows it
 * until an admin claims it. After `welcome` the session hands the merged settings to the page,
 * sends `status` whenever the page reports a new item and every STATUS_INTERVAL_MS, and runs
 * each `command` through the handler table, then acknowledges it with `ack`.
 *
 * The session is an extra: the page shows posters without it, and nothing here throws into the
 * page. A lost connection is retried with full-jitter backoff (see reconnect.js). When the
 * socket cannot be opened SOCKET_FAILURES_BEFORE_POLLING times in a row while plain HTTP works,
 * which is what a proxy that strips `Upgrade` looks like, a paired screen switches to long
 * polling and tries the socket again every SOCKET_RETRY_WHILE_POLLING_MS.
 *
 * Test hooks: the query parameter `device_retry_ms` sets the first backoff ceiling,
 * `device=off` turns the session off, and `document.body.dataset.device` is the session state
 * (`connecting`, `pairing`, `live`, `polling` or `offline`).
 */

import { ApiError, getJson } from './api.js';
import { DeviceScreen } from './device-screen.js';
import { IdentityStore } from './device-identity.js';
import { PairingOverlay } from './pairing.js';
import { ReconnectSchedule } from './reconnect.js';
import { builtinHandlers } from './device-commands.js';
import { runTransport } from './device-transport.js';

/** Version of the display client, sent in `hello` and `status`. */
export const CLIENT_VERSION = '0.1.0';

/** Time between `status` messages while nothing changes, in milliseconds. */
const STATUS_INTERVAL_MS = 60000;
/** Time between protocol `ping` messages, in milliseconds. */
const PING_INTERVAL_MS = 30000;
/**
 * Clock samples kept from `pong` messages, newest last. The offset comes from the one with the
 * shortest round trip, whose midpoint guess errs least, and old samples leave the window so a
 * clock that was set meanwhile is followed. With a ping every 30 s this covers 4 minutes.
 */
const CLOCK_SAMPLES = 8;
/**
 * Pings sent one a second after `welcome`, so that the clock offset of a synchronised screen
 * rests on the best of several round trips from the start.
 */
const WELCOME_PINGS = 4;
const WELCOME_PING_SPACING_MS = 1000;
/** Time a `ping` may wait for any message before the socket counts as dead, in milliseconds. */
const PONG_TIMEOUT_MS = 10000;
/**
 * Commands whose acks the page keeps, so a command the server sends again is acked without
 * running twice. The server queues at most 50 commands per screen.
 */
const HANDLED_COMMANDS = 100;

/** Time a socket must stay open before the backoff starts again from its first ceiling. */
const STABLE_CONNECTION_MS = 10000;
/** Failed socket openings in a row, with HTTP working, before long polling starts. */
const SOCKET_FAILURES_BEFORE_POLLING = 3;
/** Time between socket attempts while long polling, in milliseconds. */
const SOCKET_RETRY_WHILE_POLLING_MS = 5 * 60000;
/** Maximum `user_agent` length the server accepts, in bytes; ASCII user agents are one byte per character. */
const MAX_USER_AGENT_CHARS = 500;
/** Range of the `device_retry_ms` test hook, in milliseconds. */
const RETRY_HOOK_MIN_MS = 10;
const RETRY_HOOK_MAX_MS = 1000;

function readRetryHook(search) {
  const raw = new URLSearchParams(search).get('device_retry_ms');
  const value = Number(raw);
  if (raw === null || !/^\d+$/.test(raw) || value < RETRY_HOOK_MIN_MS || value > RETRY_HOOK_MAX_MS) {
    return null;
  }
  return value;
}

/** Returns whether the page URL turns the device session off with `device=off`. */
export function deviceSessionDisabled(search) {
  return new URLSearchParams(search).get('device') === 'off';
}

export class DeviceSession {
  /**
   * @param {object} options
   * @param {string} options.mode the page's display mode, such as `screensaver`
   * @param {function(): {current_item_id: string|null, paused: boolean}} options.getStatus
   * @param {function(object): void} [options.onSettings] receives the merged settings document
   * @param {function(): void} [options.onPaired] runs after a new pairing, once the request
   *   for the device cookie has finished, so that requests made from then on carry the
   *   screen's identity when that request succeeded
   * @param {Object<string, function(object): any>} [options.handlers] command handlers by
   *   command type; they may return a promise, and a thrown error becomes a failed `ack`
   */
  constructor(options) {
    this.mode = options.mode;
    this.getStatus = options.getStatus;
    this.onSettings = options.onSettings || function ignoreSettings() {};
    this.onPaired = options.onPaired || function ignorePaired() {};
    this.identity = new IdentityStore();
    this.overlay = new PairingOverlay();
    this.screen = new DeviceScreen();
    this.schedule = new ReconnectSchedule({ baseMs: readRetryHook(window.location.search) || undefined });
    this.startedAt = Date.now();
    this.serverOffsetMs = 0;
    /** Recent `{roundTripMs, offsetMs}` measurements; see CLOCK_SAMPLES. */
    this.clockSamples = [];
    this.settings = null;
    this.deviceName = null;
    /** Whether the server accepted this screen on the current transport, so `status` may go out. */
    this.admitted = false;
    this.socket = null;
    this.socketFailures = 0;
    this.polling = null;
    this.replaced = false;
    this.suspended = false;
    this.timers = {};
    this.handlers = Object.assign(builtinHandlers(this), options.handlers || {});
    /** Promises of the acks of the commands this page ran, by id, oldest first. */
    this.handledCommands = new Map();
  }

  /** Registers or replaces the handler of one command type. */
  setHandler(type, handler) {
    this.handlers[type] = handler;
  }

  start() {
    if (typeof WebSocket !== 'function') {
      console.warn('This browser has no WebSocket: the screen runs without a device session');
      return;
    }
    const self = this;
    // A page kept in the back/forward cache would keep its socket open, and the server would
    // send this screen's commands to a page that is not on screen. So the session ends when the
    // page enters that cache and starts again when it comes back.
    window.addEventListener('pagehide', function pageHidden(event) {
      if (event.persisted) {
        self.suspend();
      }
    });
    window.addEventListener('pageshow', function pageShown(event) {
      if (event.persisted) {
        self.suspended = false;
        self.openSocket();
      }
    });
    this.openSocket();
  }

  /** Closes the socket and stops polling without planning a reconnect. */
  suspend() {
    this.suspended = true;
    this.stopPolling();
    Object.keys(this.timers).forEach(function clearNamed(name) { clearTimeout(this.timers[name]); }, this);
    this.timers = {};
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) {
      // Detached first, so a close that completes after the page came back cannot plan a
      // second connection next to the new one.
      socket.onclose = null;
      socket.onmessage = null;
      socket.close();
    }
  }

  /** Returns the server's clock in unix milliseconds, as far as the page can tell. */
  serverNowMs() {
    return Date.now() + this.serverOffsetMs;
  }

  setState(state) {
    document.body.dataset.device = state;
  }

  // The socket.

  openSocket() {
    if (this.polling === null) {
      this.setState('connecting');
    }
    const url = new URL('api/v1/devices/ws', document.baseURI);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    let socket;
    try {
      socket = new WebSocket(url.href);
    } catch (error) {
      console.warn('Opening the device socket failed: ' + error.message);
      this.socketClosed(false);
      return;
    }
    const self = this;
    let opened = false;
    socket.onopen = function socketOpened() {
      if (self.suspended) {
        socket.onclose = null;
        socket.close();
        return;
      }
      opened = true;
      self.socket = socket;
      self.socketFailures = 0;
      self.stopPolling();
      self.setTimer('stable', STABLE_CONNECTION_MS, function connectionStable() { self.schedule.reset(); });
      self.setTimer('ping', PING_INTERVAL_MS, function pingTick() { self.sendPing(); });
      self.sendHello();
    };
    socket.onmessage = function socketMessage(event) {
      if (self.socket === socket) {
        self.receive(event.data);
      }
    };
    socket.onclose = function socketClosed() {
      if (self.socket === socket || !opened) {
        self.socket = null;
        self.socketClosed(opened);
      }
    };
  }

  /** Cleans up after a socket ended or failed to open, and plans the next attempt. */
  socketClosed(opened) {
    this.admitted = this.polling !== null;
    this.clearTimer('stable');
    this.clearTimer('ping');
    this.clearTimer('pong');
    this.clearTimer('status');

    if (this.replaced || this.suspended) {
      // Another tab or window of this screen took over, and reconnecting would take it back.
      // Or the page went into the back/forward cache.
      this.setState('offline');
      return;
    }
    if (this.polling !== null) {
      // A socket attempt made while polling failed: keep polling and try again later.
      this.scheduleSocketWhilePolling();
      return;
    }

    this.setState('offline');
    if (opened || this.identity.getIdentity() === null) {
      // Polling needs an identity, so an unpaired screen only ever retries the socket.
      this.scheduleReconnect();
      return;
    }

    // A failure counts towards polling only while HTTP works, so a server that is down, for
    // example during a restart, never sends a screen to polling.
    const self = this;
    this.httpWorks().then(function decide(works) {
      if (self.suspended) {
        return;
      }
      self.socketFailures = works ? self.socketFailures + 1 : 0;
      if (self.socketFailures >= SOCKET_FAILURES_BEFORE_POLLING) {
        self.startPolling();
      } else {
        self.scheduleReconnect();
      }
    });
  }

  scheduleReconnect() {
    const self = this;
    this.setTimer('reconnect', this.schedule.nextDelayMs(), function reconnect() { self.openSocket(); });
  }

  /** Returns whether the server responds to a plain GET, even with a rejection. */
  async httpWorks() {
    try {
      await getJson('api/v1/display-settings');
      return true;
    } catch (error) {
      return error instanceof ApiError;
    }
  }

  sendHello() {
    const identity = this.identity.getIdentity();
    let auth;
    if (identity !== null) {
      auth = { method: 'device', device_id: identity.device_id, secret: identity.secret };
    } else {
      auth = { method: 'pairing' };
      const pairing = this.identity.getPairing(this.serverNowMs() / 1000);
      if (pairing !== null) {
        auth.resume = { code: pairing.code, ticket: pairing.ticket };
      }
    }
    this.send({
      type: 'hello',
      auth: auth,
      client_version: CLIENT_VERSION,
      user_agent: String(navigator.userAgent || 'unknown').slice(0, MAX_USER_AGENT_CHARS),
      screen: this.resolution(),
    });
  }

  /** Sends `count` pings one WELCOME_PING_SPACING_MS apart while the socket stays open. */
  sendClockPings(count) {
    if (count <= 0 || this.socket === null) {
      return;
    }
    this.sendPing();
    const self = this;
    this.setTimer('clock-ping', WELCOME_PING_SPACING_MS, function nextClockPing() { self.sendClockPings(count - 1); });
  }

  sendPing() {
    const self = this;
    this.send({ type: 'ping', client_time_ms: Date.now() });
    this.setTimer('pong', PONG_TIMEOUT_MS, function pongMissing() {
      console.warn('No message from the server within ' + PONG_TIMEOUT_MS / 1000 + ' s of a ping: reconnecting');
      if (self.socket !== null) {
        self.socket.close();
      }
    });
    this.setTimer('ping', PING_INTERVAL_MS, function pingTick() { self.sendPing(); });
  }

  /**
   * Sends one message over the socket or, while polling, in the next report. Returns a promise
   * that settles once the message is handed over. Messages sent while disconnected are dropped:
   * the server fails an unacknowledged command after its timeout.
   */
  send(message) {
    if (this.socket !== null && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
      return Promise.resolve();
    }
    if (this.polling !== null) {
      return this.polling.report(message);
    }
    return Promise.resolve();
  }

  // Long polling.

  startPolling() {
    if (this.polling !== null) {
      return;
    }
    console.warn('The device socket failed ' + this.socketFailures + ' times while HTTP works: switching to long polling');
    this.setState('polling');
    this.admitted = true;
    const self = this;
    this.polling = runTransport({
      credential: function credential() { return self.identity.credentialHeader(); },
      onMessage: function pollMessage(message) { self.handle(message); },
      onRejected: function pollRejected() { self.credentialsRejected(); },
      schedule: this.schedule,
    });
    this.sendStatus();
    this.scheduleSocketWhilePolling();
  }

  stopPolling() {
    if (this.polling !== null) {
      this.polling.stop();
      this.polling = null;
      this.admitted = false;
      this.clearTimer('socket-retry');
    }
  }

  scheduleSocketWhilePolling() {
    const self = this;
    this.setTimer('socket-retry', SOCKET_RETRY_WHILE_POLLING_MS, function retrySocket() { self.openSocket(); });
  }

  // Incoming messages.

  receive(text) {
    // Any message proves the server alive, so the ping deadline ends here.
    this.clearTimer('pong');
    let message;
    try {
      message = JSON.parse(text);
    } catch (error) {
      console.warn('Ignoring a device message that is not JSON: ' + error.message);
      return;
    }
    this.handle(message);
  }

  handle(message) {
    if (!message || typeof message.type !== 'string') {
      return;
    }
    switch (message.type) {
      case 'welcome':
        this.welcome(message);
        break;
      case 'pairing':
        this.showPairing(message);
        break;
      case 'paired':
        this.paired(message);
        break;
      case 'command':
        this.runCommand(message.id, message.command);
        break;
      case 'settings':
        this.applySettings(message.settings);
        break;
      case 'pong':
        this.measureClock(message);
        break;
      case 'revoked':
        this.revoked();
        break;
      case 'error':
        this.serverError(message);
        break;
      default:
        console.warn('Ignoring device message of unknown type ' + JSON.stringify(message.type));
    }
  }

  welcome(message) {
    this.overlay.hide();
    this.takeServerTime(message.server_time_ms);
    this.deviceName = message.name;
    this.admitted = true;
    document.body.dataset.deviceId = message.device_id;
    this.setState(this.polling !== null ? 'polling' : 'live');
    this.sendClockPings(WELCOME_PINGS);
    this.applySettings(message.settings);
    this.sendStatus();
  }

  showPairing(message) {
    this.setState('pairing');
    this.takeServerTime(message.server_time_ms);
    this.identity.setPairing({ code: message.code, ticket: message.ticket, expires_at: message.expires_at });
    const self = this;
    this.overlay.show({
      code: message.code,
      expiresAtMs: message.expires_at * 1000,
      claimUrl: window.location.origin + message.claim_path.replace(/\?.*$/, ''),
      serverNowMs: function serverNow() { return self.serverNowMs(); },
    });
  }

  paired(message) {
    this.identity.setIdentity(message.device_id, message.secret);
    this.overlay.hide();
    const self = this;
    this.openCookieSession().then(function cookieSet() {
      try {
        self.onPaired();
      } catch (error) {
        console.warn('The page failed to handle the new pairing: ' + error.message);
      }
    });
  }

  /**
   * Turns the credential into the HttpOnly device cookie, so image and page requests carry it
   * even where the display network rule would not let the screen in.
   */
  async openCookieSession() {
    const header = this.identity.credentialHeader();
    if (header === null) {
      return;
    }
    try {
      const response = await fetch('api/v1/devices/session', {
        method: 'POST',
        headers: { 'X-Onesheet-Device': header },
        credentials: 'same-origin',
        cache: 'no-store',
      });
      if (!response.ok) {
        console.warn('Setting the device cookie failed with HTTP ' + response.status);
      }
    } catch (error) {
      console.warn('Setting the device cookie failed: ' + error.message);
    }
  }

  applySettings(settings) {
    if (!settings || typeof settings !== 'object') {
      return;
    }
    this.settings = settings;
    this.deliverSettings(settings);
  }

  deliverSettings(settings) {
    try {
      this.onSettings(settings);
    } catch (error) {
      console.warn('The page failed to apply the device settings: ' + error.message);
    }
  }

  /**
   * Takes the server time of a message without a round trip (`welcome`, `pairing`). It is off
   * by the message's transit time, so it counts only until a `pong` has been measured.
   */
  takeServerTime(serverTimeMs) {
    if (typeof serverTimeMs === 'number' && this.clockSamples.length === 0) {
      this.serverOffsetMs = serverTimeMs - Date.now();
    }
  }

  measureClock(message) {
    if (typeof message.client_time_ms !== 'number' || typeof message.server_time_ms !== 'number') {
      return;
    }
    const now = Date.now();
    const roundTripMs = now - message.client_time_ms;
    if (roundTripMs < 0) {
      // The local clock was set back during the round trip.
      return;
    }
    // The server read its clock about halfway through the round trip.
    this.clockSamples.push({
      roundTripMs: roundTripMs,
      offsetMs: message.server_time_ms - (message.client_time_ms + now) / 2,
    });
    if (this.clockSamples.length > CLOCK_SAMPLES) {
      this.clockSamples.shift();
    }
    const best = this.clockSamples.reduce(function shorter(a, b) { return b.roundTripMs < a.roundTripMs ? b : a; });
    this.serverOffsetMs = best.offsetMs;
  }

  revoked() {
    console.warn('This screen was revoked: pairing again');
    this.identity.clearIdentity();
    this.identity.setPairing(null);
    delete document.body.dataset.deviceId;
    this.screen.setPowerOff(false);
    if (this.polling !== null) {
      // Pairing needs the socket. Over the socket, the server closes it after `revoked`, and
      // the reconnect requests a new code.
      this.stopPolling();
      this.scheduleReconnect();
    }
  }

  credentialsRejected() {
    console.warn('The server rejected this screen\'s credentials: pairing again');
    this.revoked();
  }

  serverError(message) {
    console.warn('Device session error ' + message.code + ': ' + message.message);
    if (message.code === 'invalid-credentials') {
      this.identity.clearIdentity();
    } else if (message.code === 'pairing-expired') {
      this.identity.setPairing(null);
      this.overlay.hide();
    } else if (message.code === 'replaced') {
      this.replaced = true;
    }
  }

  // Status.

  resolution() {
    const ratio = window.devicePixelRatio || 1;
    return {
      width: Math.round(window.innerWidth * ratio),
      height: Math.round(window.innerHeight * ratio),
    };
  }

  /** Sends the current status now, and again every STATUS_INTERVAL_MS while nothing changes. */
  sendStatus() {
    if (!this.admitted) {
      return;
    }
    let page;
    try {
      page = this.getStatus();
    } catch (error) {
      console.warn('Reading the page status failed: ' + error.message);
      return;
    }
    this.send({
      type: 'status',
      current_item_id: page.current_item_id || null,
      mode: this.mode,
      paused: !!page.paused,
      resolution: this.resolution(),
      version: CLIENT_VERSION,
      uptime_seconds: Math.floor((Date.now() - this.startedAt) / 1000),
    });
    const self = this;
    this.setTimer('status', STATUS_INTERVAL_MS, function statusTick() { self.sendStatus(); });
  }

  // Commands.

  async runCommand(id, command) {
    // The server sends a command again after a reconnect until its ack arrives, and the ack
    // may have been lost with the old connection. A command that ran already is acked again
    // instead of run twice, so `next` never skips two posters.
    // The entry is the promise of the ack, so a copy that arrives while the command still
    // runs waits for it instead of running it again.
    const earlier = this.handledCommands.get(id);
    if (earlier !== undefined) {
      await this.send(await earlier);
      return;
    }
    const ack = this.executeCommand(id, command);
    this.handledCommands.set(id, ack);
    if (this.handledCommands.size > HANDLED_COMMANDS) {
      this.handledCommands.delete(this.handledCommands.keys().next().value);
    }
    await ack;
  }

  /** Runs one command, sends its ack and returns that ack. */
  async executeCommand(id, command) {
    const type = command && typeof command.type === 'string' ? command.type : null;
    const handler = type !== null ? this.handlers[type] : null;
    if (typeof handler !== 'function') {
      const unsupported = { type: 'ack', id: id, ok: false, error: 'unsupported command ' + JSON.stringify(type) + ' on the ' + this.mode + ' page' };
      await this.send(unsupported);
      return unsupported;
    }
    let result;
    try {
      result = await handler(command);
    } catch (error) {
      const text = error && error.message ? error.message : String(error);
      const failed = { type: 'ack', id: id, ok: false, error: text.slice(0, 1000) };
      await this.send(failed);
      return failed;
    }
    const done = { type: 'ack', id: id, ok: true };
    await this.send(done);
    if (result && typeof result.afterAck === 'function') {
      // Leaves the socket time to write the ack before the page goes away.
      this.setTimer('after-ack', 300, result.afterAck);
    }
    return done;
  }

  // Timers, one per name, so that a rescheduled timer replaces the old one.

  setTimer(name, delayMs, callback) {
    this.clearTimer(name);
    const self = this;
    this.timers[name] = setTimeout(function runTimer() {
      delete self.timers[name];
      callback();
    }, delayMs);
  }

  clearTimer(name) {
    if (this.timers[name] !== undefined) {
      clearTimeout(this.timers[name]);
      delete this.timers[name];
    }
  }
}
