// Comment counts on list pages: every [data-kith-count] element's text becomes "3 comments".
// One POST /counts per site (at most 100 keys a request), however many elements there are.
import { createApi } from './api.js';
import { doc } from './server.js';

const KEYS_PER_REQUEST = 100;

/**
 * `label(n)` makes the text for a count. An element's thread key is its `data-kith-count` value,
 * else its link's path; `data-kith-site` on the element picks another site than `defaultSite`.
 * Unknown sites and failed requests leave the elements' text alone.
 */
export function fillCounts(serverBase, defaultSite, label) {
  // (Without a prototype: a polluted Object.prototype adds no sites or keys.)
  const elementsBySite = { __proto__: null };
  for (const element of doc('querySelectorAll')('[data-kith-count]')) {
    const key = element.dataset.kithCount || element.pathname || location.pathname;
    const site = element.dataset.kithSite || defaultSite;
    ((elementsBySite[site] ||= { __proto__: null })[key] ||= []).push(element);
  }
  for (const site in elementsBySite) {
    const elementsByKey = elementsBySite[site], keys = Object.keys(elementsByKey);
    const api = createApi(serverBase, site);
    for (let i = 0; i < keys.length; i += KEYS_PER_REQUEST) {
      api('counts', { method: 'POST', body: { keys: keys.slice(i, i + KEYS_PER_REQUEST) } }).then(({ counts }) => {
        for (const key in counts) {
          for (const element of elementsByKey[key] || []) element.textContent = label(counts[key]);
        }
      }, () => {});
    }
  }
}
