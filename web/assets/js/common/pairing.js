/**
 * The pairing overlay: the code an admin types to claim this screen, the instruction with the
 * server's address, and the time left before the code expires.
 *
 * The overlay covers the lower part of the screen on a dark panel, so the posters behind it
 * keep running. It is built on first use and appended to `<body>`, so a display page needs no
 * markup for it. The QR code linking to the claim page is not drawn yet.
 *
 * Test hooks: the element `#pairing-overlay` carries `data-code` with the code as the server
 * sent it, and `document.body.dataset.pairing` is "shown" while the overlay is visible.
 */

/** Time between updates of the countdown, in milliseconds. */
const COUNTDOWN_TICK_MS = 1000;

/**
 * Returns the code as a screen shows it: two groups of three, such as `K7M-2QX`. A code of
 * another length is shown as it came.
 */
export function groupPairingCode(code) {
  const compact = String(code).replace(/[\s-]/g, '').toUpperCase();
  if (compact.length !== 6) {
    return compact;
  }
  return compact.slice(0, 3) + '-' + compact.slice(3);
}

/** Formats seconds as `m:ss`. */
function formatCountdown(seconds) {
  const whole = Math.max(0, Math.ceil(seconds));
  const minutes = Math.floor(whole / 60);
  const rest = whole % 60;
  return minutes + ':' + (rest < 10 ? '0' : '') + rest;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  if (text) {
    node.textContent = text;
  }
  return node;
}

export class PairingOverlay {
  constructor() {
    this.root = null;
    this.codeNode = null;
    this.addressNode = null;
    this.countdownNode = null;
    this.timer = null;
  }

  build() {
    const root = element('section', 'pairing-overlay');
    root.id = 'pairing-overlay';
    root.setAttribute('role', 'dialog');
    root.setAttribute('aria-label', 'Pair this screen');
    root.hidden = true;

    root.appendChild(element('p', 'pairing-heading', 'Pair this screen'));
    this.codeNode = element('p', 'pairing-code');
    root.appendChild(this.codeNode);
    const instruction = element('p', 'pairing-instruction', 'Open the admin page at ');
    this.addressNode = element('span', 'pairing-address');
    instruction.appendChild(this.addressNode);
    instruction.appendChild(document.createTextNode(' and enter this code.'));
    root.appendChild(instruction);
    this.countdownNode = element('p', 'pairing-countdown');
    root.appendChild(this.countdownNode);

    document.body.appendChild(root);
    this.root = root;
  }

  /**
   * Shows a code, or replaces the one shown.
   * @param {{code: string, expiresAtMs: number, claimUrl: string, serverNowMs: function(): number}} pairing
   *   `expiresAtMs` and `serverNowMs()` are on the server's clock, so a wrong clock on the
   *   screen does not distort the countdown.
   */
  show(pairing) {
    if (this.root === null) {
      this.build();
    }
    this.codeNode.textContent = groupPairingCode(pairing.code);
    this.addressNode.textContent = pairing.claimUrl;
    this.root.dataset.code = pairing.code;
    this.root.hidden = false;
    document.body.dataset.pairing = 'shown';

    const self = this;
    function updateCountdown() {
      const secondsLeft = (pairing.expiresAtMs - pairing.serverNowMs()) / 1000;
      self.countdownNode.textContent = secondsLeft > 0
        ? 'Code expires in ' + formatCountdown(secondsLeft)
        : 'Code expired, requesting a new one\u2026';
    }
    this.stopCountdown();
    updateCountdown();
    this.timer = setInterval(updateCountdown, COUNTDOWN_TICK_MS);
  }

  hide() {
    this.stopCountdown();
    if (this.root !== null) {
      this.root.hidden = true;
      delete this.root.dataset.code;
    }
    delete document.body.dataset.pairing;
  }

  stopCountdown() {
    if (this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
