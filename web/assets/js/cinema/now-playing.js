/**
 * Now playing: polls `api/v1/now-playing` and picks the session the cinema page shows in place
 * of the rotation.
 *
 * The server applies this screen's player and user lists, so every session in the response
 * may drive the screen. Polls go through the page's Connection, so an unreachable server
 * turns the page offline and its backoff decides when the next request goes out.
 */

import { ApiError, ServerUnreachableError, getJson } from '../common/api.js';

/** Time between two polls, in milliseconds. */
export const POLL_INTERVAL_MS = 5000;

const STATES = ['playing', 'paused', 'buffering'];

/**
 * Returns the session that drives the screen: the first one that plays or buffers, else the
 * first paused one, else null. Sessions without a title or a known state are left out.
 */
export function pickSession(sessions) {
  const valid = Array.isArray(sessions)
    ? sessions.filter(function isValid(session) {
      return session !== null && typeof session === 'object'
        && typeof session.title === 'string' && STATES.indexOf(session.state) !== -1
        && typeof session.position_ms === 'number' && session.position_ms >= 0;
    })
    : [];
  for (let i = 0; i < valid.length; i += 1) {
    if (valid[i].state !== 'paused') {
      return valid[i];
    }
  }
  return valid.length > 0 ? valid[0] : null;
}

/**
 * Returns the playback position in milliseconds at `serverNowMs`: the reported position,
 * advanced by the time since the server's report only while the session plays, and never
 * past the end of the item.
 *
 * @param {object} session a session from the response
 * @param {number} reportedAtMs `server_time_ms` of the response
 * @param {number} serverNowMs the current time by the server's clock
 */
export function playbackPosition(session, reportedAtMs, serverNowMs) {
  let position = session.position_ms;
  if (session.state === 'playing') {
    position += Math.max(0, serverNowMs - reportedAtMs);
  }
  if (typeof session.duration_ms === 'number' && session.duration_ms > 0) {
    position = Math.min(position, session.duration_ms);
  }
  return position;
}

/** Formats milliseconds as `h:mm:ss`, or `m:ss` under an hour. */
export function formatDuration(milliseconds) {
  const totalSeconds = Math.max(0, Math.ceil(milliseconds / 1000));
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const paddedSeconds = seconds < 10 ? '0' + seconds : String(seconds);
  if (hours > 0) {
    const paddedMinutes = minutes < 10 ? '0' + minutes : String(minutes);
    return hours + ':' + paddedMinutes + ':' + paddedSeconds;
  }
  return minutes + ':' + paddedSeconds;
}

export class NowPlayingPoller {
  /**
   * @param {object} options
   * @param {import('../common/connection.js').Connection} options.connection
   * @param {function(object|null, number): void} options.onUpdate called after every successful
   *   poll with the session to show (or null) and the response's `server_time_ms`
   */
  constructor(options) {
    this.connection = options.connection;
    this.onUpdate = options.onUpdate;
    this.timer = null;
    this.running = false;
    /** Counts starts, so a poll still in flight from before a stop does not schedule another. */
    this.generation = 0;
  }

  /** Starts polling at once, unless it already runs. */
  start() {
    if (this.running) {
      return;
    }
    this.running = true;
    this.generation += 1;
    this.poll(this.generation);
  }

  /** Stops polling and reports that no session is shown. */
  stop() {
    if (!this.running) {
      return;
    }
    this.running = false;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.onUpdate(null, 0);
  }

  async poll(generation) {
    this.timer = null;
    // While offline, the connection's retry timer probes the server, so this poll is skipped
    // and the last response stays on screen.
    if (this.connection.isOnline()) {
      try {
        const response = await this.connection.request(function fetchSessions() {
          return getJson('api/v1/now-playing');
        });
        const body = response.body && typeof response.body === 'object' ? response.body : {};
        const reportedAt = typeof body.server_time_ms === 'number' ? body.server_time_ms : Date.now();
        if (this.isCurrent(generation)) {
          this.onUpdate(pickSession(body.sessions), reportedAt);
        }
      } catch (error) {
        if (error instanceof ApiError) {
          console.warn('Now-playing request rejected (' + error.code + ', request id ' + error.requestId + '):', error.message);
        } else if (!(error instanceof ServerUnreachableError)) {
          console.warn('Now-playing poll failed:', error);
        }
      }
    }
    if (this.isCurrent(generation)) {
      const self = this;
      this.timer = setTimeout(function nextPoll() { self.poll(generation); }, POLL_INTERVAL_MS);
    }
  }

  isCurrent(generation) {
    return this.running && generation === this.generation;
  }
}
