// Interface strings, from the server's /locales/<code>.json (English included: the bundle carries
// no strings of its own, which keeps it within its size budget).

const requests = {};

/**
 * The strings for `lang` as `{ lang, strings }`: each language file is fetched once per page, so
 * a speculative early call costs nothing later. A language the server has no file for falls back
 * to English; resolves to null when not even that loads.
 */
export async function loadStrings(serverBase, lang) {
  const code = lang.slice(0, 2).toLowerCase();
  requests[code] ||= fetch(`${serverBase}locales/${code}.json`)
    .then(response => (response.ok ? response.json() : null))
    .catch(() => null);
  const strings = await requests[code];
  if (strings) return { lang, strings };
  return code == 'en' ? null : loadStrings(serverBase, 'en');
}

/**
 * `t(key, values)` fills `{name}` placeholders; a string given as plural forms
 * (`{ one, other, … }`) picks the form for `values.n`. `ago(date)` says "5 minutes ago",
 * `exactTime(date)` the date and time.
 */
export function createTranslator({ lang, strings }) {
  // Made once: toLocaleString() per comment would build a new formatter for each.
  let plurals, relativeTime, dateTime;
  const makeFormatters = () => {
    plurals = new Intl.PluralRules(lang);
    relativeTime = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
    dateTime = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });
  };
  try {
    makeFormatters();
  } catch {
    // an invalid language tag
    lang = 'en';
    makeFormatters();
  }

  const t = (key, values = {}) => {
    let text = strings[key];
    if (typeof text == 'object') text = text[plurals.select(values.n)] || text.other;
    return text.replace(/\{(\w+)\}/g, (_, name) => values[name]);
  };

  // Each unit's size in the next smaller one; under 45 seconds is "now".
  const UNITS = [[60, 'minute'], [60, 'hour'], [24, 'day'], [7, 'week'], [4.35, 'month'], [12, 'year']];
  const ago = date => {
    let amount = (new Date(date) - Date.now()) / 1000;
    let unit = 'second';
    for (const [size, larger] of UNITS) {
      if (Math.abs(amount) < size) break;
      amount /= size;
      unit = larger;
    }
    return relativeTime.format(unit == 'second' && amount > -45 ? 0 : Math.round(amount), unit);
  };

  return { lang, t, ago, exactTime: date => dateTime.format(new Date(date)) };
}
