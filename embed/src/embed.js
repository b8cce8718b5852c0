// embed.js: the comment thread in <div id="kith-thread">, and the counts of any
// [data-kith-count] elements on the same page (one script tag in a theme's footer does both).
import { findServer } from './server.js';
import { mountThread } from './thread.js';
import { loadStrings, createTranslator } from './locale.js';
import { fillCounts } from './counts.js';

const server = findServer(/\/embed\.js([?#]|$)/);

async function start() {
  const options = server.script.dataset;
  const container = document.getElementById('kith-thread');
  if (container?.shadowRoot) return;  // already mounted (the script was included twice)
  const threadI18n = container && await mountThread(container, server.base);
  if (!document.querySelector('[data-kith-count]')) return;
  const strings = !threadI18n && await loadStrings(server.base, options.kithLang || 'en');
  const i18n = threadI18n || (strings && createTranslator(strings));
  if (!i18n) return;
  const site = container?.dataset.kithSite || options.kithSite || 'default';
  fillCounts(server.base, site, n => i18n.t('comments', { n }));
}

if (document.readyState == 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
