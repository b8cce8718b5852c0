// embed.js: the comment thread in <div id="kith-thread">, and the counts of any
// [data-kith-count] elements on the same page (one script tag in a theme's footer does both).
import { findServer, doc } from './server.js';
import { requestThread, mountThread } from './thread.js';
import { loadStrings, createTranslator } from './locale.js';
import { fillCounts } from './counts.js';
import { el } from './dom.js';

const server = findServer(/\/embed\.js([?#]|$)/);

/**
 * Mounts the thread into every container on the page that has none yet (the script included
 * twice mounts each once). Resolves to the first one's translator; false when none was mounted.
 * A thread that fails in a way the thread view did not foresee (a host page that broke a
 * builtin the embed needs) says so in its frame and in the console, instead of staying blank.
 */
const mount = () => {
  let first = false;
  for (const container of doc('querySelectorAll')('#kith-thread')) {
    if (container.shadowRoot) continue;
    const thread = mountThread(container, server.base, requestThread(container, server.base)).catch(error => {
      console.warn('kith: the comments could not be shown', error);
      container.shadowRoot?.lastChild?.append(el('p', { className: 'kith-form-error' }, 'Comments could not be loaded.'));
      return null;
    });
    first ||= thread;
  }
  return first;
};
// The usual place for the script is after the container: then the thread's requests leave at
// once, without waiting for the rest of the page to be parsed.
let thread = mount();

async function start() {
  thread ||= mount();
  // A container the page puts in later (a single-page app, or one taken out and put back in
  // another element) is mounted when it comes.
  new MutationObserver(mount).observe(doc('documentElement'), { childList: true, subtree: true });
  const threadI18n = await thread;
  if (!doc('querySelector')('[data-kith-count]')) return;
  const options = server.script.dataset;
  const strings = !threadI18n && await loadStrings(server.base, options.kithLang || 'en');
  const i18n = threadI18n || (strings && createTranslator(strings));
  if (!i18n) return;
  const site = doc('getElementById')('kith-thread')?.dataset.kithSite || options.kithSite || 'default';
  fillCounts(server.base, site, n => i18n.t('comments', { n }));
}

// (The event reaches the window too: `document.addEventListener` could be shadowed by markup.)
if (doc('readyState') == 'loading') addEventListener('DOMContentLoaded', start);
else start();
