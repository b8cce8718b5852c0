// The reader's browser storage: localStorage under "kith:" keys, as JSON. Never throws, because
// storage may be blocked (privacy settings) or full; the embed then simply forgets.

const PREFIX = 'kith:';
const OWN_COMMENTS_KEPT_MS = 30 * 24 * 3600 * 1000;

/**
 * Makes the objects in `value` (parsed JSON from the server or from storage) objects without a
 * prototype, so that a host page whose Object.prototype was polluted (`Object.prototype.html =
 * '<img onerror=…>'`, `.avatar_url`, `.replies`) cannot make a missing field look present.
 */
export function bare(value) {
  if (value && typeof value == 'object') {
    if (!Array.isArray(value)) Object.setPrototypeOf(value, null);
    for (const key of Object.keys(value)) bare(value[key]);
  }
  return value;
}

export function load(key) {
  try {
    const stored = localStorage.getItem(PREFIX + key);
    return stored && bare(JSON.parse(stored));
  } catch {
    return null;
  }
}

/** Stores `value`; null or undefined removes the key. */
export function save(key, value) {
  try {
    if (value == null) localStorage.removeItem(PREFIX + key);
    else localStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    // storage unavailable: nothing to do
  }
}

/**
 * The reader's own recent comments on a site, by id: `{ comment, edit_token, editable_until,
 * body, key }`. The edit token is the secret that allows editing and deleting. Entries older than
 * 30 days are dropped.
 */
export function ownComments(site) {
  const key = 'own:' + site;
  const entries = load(key) || {};
  for (const id of Object.keys(entries)) {
    const age = Date.now() - new Date(entries[id].comment?.created_at);
    if (!(age < OWN_COMMENTS_KEPT_MS)) delete entries[id];
  }
  const persist = () => save(key, entries);
  persist();
  return { entries, persist };
}

/** The ids of comments this browser liked on a site. */
export const likedComments = site => kept('liked:' + site);

/** The reactions this browser gave on a site: `{ [comment id]: { [reaction id]: 1 } }`. */
export const reactedComments = site => kept('reacted:' + site);

function kept(key) {
  const ids = load(key) || {};
  return { ids, persist: () => save(key, ids) };
}
