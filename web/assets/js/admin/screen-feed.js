/**
 * Helpers of the screens table and the screen page: the live device event stream
 * (`GET /api/v1/admin/devices/events`), the status a screen is shown with, and time labels.
 */

import { sitePath } from './api.js';
import { request } from './shell.js';

/** Delay before reopening a stream that the browser gave up on, in milliseconds. */
const REOPEN_DELAY_MS = 5000;

export const STATUS_LABELS = {
  online: 'Online',
  offline: 'Offline',
  frozen: 'Frozen',
  revoked: 'Revoked',
  merged: 'Merged',
};

/**
 * Returns the status shown for a device of the admin API: revoked or merged records first,
 * then a frozen screen, then online while it has a socket or polls, else offline.
 */
export function screenStatus(device) {
  if (device.merged_into) {
    return 'merged';
  }
  if (device.revoked_at) {
    return 'revoked';
  }
  if (device.frozen) {
    return 'frozen';
  }
  return device.transport ? 'online' : 'offline';
}

/** Returns the class of the status badge, one of the admin stylesheet's badge colours. */
export function statusBadgeClass(status) {
  if (status === 'online') {
    return 'badge ok';
  }
  if (status === 'frozen') {
    return 'badge warning';
  }
  if (status === 'revoked' || status === 'merged') {
    return 'badge failing';
  }
  return 'badge';
}

/** Returns "12 s ago", "5 min ago" and the like for unix seconds `at`, or "never". */
export function ago(at) {
  if (!at) {
    return 'never';
  }
  const seconds = Math.max(0, Math.round(Date.now() / 1000 - at));
  if (seconds < 60) {
    return seconds + ' s ago';
  }
  if (seconds < 3600) {
    return Math.floor(seconds / 60) + ' min ago';
  }
  if (seconds < 86400) {
    return Math.floor(seconds / 3600) + ' h ago';
  }
  return Math.floor(seconds / 86400) + ' d ago';
}

/** Returns unix seconds `at` as a local date and time, for a `title` or a table cell. */
export function localTime(at) {
  return at ? new Date(at * 1000).toLocaleString() : '';
}

/**
 * Opens the device event stream and calls `handlers.device(row)`, `handlers.removed(id)`,
 * `handlers.command({device_id, command_id, ok})`, `handlers.resync()` and
 * `handlers.state(text, open)`. `handlers.opened()` runs at every connect and reconnect, when
 * the caller reloads what it shows, because changes made while the stream was closed are not
 * replayed.
 *
 * @param {string|null} deviceId the only device to follow, or null for all
 */
export function openFeed(deviceId, handlers) {
  let path = '/api/v1/admin/devices/events';
  if (deviceId) {
    path += '?device=' + encodeURIComponent(deviceId);
  }

  function parsed(event) {
    try {
      return JSON.parse(event.data);
    } catch (error) {
      return null;
    }
  }

  function connect() {
    const source = new EventSource(sitePath(path));
    source.addEventListener('open', function onOpen() {
      handlers.state('Live: changes appear as they happen.', true);
      handlers.opened();
    });
    source.addEventListener('device', function onDevice(event) {
      const row = parsed(event);
      if (row) {
        handlers.device(row);
      }
    });
    source.addEventListener('removed', function onRemoved(event) {
      const data = parsed(event);
      if (data) {
        handlers.removed(data.id);
      }
    });
    source.addEventListener('command', function onCommand(event) {
      const data = parsed(event);
      if (data) {
        handlers.command(data);
      }
    });
    source.addEventListener('resync', function onResync() {
      handlers.resync();
    });
    source.addEventListener('error', function onError() {
      if (source.readyState !== EventSource.CLOSED) {
        handlers.state('Live feed interrupted: reconnecting\u2026', false);
        return;
      }
      // The server responded with an error instead of a stream: an ended session (the request
      // below then opens the sign-in page), a full server, or devices switched off.
      handlers.state('Live feed unavailable: retrying in ' + REOPEN_DELAY_MS / 1000
        + ' s. The table may be out of date until then.', false);
      request('GET', '/api/v1/auth/session').catch(function ignore() {});
      setTimeout(connect, REOPEN_DELAY_MS);
    });
  }

  connect();
}
