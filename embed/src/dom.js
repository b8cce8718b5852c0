// Tiny DOM builders. Text always goes in as text nodes; nothing here parses HTML.

// (From Document.prototype: a host page's `<img name="createElement">` shadows `document`'s own.)
const { createElement } = Document.prototype;

// Trusted Types: on a page that requires them (`require-trusted-types-for 'script'`), the
// embed's one policy, "kith" (allow it with `trusted-types kith`), is the only way into
// innerHTML, and only the server's sanitized `html` fields go through it. None on a page
// that made a "kith" policy of its own already (or where the embed runs twice).
let policy;
try {
  policy = trustedTypes.createPolicy('kith', { createHTML: html => html });
} catch {
  // no Trusted Types in this browser, or the name is taken: strings, as everywhere else
}

/** The server's sanitized HTML, ready for innerHTML (as TrustedHTML where the browser has them). */
export const trusted = html => (policy ? policy.createHTML(html) : html);

/**
 * Creates an element. Props with a dash in their name (aria-*) and `role` are set as attributes,
 * the others as properties (className, hidden, value…); `on…` props become event listeners. Null,
 * false and empty-string children are skipped, so conditional parts can be written inline.
 * Only the props' own keys count: a page that polluted Object.prototype (`innerHTML`, `onclick`)
 * reaches no element. It runs about a dozen times per comment, 2,400 times for a long thread's
 * first page, mostly before the browser has optimized it: no `name in element` lookups through
 * the prototype chain.
 */
export function el(tag, props, ...children) {
  const element = createElement.call(document, tag);
  for (const name in props) {
    const value = props[name];
    if (value == null || value === false || !Object.hasOwn(props, name)) continue;
    if (name == 'role' || name.includes('-')) element.setAttribute(name, value);
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element[name] = value;
  }
  for (const child of children) if (child || child === 0) element.append(child);
  return element;
}

/** A plain button (not a submit button). */
export const button = (label, onclick, className = 'kith-link-button') =>
  el('button', { type: 'button', className, onclick }, label);
