// The JSON API client for one site. Every call is a plain CORS request; the server answers only
// the origins configured for the site.

import { load, save } from './storage.js';

/**
 * Returns `request(path, { method, body, headers })`, resolving to the parsed JSON answer. A
 * non-2xx answer is thrown as an Error carrying the server's `{ error, message, field }` and the
 * HTTP `status`; a network or CORS failure is thrown as the browser's TypeError (no `status`).
 */
export function createApi(serverBase, site) {
  const siteBase = `${serverBase}api/v1/sites/${encodeURIComponent(site)}/`;
  return async (path, { method = 'GET', body, headers } = {}) => {
    const response = await fetch(siteBase + path, {
      method,
      headers: body ? { 'Content-Type': 'application/json', ...headers } : headers,
      body: body && JSON.stringify(body),
    });
    const json = await response.json().catch(() => ({}));
    if (!response.ok) throw Object.assign(new Error(json.message || ''), json, { status: response.status });
    return json;
  };
}

/**
 * Wraps `api` so that this reader reads their own writes: a comment write answers with a
 * `read_marker`, which thread reads send back as `fresh=` for a minute (the server decides by its
 * own clock, for `database.read_your_writes_secs`, whether it still counts). Such reads come from
 * the primary database, so a reload shows the reader's own comment even when the server reads
 * from a replica that lags behind (docs/deploy.md). A query parameter, because a cookie would
 * not travel (the API is on another site than the page) and a header would cost a preflight.
 */
export function withReadMarker(api, site) {
  const storageKey = 'fresh:' + site;
  return async (path, options) => {
    const marker = path.startsWith('thread') && load(storageKey);
    const fresh = marker && Date.now() - marker.at < 60000 ? '&fresh=' + marker.value : '';
    const json = await api(path + fresh, options);
    if (json.read_marker) save(storageKey, { value: json.read_marker, at: Date.now() });
    return json;
  };
}
