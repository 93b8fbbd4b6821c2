/**
 * The pairing overlay: the code an admin types to claim this screen, a QR code of the page
 * that claims it, the instruction with the server's address, and the time left before the code
 * expires.
 *
 * The overlay is a card in the lower right corner, so the posters behind it keep running. It
 * is built on first use and appended to `<body>`, so a display page needs no markup for it.
 * The server draws the QR code (`api/v1/devices/pairing-qr`), and the URL in it uses the
 * server's `public_url` when one is set, else the address this page reached the server at. An
 * image that fails to load is hidden, and the code and address still show.
 *
 * Test hooks: the element `#pairing-overlay` carries `data-code` with the code as the server
 * sent it, the image `#pairing-qr` shows the QR code, and `document.body.dataset.pairing` is
 * "shown" while the overlay is visible.
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

/** Returns the URL of the QR code for `code`, below the page's base path. */
export function pairingQrUrl(code) {
  return new URL('api/v1/devices/pairing-qr?code=' + encodeURIComponent(code), document.baseURI).href;
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
    this.qrNode = null;
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
    this.qrNode = element('img', 'pairing-qr');
    this.qrNode.id = 'pairing-qr';
    this.qrNode.alt = 'QR code of the page that claims this screen';
    this.qrNode.hidden = true;
    const qrNode = this.qrNode;
    qrNode.addEventListener('load', function qrLoaded() { qrNode.hidden = false; });
    qrNode.addEventListener('error', function qrFailed() {
      qrNode.hidden = true;
      console.warn('The pairing QR code failed to load: the card shows the code and address only');
    });
    root.appendChild(this.qrNode);
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
    const qrUrl = pairingQrUrl(pairing.code);
    if (this.qrNode.src !== qrUrl) {
      this.qrNode.hidden = true;
      this.qrNode.src = qrUrl;
    }
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
