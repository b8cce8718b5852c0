// Interface strings. English is built into the bundle (from locales/en.json); another language
// is fetched from the server's /locales/<code>.json, and English fills any gap.
import english from '../locales/en.json';

/** Fetches the strings for `lang`; resolves to `{ lang, strings }`, falling back to English. */
export async function loadStrings(serverBase, lang) {
  const code = lang.slice(0, 2).toLowerCase();
  if (code != 'en') {
    const strings = await fetch(`${serverBase}locales/${code}.json`)
      .then(response => (response.ok ? response.json() : null))
      .catch(() => null);
    if (strings) return { lang, strings: { ...english, ...strings } };
  }
  return { lang: code == 'en' ? lang : 'en', strings: english };
}

/**
 * `t(key, values)` fills `{name}` placeholders; a string given as plural forms
 * (`{ one, other, … }`) picks the form for `values.n`. `ago(date)` says "5 minutes ago".
 */
export function createTranslator({ lang, strings }) {
  let plurals, relativeTime;
  try {
    plurals = new Intl.PluralRules(lang);
    relativeTime = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  } catch {
    // an invalid language tag
    lang = 'en';
    plurals = new Intl.PluralRules(lang);
    relativeTime = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
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

  return { lang, t, ago };
}
