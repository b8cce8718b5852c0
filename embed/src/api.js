// The JSON API client for one site. Every call is a plain CORS request; the server answers only
// the origins configured for the site.

import { load, save, bare } from './storage.js';

/**
 * Returns `request(path, { method, body, headers })`, resolving to the parsed JSON answer. A
 * non-2xx answer is thrown as an Error carrying the server's `{ error, message, field }` and the
 * HTTP `status`; a network or CORS failure is thrown as the browser's TypeError (no `status`).
 * `request.key` is where a signed-in reader's session is kept (per API origin and site: the API is
 * on another site than the page, where a cookie would be a blocked third-party cookie; see
 * docs/signin.md), `request.base` the site's API address.
 */
export function createApi(serverBase, site) {
  const siteBase = `${serverBase}api/v1/sites/${encodeURIComponent(site)}/`;
  const key = 'session:' + siteBase;
  const request = async (path, options) => {
    // Only the options' own fields: a polluted Object.prototype (`method`, `body`, `headers`)
    // must not turn a read into a DELETE or add a body.
    let { method = 'GET', body, headers } = { __proto__: null, ...options };
    // The session token goes only with calls that act for the reader (posting, editing, their
    // account, and a like, report or reaction, which then counts once per reader on every device
    // and network: docs/signin.md); thread reads stay requests without a preflight, and leave
    // without reading the browser's storage first (its first read waits for the browser).
    const session = /^(auth\/|comments($|\/\d))/.test(path) && load(key);
    if (session) headers = { Authorization: 'Bearer ' + session.token, ...headers };
    const response = await fetch(siteBase + path, {
      method,
      headers: body ? { 'Content-Type': 'application/json', ...headers } : headers,
      body: body && JSON.stringify(body),
    });
    const json = bare(await response.json().catch(() => ({})));
    // An ended or expired session is forgotten: the form offers signing in again.
    if (json.error == 'session_expired') save(key, null);
    if (!response.ok) throw Object.assign(new Error(json.message || ''), json, { status: response.status });
    // A comment write's `read_marker`: thread reads send it back (thread.js) to read this
    // reader's own writes from the primary database.
    if (json.read_marker) save('fresh:' + site, json.read_marker);
    return json;
  };
  return Object.assign(request, { key, base: siteBase });
}
