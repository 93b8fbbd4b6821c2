/** Waiting helpers shared by the display pages. */

/** Resolves after `milliseconds`. */
export function sleep(milliseconds) {
  return new Promise(function wait(resolve) { setTimeout(resolve, milliseconds); });
}
