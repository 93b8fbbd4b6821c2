/**
 * The clock overlay: hours and minutes in a corner, 12-hour or 24-hour, in the time zone the
 * settings name or else the screen's own zone.
 *
 * One timer runs at a time, set to the start of the next minute, so the clock changes with the
 * minute and costs one update a minute. Test hook: the clock element carries `data-time-zone`,
 * the zone it shows after any fallback.
 */

/**
 * Delay after the start of a minute before the clock updates, so a timer that fires early
 * still shows the new minute.
 */
const TICK_MARGIN_MS = 50;

export class Clock {
  /**
   * @param {HTMLElement} element the clock element, hidden while the clock is off
   * @param {function(): Date} now returns the current time, by the server's clock
   */
  constructor(element, now) {
    this.element = element;
    this.now = now;
    this.timer = null;
    this.format = 'off';
    this.requestedZone = '';
    this.formatter = null;
    /** Zone names already reported as unknown, so each is logged once. */
    this.reportedZones = {};
  }

  /**
   * Shows the clock in `format` (`off`, `12h` or `24h`) and `timeZone` (an IANA name, or empty
   * for the screen's zone). Unchanged settings leave the running clock alone.
   */
  apply(format, timeZone) {
    if (format === this.format && timeZone === this.requestedZone) {
      return;
    }
    this.format = format;
    this.requestedZone = timeZone;
    this.stop();
    const on = format === '12h' || format === '24h';
    this.element.hidden = !on;
    document.body.classList.toggle('has-clock', on);
    if (!on) {
      this.formatter = null;
      this.element.textContent = '';
      return;
    }
    this.formatter = this.createFormatter(format, timeZone);
    this.element.dataset.timeZone = this.formatter.resolvedOptions().timeZone;
    this.tick();
  }

  /**
   * Returns a formatter for the zone. An unknown zone name falls back to the screen's zone with
   * a warning, because the server checks only the shape of the name.
   */
  createFormatter(format, timeZone) {
    const options = { hour: 'numeric', minute: '2-digit', hour12: format === '12h' };
    // The 12-hour form follows the screen's language. The 24-hour form is read back as digits,
    // so it uses a locale with Latin digits.
    const locale = format === '12h' ? undefined : 'en-US';
    if (timeZone !== '') {
      try {
        return new Intl.DateTimeFormat(locale, Object.assign({ timeZone: timeZone }, options));
      } catch (error) {
        if (!this.reportedZones[timeZone]) {
          this.reportedZones[timeZone] = true;
          console.warn('Unknown time zone ' + JSON.stringify(timeZone)
            + ' in the clock settings, showing the screen\u2019s own zone: ' + error.message);
        }
      }
    }
    return new Intl.DateTimeFormat(locale, options);
  }

  tick() {
    const now = this.now();
    this.element.textContent = formatTime(this.formatter, this.format, now);
    this.element.dateTime = now.toISOString();
    const self = this;
    const untilNextMinute = 60000 - (now.getTime() % 60000) + TICK_MARGIN_MS;
    this.timer = setTimeout(function nextMinute() { self.tick(); }, untilNextMinute);
  }

  stop() {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}

/**
 * Formats the time. The 24-hour form is built from the parts as `HH:MM`, because some
 * browsers write midnight as `24:00` under `hour12: false`.
 */
function formatTime(formatter, format, date) {
  if (format === '12h') {
    return formatter.format(date);
  }
  let hour = 0;
  let minute = 0;
  formatter.formatToParts(date).forEach(function readPart(part) {
    if (part.type === 'hour') {
      hour = Number(part.value) % 24;
    } else if (part.type === 'minute') {
      minute = Number(part.value);
    }
  });
  return pad(hour) + ':' + pad(minute);
}

function pad(number) {
  return number < 10 ? '0' + number : String(number);
}
