// Identicons drawn in the browser, so no avatar request ever leaves for a third party. Each is a
// single element whose filled cells are background layers, painted once it scrolls into view.
// Only when the site owner turned on Libravatar or Gravatar does a comment carry an
// `avatar_url` (made by the server from a hash of the address); that picture is then loaded
// lazily, without a referrer, and replaced by the identicon when it does not load.
import { el } from './dom.js';

const hexOf = new WeakMap();
let observer;

/**
 * A 5×5 mirrored grid from the comment's `avatar` hex string (a hash the server derives from the
 * e-mail): the first three digits pick the hue, the next ones which cells are filled.
 */
function draw(avatar) {
  const hex = hexOf.get(avatar), digit = i => parseInt(hex[i], 16) || 0;
  const fill = `hsl(${((digit(0) << 8) | (digit(1) << 4) | digit(2)) % 360},55%,50%)`;
  const images = [], positions = [];
  // 15 cells: the left three columns, mirrored onto the right two. The tile is 6.5 cells wide
  // (a margin of .75 around the grid); a layer's percentage position is its offset / 5.5 cells.
  for (let cell = 0; cell < 15; cell++) {
    if ((digit(3 + (cell >> 2)) >> (cell & 3)) & 1) {
      const column = (cell / 5) | 0, y = (75 + (cell % 5) * 100) / 5.5;
      for (const x of [column, 4 - column]) {
        images.push(`linear-gradient(${fill},${fill})`);
        positions.push(`${(75 + x * 100) / 5.5}% ${y}%`);
      }
    }
  }
  avatar.style.backgroundImage = images.join();
  avatar.style.backgroundPosition = positions.join();
}

/**
 * The avatar tile (`blank`, an empty one, when given: comment.js clones it with the card); its
 * cells are drawn when it comes near the screen.
 */
export function identicon(hex, blank) {
  const avatar = blank || el('span', { className: 'kith-avatar', 'aria-hidden': 'true' });
  hexOf.set(avatar, hex || '');
  observer ||= new IntersectionObserver(entries => {
    for (const { isIntersecting, target } of entries) {
      if (isIntersecting) {
        observer.unobserve(target);
        draw(target);
      }
    }
  }, { rootMargin: '200px' });
  observer.observe(avatar);
  return avatar;
}

/**
 * The commenter's picture: the site's Libravatar or Gravatar one if it has one, else the
 * identicon (in `blank`, when given).
 */
export function avatar(comment, blank) {
  if (!/^https:\/\//.test(comment.avatar_url || '')) return identicon(comment.avatar, blank);
  const image = el('img', {
    // `src` last: the other attributes are in place when the request is made.
    className: 'kith-avatar', alt: '', loading: 'lazy', referrerPolicy: 'no-referrer', width: 40, height: 40,
    onerror: () => image.replaceWith(identicon(comment.avatar)),
    src: comment.avatar_url,
  });
  return image;
}
