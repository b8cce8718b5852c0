// The JSON API client for one site. Every call is a plain CORS request; the server answers only
// the origins configured for the site.

import { save } from './storage.js';

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
    // A comment write's `read_marker`: thread reads send it back (thread.js) to read this
    // reader's own writes from the primary database.
    if (json.read_marker) save('fresh:' + site, json.read_marker);
    return json;
  };
}
