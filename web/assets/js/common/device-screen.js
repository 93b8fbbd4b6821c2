/**
 * The device session's own elements on any display page: the device name for `identify`, and
 * the black cover of `power_off`.
 *
 * Both elements are built on first use and appended to `<body>`. Test hooks:
 * `document.body.dataset.power` is "off" while the cover is up, and `#device-identify` is
 * visible while the name is shown.
 */

/** How long `identify` shows the device name, in milliseconds. */
const IDENTIFY_MS = 8000;

export class DeviceScreen {
  constructor() {
    this.identifyNode = null;
    this.identifyTimer = null;
    this.cover = null;
  }

  /** Shows the device name large for a few seconds. */
  identify(name) {
    if (this.identifyNode === null) {
      this.identifyNode = document.createElement('div');
      this.identifyNode.id = 'device-identify';
      this.identifyNode.className = 'device-identify';
      this.identifyNode.setAttribute('role', 'status');
      document.body.appendChild(this.identifyNode);
    }
    this.identifyNode.textContent = name || 'Unnamed screen';
    this.identifyNode.hidden = false;
    if (this.identifyTimer !== null) {
      clearTimeout(this.identifyTimer);
    }
    const node = this.identifyNode;
    const self = this;
    this.identifyTimer = setTimeout(function hideName() {
      node.hidden = true;
      self.identifyTimer = null;
    }, IDENTIFY_MS);
  }

  /**
   * Covers the page with black (`true`) or removes the cover. The page keeps running below it,
   * so `power_on` shows the current item at once.
   */
  setPowerOff(off) {
    if (this.cover === null) {
      this.cover = document.createElement('div');
      this.cover.id = 'power-cover';
      this.cover.className = 'power-cover';
      this.cover.hidden = true;
      document.body.appendChild(this.cover);
    }
    this.cover.hidden = !off;
    if (off) {
      document.body.dataset.power = 'off';
    } else {
      delete document.body.dataset.power;
    }
  }
}
