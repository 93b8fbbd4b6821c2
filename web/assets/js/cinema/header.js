/**
 * The header rule: which line the header shows over an item at a given time.
 *
 * The late-night window wins over everything, then an item from a later year is announced as
 * coming soon, and anything else gets the ordinary header.
 */

/**
 * Returns whether `hour` lies in the window from `fromHour` (included) to `untilHour`
 * (excluded). A window may cross midnight, and one that ends where it starts is empty.
 */
export function inHourWindow(hour, fromHour, untilHour) {
  if (fromHour === untilHour) {
    return false;
  }
  if (fromHour < untilHour) {
    return hour >= fromHour && hour < untilHour;
  }
  return hour >= fromHour || hour < untilHour;
}

/**
 * Returns the header for `item` at `now`: `{rule, text}`, where `rule` is `late_night`,
 * `coming_soon` or `default`.
 */
export function headerFor(item, settings, now) {
  if (inHourWindow(now.getHours(), settings.late_night_from_hour, settings.late_night_until_hour)) {
    return { rule: 'late_night', text: settings.late_night_text };
  }
  if (typeof item.year === 'number' && item.year > now.getFullYear()) {
    return { rule: 'coming_soon', text: settings.coming_soon_text };
  }
  return { rule: 'default', text: settings.header_text };
}
