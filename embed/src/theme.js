// Light or dark, and the dark palette's colours, taken from the host page.
//
// The embed sets `data-kith-scheme="light|dark"` on its container; embed.css declares each palette
// once for that attribute. With `data-kith-theme="light|dark"` the host decides. Otherwise the
// host page's own background decides (the first ancestor with an opaque background), and only a
// page without any background follows the reader's prefers-color-scheme. On a dark page, the dark
// palette is derived from the page's own text and background colours, so it blends in instead of
// painting a fixed blue-black box onto a warm page.

const prefersDark = matchMedia('(prefers-color-scheme: dark)');

/** `{ r, g, b, a }` from a computed `rgb()`/`rgba()` colour; null for other notations. */
function parseRgb(color) {
  const match = /^rgba?\(([^)]+)\)$/.exec(color);
  if (!match) return null;
  const [r, g, b, a = 1] = match[1].split(/[\s,/]+/);
  // (Numbers by hand: a host page may have replaced Array.prototype.map.)
  return { r: +r, g: +g, b: +b, a: +a };
}

/** Relative brightness, 0 (black) to 1 (white); close enough to tell dark from light. */
const brightness = ({ r, g, b }) => (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;

function hostBackground(container) {
  for (let node = container; node; node = node.parentElement) {
    const color = parseRgb(getComputedStyle(node).backgroundColor);
    if (color && color.a > 0.5) return color;
  }
  return null;
}

const cssColor = ({ r, g, b }) => `rgb(${r} ${g} ${b})`;

export function applyTheme(container, root) {
  const hostColors = new CSSStyleSheet();
  root.adoptedStyleSheets = [...root.adoptedStyleSheets, hostColors];
  const update = () => {
    const chosen = container.dataset.kithTheme;
    const background = hostBackground(container);
    const text = parseRgb(getComputedStyle(container).color);
    const pageIsDark = background && brightness(background) < 0.5;
    const dark = chosen == 'dark' || (chosen != 'light' && (background ? pageIsDark : prefersDark.matches));
    container.dataset.kithScheme = dark ? 'dark' : 'light';
    // Borrow the page's colours only when they make a readable pair.
    const borrow = dark && pageIsDark && text && brightness(text) - brightness(background) > 0.4;
    hostColors.replaceSync(borrow ? `:host{--kith-host-text:${cssColor(text)};--kith-host-bg:${cssColor(background)}}` : '');
  };
  update();
  // Pages with a dark mode of their own switch their colours on the same signal.
  prefersDark.addEventListener('change', update);
}
