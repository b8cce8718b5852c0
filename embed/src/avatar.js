// Identicons drawn in the browser, so no avatar request ever leaves for a third party.
import { svgEl } from './dom.js';

/**
 * A 5×5 mirrored grid from the comment's `avatar` hex string (a hash the server derives from the
 * e-mail): the first three digits pick the hue, the next ones which cells are filled.
 */
export function identicon(hex) {
  const digits = [...(hex || '')].map(c => parseInt(c, 16) || 0);
  const fill = `hsl(${((digits[0] << 8) | (digits[1] << 4) | digits[2]) % 360},55%,50%)`;
  const svg = svgEl('svg', { viewBox: '-.75 -.75 6.5 6.5', class: 'kith-avatar', 'aria-hidden': 'true' });
  // 15 cells: the left three columns, mirrored onto the right two.
  for (let cell = 0; cell < 15; cell++) {
    if ((digits[3 + (cell >> 2)] >> (cell & 3)) & 1) {
      const column = (cell / 5) | 0, y = cell % 5;
      svg.append(
        svgEl('rect', { x: column, y, width: 1, height: 1, fill }),
        svgEl('rect', { x: 4 - column, y, width: 1, height: 1, fill }),
      );
    }
  }
  return svg;
}
