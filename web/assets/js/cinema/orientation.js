/**
 * Orientation of the cinema layout: which way up it is drawn and whether it is turned by 90
 * degrees for a device that can only output landscape to an upright monitor.
 *
 * The frame is sized in CSS pixels of its own (unrotated) box and turned with a transform, so
 * the layout inside never needs to know about the rotation. Test hooks: `body.dataset.layout`
 * is `portrait` or `landscape` and `body.dataset.rotation` is the frame's angle in degrees.
 */

/**
 * Computes the frame for a viewport of `width`×`height` CSS pixels.
 * @returns {{layout: string, rotation: number, width: number, height: number}}
 */
export function computeFrame(width, height, settings) {
  const flipped = settings.orientation === 'portrait_flipped';
  if (settings.rotate_90) {
    // The frame is as wide as the screen is tall and turned on its side.
    return { layout: 'portrait', rotation: flipped ? 270 : 90, width: height, height: width };
  }
  if (settings.orientation === 'auto' && width > height) {
    return { layout: 'landscape', rotation: 0, width: width, height: height };
  }
  if (width > height) {
    // A portrait column of 9:16 in the middle of a landscape screen.
    return { layout: 'portrait', rotation: flipped ? 180 : 0, width: Math.round(height * 9 / 16), height: height };
  }
  return { layout: 'portrait', rotation: flipped ? 180 : 0, width: width, height: height };
}

/** Text size of the frame, in CSS pixels per `em`, per pixel of the frame's shorter side. */
const FONT_SIZE_SHARE = 1 / 50;

/** Sizes and turns the frame element, and scales its text to it. */
export function applyFrame(frameElement, frame) {
  frameElement.style.fontSize = Math.round(Math.min(frame.width, frame.height) * FONT_SIZE_SHARE) + 'px';
  frameElement.style.width = frame.width + 'px';
  frameElement.style.height = frame.height + 'px';
  frameElement.style.transform = 'translate(-50%, -50%) rotate(' + frame.rotation + 'deg)';
  document.body.dataset.layout = frame.layout;
  document.body.dataset.rotation = String(frame.rotation);
}
