// Writes the "ago" entry of every locale file (embed/locales/*.json): "now" and "5 minutes ago"
// … "3 years ago" with their plural forms, plus the words that replace a number ("yesterday",
// "vorgestern", "last week"), taken from the CLDR data of this Node's ICU.
//
// Why the embed does not ask the browser's Intl.RelativeTimeFormat: creating one loads the
// relative-time data of the browser's ICU, tens of milliseconds on every page load before the
// first comment can show (measured by benches/browser.mjs). These strings cost nothing to use.
//
//   npm run locales        # after adding a locale file; the output is committed
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'locales');
// The units the embed uses, as locale.js counts them (under a minute is "now").
const UNITS = ['minute', 'hour', 'day', 'week', 'month', 'year'];

/** The `ago` entry for `lang`. */
export function relativeTimes(lang) {
  const always = new Intl.RelativeTimeFormat(lang), words = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  const plurals = new Intl.PluralRules(lang);
  const ago = { now: words.format(0, 'second') };
  for (const unit of UNITS) {
    const forms = {};
    // Every plural form the counts 1 to 100 take, each from its first count.
    for (let n = 1; n <= 100; n++) {
      const form = plurals.select(n), text = always.format(-n, unit);
      if (forms[form]) continue;
      if (text.split(String(n)).length != 2) throw new Error(`${lang}: "${text}" does not hold ${n} once`);
      forms[form] = text.replace(String(n), '{n}');
    }
    ago[unit] = forms;
    // "yesterday", "the day before yesterday", "last week": where the words differ from the number.
    for (const n of [1, 2]) {
      if (words.format(-n, unit) != always.format(-n, unit)) ago[unit + n] = words.format(-n, unit);
    }
  }
  return ago;
}

if (process.argv[1] == fileURLToPath(import.meta.url)) {
  for (const file of fs.readdirSync(dir).filter(name => name.endsWith('.json')).sort()) {
    const strings = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    strings.ago = relativeTimes(path.basename(file, '.json'));
    fs.writeFileSync(path.join(dir, file), JSON.stringify(strings, null, 1) + '\n');
  }
  console.log('wrote the "ago" entry of every locale file');
}
