/**
 * The ambient background: soft radial gradients in the colours of the posters on screen.
 *
 * Gradients cannot be animated with opacity or transform alone, so two layers take turns: the
 * new gradient is drawn on the hidden layer, which then fades in over the other. The colours
 * come only from palettes checked by `paletteColors`, so no outside text reaches a style.
 */

import { paletteColors, rgba, vividColor } from '../common/palette.js';

/** CSS positions of the colour spots, one per colour. */
const SPOTS = ['15% 20%', '85% 25%', '30% 90%', '80% 85%'];

export class Ambient {
  /** @param {HTMLElement} container the `#ambient` element with two `.ambient-layer` children */
  constructor(container) {
    this.layers = container.querySelectorAll('.ambient-layer');
    this.front = 0;
    this.lastGradient = null;
  }

  /**
   * Draws a gradient from the palettes of `items`, or hides it when `enabled` is false or no
   * item has a palette.
   */
  update(items, enabled) {
    const colors = [];
    if (enabled) {
      items.forEach(function collectColor(item) {
        const color = vividColor(paletteColors(item));
        if (color !== null && colors.length < SPOTS.length) {
          colors.push(color);
        }
      });
    }
    const gradient = colors.length === 0 ? null : colors.map(function spot(color, index) {
      return 'radial-gradient(circle at ' + SPOTS[index] + ', ' + rgba(color, 0.45) + ' 0%, '
        + rgba(color, 0) + ' 55%)';
    }).join(', ');
    if (gradient === this.lastGradient) {
      return;
    }
    this.lastGradient = gradient;
    document.body.dataset.ambient = gradient === null ? 'off' : 'on';

    const back = 1 - this.front;
    if (gradient !== null) {
      this.layers[back].style.backgroundImage = gradient;
      this.layers[back].classList.add('visible');
    }
    this.layers[this.front].classList.remove('visible');
    this.front = gradient !== null ? back : this.front;
  }
}
