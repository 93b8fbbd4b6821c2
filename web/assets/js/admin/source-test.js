/**
 * Source texts shared by the sources page and the setup wizard: the connection test's
 * outcome in words, and the credential's name for each kind of server.
 *
 * The API reports why a test failed with a stable code. A server that cannot be reached and
 * one that rejects the credential need different fixes, so each gets its own sentence.
 */

/** Names of the kinds of server, as the API spells them. */
export const KIND_LABELS = { plex: 'Plex', jellyfin: 'Jellyfin', emby: 'Emby' };

/** Returns the name of the credential that a kind of server takes. */
export function credentialLabel(kind) {
  return kind === 'plex' ? 'Plex token' : 'API key';
}

/** Returns the note beside the credential field: whether one is stored, and how to keep it. */
export function credentialState(kind, stored) {
  if (!stored) {
    return 'None stored yet.';
  }
  const article = kind === 'plex' ? 'A ' : 'An ';
  return article + credentialLabel(kind) + ' is stored. Leave the field empty to keep it.';
}

/** Returns where to find the credential on a kind of server. */
export function credentialHint(kind) {
  if (kind === 'plex') {
    return 'The X-Plex-Token of an account that can see the libraries. Plex Web shows it under '
      + 'Get Info, View XML, at the end of the address.';
  }
  return 'Make one in the server\u2019s dashboard under API Keys.';
}

/** Codes of failures where the server was not reached or did not finish its response. */
const OUTAGE_CODES = [
  'source-unreachable', 'source-timeout', 'source-tls', 'source-circuit-open', 'source-rate-limited',
];

/** Returns `text` with a capital first letter and a full stop at the end. */
function sentence(text) {
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : capital + '.';
}

/**
 * Returns `{ ok, text }` describing a test report of `POST /api/v1/admin/sources/{id}/test`:
 * the server found and its libraries, or what failed and what to do.
 */
export function describeTest(report, kind) {
  if (report.ok) {
    const server = report.server || {};
    const version = server.version ? ' ' + server.version : '';
    const libraries = report.libraries || [];
    const count = libraries.length === 1 ? '1 library' : libraries.length + ' libraries';
    return {
      ok: true,
      text: 'Connected to ' + (server.name || 'the server') + ' (' + (server.product || '?')
        + version + '). It offers ' + count + '.',
    };
  }
  const error = report.error || { code: 'unknown', message: 'the test failed' };
  const message = sentence(error.message);
  if (error.code === 'source-auth-rejected') {
    return {
      ok: false,
      text: 'The server rejected the ' + credentialLabel(kind) + '. ' + message
        + ' Enter a valid one and save again.',
    };
  }
  if (error.code === 'source-credential-missing') {
    return { ok: false, text: message + ' Enter the ' + credentialLabel(kind) + ' and save again.' };
  }
  if (OUTAGE_CODES.indexOf(error.code) >= 0) {
    return {
      ok: false,
      text: 'The server could not be reached. ' + message + ' Check the address and that the '
        + 'server is running; the stored credential is kept.',
    };
  }
  return { ok: false, text: message };
}
