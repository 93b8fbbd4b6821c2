/**
 * Keys of TV remotes and keyboards on the display pages: ArrowRight and MediaTrackNext show the
 * next item, ArrowLeft and MediaTrackPrevious the previous one, and Space, Enter and
 * MediaPlayPause pause or resume.
 *
 * Held keys are ignored after the first press, so a remote that repeats a key cannot queue a
 * run of image loads. Keys pressed with Alt, Ctrl or Meta are left to the browser.
 */

/** Actions by `KeyboardEvent.key`. Older browsers report Space as `Spacebar`. */
const ACTIONS = {
  ArrowRight: 'next',
  MediaTrackNext: 'next',
  ArrowLeft: 'previous',
  MediaTrackPrevious: 'previous',
  ' ': 'pauseResume',
  Spacebar: 'pauseResume',
  Enter: 'pauseResume',
  MediaPlayPause: 'pauseResume',
};

/**
 * Calls the page's handlers for remote-control keys until the returned function is called.
 *
 * A key whose handler is missing is left to the browser. A handler that throws, such as
 * `previous` before a second item was shown, only logs a warning.
 * @param {{next?: function(), previous?: function(), pause?: function(), resume?: function()}} handlers
 * @param {function(): boolean} isPaused selects which of `pause` and `resume` Space, Enter
 *   and MediaPlayPause call
 * @returns {function()} removes the listener
 */
export function listenForKeys(handlers, isPaused) {
  function onKeyDown(event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    if (!Object.prototype.hasOwnProperty.call(ACTIONS, event.key)) {
      return;
    }
    const action = ACTIONS[event.key];
    const handler = action === 'pauseResume'
      ? handlers[isPaused() ? 'resume' : 'pause']
      : handlers[action];
    if (typeof handler !== 'function') {
      return;
    }
    event.preventDefault();
    if (event.repeat) {
      return;
    }
    try {
      handler();
    } catch (error) {
      console.warn('Key ' + JSON.stringify(event.key) + ' ignored: ' + error.message);
    }
  }

  window.addEventListener('keydown', onKeyDown);
  return function stopListening() { window.removeEventListener('keydown', onKeyDown); };
}
