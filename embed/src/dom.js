// Tiny DOM builders. Text always goes in as text nodes; nothing here parses HTML.

/**
 * Creates an element. Props are set as properties when the element has one (className, hidden,
 * value…), else as attributes (aria-*, role…); `on…` props become event listeners. Null, false
 * and empty-string children are skipped, so conditional parts can be written inline.
 */
export function el(tag, props, ...children) {
  const element = document.createElement(tag);
  for (const name in props) {
    const value = props[name];
    if (value == null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name in element) element[name] = value;
    else element.setAttribute(name, value);
  }
  element.append(...children.filter(child => child != null && child !== false && child !== ''));
  return element;
}

/** A plain button (not a submit button). */
export const button = (label, onclick, className = 'kith-link-button') =>
  el('button', { type: 'button', className, onclick }, label);
