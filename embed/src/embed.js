// embed.js: the comment thread in <div id="kith-thread">, and the counts of any
// [data-kith-count] elements on the same page (one script tag in a theme's footer does both).
import { findServer } from './server.js';
import { requestThread, mountThread } from './thread.js';
import { loadStrings, createTranslator } from './locale.js';
import { fillCounts } from './counts.js';

const server = findServer(/\/embed\.js([?#]|$)/);

/**
 * Mounts the thread if its container is on the page; false when there is none yet, or when it is
 * mounted already (the script was included twice).
 */
const mount = () => {
  const container = document.getElementById('kith-thread');
  return !!container && !container.shadowRoot && mountThread(container, server.base, requestThread(container, server.base));
};
// The usual place for the script is after the container: then the thread's requests leave at
// once, without waiting for the rest of the page to be parsed.
let thread = mount();

async function start() {
  thread ||= mount();
  const threadI18n = await thread;
  if (!document.querySelector('[data-kith-count]')) return;
  const options = server.script.dataset;
  const strings = !threadI18n && await loadStrings(server.base, options.kithLang || 'en');
  const i18n = threadI18n || (strings && createTranslator(strings));
  if (!i18n) return;
  const site = document.getElementById('kith-thread')?.dataset.kithSite || options.kithSite || 'default';
  fillCounts(server.base, site, n => i18n.t('comments', { n }));
}

if (document.readyState == 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
