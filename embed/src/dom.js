// Tiny DOM builders. Text always goes in as text nodes; nothing here parses HTML.

/**
 * Creates an element. Props with a dash in their name (aria-*) and `role` are set as attributes,
 * the others as properties (className, hidden, value…); `on…` props become event listeners. Null,
 * false and empty-string children are skipped, so conditional parts can be written inline.
 * It runs about a dozen times per comment, 2,400 times for a long thread's first page, mostly
 * before the browser has optimized it: no `name in element` lookups through the prototype chain.
 */
export function el(tag, props, ...children) {
  const element = document.createElement(tag);
  for (const name in props) {
    const value = props[name];
    if (value == null || value === false) continue;
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
