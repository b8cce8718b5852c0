// count.js: comment counts only, for list pages that show no thread. (embed.js fills counts too.)
// Kept tiny: it carries the English plural forms alone, not the whole interface.
import { findServer, doc } from './server.js';
import { fillCounts } from './counts.js';
import { comments as englishForms } from '../locales/en.json';

const server = findServer(/\/count\.js([?#]|$)/);

async function start() {
  const options = server.script.dataset;
  const lang = options.kithLang || 'en';
  const forms = /^en\b/i.test(lang)
    ? englishForms
    : await fetch(`${server.base}locales/${lang.slice(0, 2).toLowerCase()}.json`)
      .then(response => response.json())
      .then(strings => strings.comments || englishForms, () => englishForms);
  let plurals;
  try {
    plurals = new Intl.PluralRules(lang);
  } catch {
    plurals = new Intl.PluralRules('en');
  }
  fillCounts(server.base, options.kithSite || 'default', n => (forms[plurals.select(n)] || forms.other).replace('{n}', n));
}

if (doc('readyState') == 'loading') addEventListener('DOMContentLoaded', start);
else start();
