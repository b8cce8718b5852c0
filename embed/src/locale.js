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
 *
 * Only Intl.PluralRules is made up front: the browser's relative-time and date formatters load
 * ICU data that costs tens of milliseconds before the first comment could show. "5 minutes ago"
 * comes from the language file (`ago`, written by relative-time.mjs from CLDR), the exact time's
 * formatter is made the first time a reader points at a time.
 */
export function createTranslator({ lang, strings }) {
  let plurals, dateTime;
  try {
    plurals = new Intl.PluralRules(lang);
  } catch {
    // an invalid language tag
    lang = 'en';
    plurals = new Intl.PluralRules(lang);
  }

  const fill = (text, values) => {
    if (typeof text == 'object') text = text[plurals.select(values.n)] || text.other;
    return text.replace(/\{(\w+)\}/g, (_, name) => values[name]);
  };
  // Labels without values (Reply, Report… on every comment) are filled once.
  const labels = {};
  const t = (key, values) => (values ? fill(strings[key], values) : labels[key] ??= fill(strings[key], {}));

  // Each unit's size in the next smaller one, from minutes; under a minute is "now".
  const UNITS = [[60, 'hour'], [24, 'day'], [7, 'week'], [4.35, 'month'], [12, 'year']];
  const agoTexts = {};
  const ago = date => {
    const words = strings.ago;
    let amount = (Date.now() - new Date(date)) / 60000, unit = 'minute';
    if (!(amount >= 1)) return words.now;
    for (const [size, larger] of UNITS) {
      if (amount < size) break;
      amount /= size;
      unit = larger;
    }
    const n = Math.round(amount), key = unit + n;
    // "yesterday" rather than "1 day ago", where the language has such a word. Each text is made
    // once: a page's comments share a handful of them.
    return agoTexts[key] ??= words[key] || fill(words[unit], { n });
  };

  const exactTime = date => {
    dateTime ||= new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });
    return dateTime.format(new Date(date));
  };
  return { lang, t, ago, exactTime };
}
