/**
 * The commands every display page handles the same way: identify, power, reload, clear cache,
 * navigate and apply settings. A page adds its own (next, previous, pause, resume) on top.
 *
 * A handler may return `{afterAck: function}`, which the session runs once the `ack` went out,
 * for commands that leave the page.
 */

/** Display modes that `navigate` accepts, which are also the page paths. */
const MODES = ['screensaver', 'wallart', 'cinema'];

/**
 * Returns the handler table of the built-in commands, keyed by command type.
 * @param {import('./device.js').DeviceSession} session
 */
export function builtinHandlers(session) {
  return {
    identify: function identify() { session.screen.identify(session.deviceName); },
    power_off: function powerOff() { session.screen.setPowerOff(true); },
    power_on: function powerOn() { session.screen.setPowerOff(false); },
    reload: function reload() {
      return { afterAck: function reloadPage() { window.location.reload(); } };
    },
    clear_cache: async function clearCache() {
      // The browser's HTTP cache cannot be cleared from a page: this drops the Cache Storage
      // entries, and the reload fetches the page again.
      if (window.caches && typeof window.caches.keys === 'function') {
        const names = await window.caches.keys();
        await Promise.all(names.map(function drop(name) { return window.caches.delete(name); }));
      }
      return { afterAck: function reloadPage() { window.location.reload(); } };
    },
    navigate: function navigate(command) {
      if (MODES.indexOf(command.mode) === -1) {
        throw new Error('unknown display mode ' + JSON.stringify(command.mode));
      }
      if (command.mode === session.mode) {
        return null;
      }
      const target = new URL(command.mode, document.baseURI);
      target.search = window.location.search;
      return { afterAck: function openMode() { window.location.assign(target.href); } };
    },
    apply_settings: function applyOverrides(command) {
      if (session.settings === null) {
        throw new Error('no settings to apply the overrides to yet');
      }
      session.deliverSettings(deepMerge(session.settings, command.overrides || {}));
    },
  };
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Returns `base` with `overrides` laid over it: objects merge key by key, and any other value,
 * arrays included, replaces the one below. Neither argument is changed.
 */
export function deepMerge(base, overrides) {
  if (!isPlainObject(base) || !isPlainObject(overrides)) {
    return overrides === undefined ? base : overrides;
  }
  const result = Object.assign({}, base);
  Object.keys(overrides).forEach(function mergeKey(key) {
    result[key] = deepMerge(base[key], overrides[key]);
  });
  return result;
}
