// Reactions beside the like: the comment's reactions as toggle buttons, only those given, and
// a button that shows the whole set to pick from (so a comment nobody reacted to costs one more
// node). Which ones this browser gave is kept in localStorage, as likes are: the thread JSON is
// one cached page for every reader, so it cannot say.
import { el } from './dom.js';

// The fixed set, in the server's order (src/domain/reaction.rs): id → [emoji, label's key].
const SET = {
  '+1': ['👍', 'r_up'], heart: ['❤️', 'r_heart'], laugh: ['😄', 'r_laugh'],
  hooray: ['🎉', 'r_hooray'], confused: ['😕', 'r_confused'], eyes: ['👀', 'r_eyes'],
};
const IDS_LAST_FIRST = Object.keys(SET).reverse();

// Each card's reactions, once shown: the picker's button → its { show, flip }.
const pickers = new WeakMap();

/**
 * The button that shows or hides the rest of the set, blank: comment.js puts it in the card every
 * comment is cloned from, and its clicks come through the view's one listener (`flip`).
 */
export const pickerButton = t => el('input', {
  type: 'button', className: 'kith-link-button kith-react', value: '☺+', title: t('react'), 'aria-label': t('react'),
  'aria-expanded': 'false', 'data-act': 'react',
});

/**
 * Shows the reactions given to `comment` before its picker button `more` (in the card). A
 * comment nobody reacted to (most) costs nothing more here: its buttons are made on the first
 * press of `more`.
 */
export function showReactions(view, comment, more) {
  if (view.reacted.ids[comment.id] || Object.keys(comment.reactions || {}).length) picker(view, comment, more);
}

/** Opens or closes the whole set of `comment`'s reactions (its picker button `more` was pressed). */
export const flip = (view, comment, more) => picker(view, comment, more).flip();

function picker(view, comment, more) {
  let made = pickers.get(more);
  if (made) return made;
  const { t } = view.i18n;
  const { reacted } = view;
  let counts = comment.reactions || {}, open = false;
  const buttons = {};
  // Escape closes the picker and puts the focus back on its button.
  const onkeydown = event => {
    if (event.key == 'Escape' && open) {
      open = false;
      show();
      more.focus();
    }
  };
  more.addEventListener('keydown', onkeydown);

  const toggle = async id => {
    const mine = reacted.ids[comment.id] || {}, on = !mine[id];
    try {
      const result = await view.api(`comments/${comment.id}/reactions/${encodeURIComponent(id)}`, { method: on ? 'POST' : 'DELETE' });
      if (on) mine[id] = 1;
      else delete mine[id];
      reacted.ids[comment.id] = mine;
      if (!Object.keys(mine).length) delete reacted.ids[comment.id];
      reacted.persist();
      counts = result.reactions;
      show();
      // A reaction taken back that nobody else gave goes (unless the picker is open).
      if (buttons[id].hidden) more.focus();
    } catch (error) {
      view.announce(view.errorMessage(error));
    }
  };

  // Buttons are made when first shown and then kept, hidden or not, so the one a reader just
  // pressed keeps the keyboard focus; each goes into the card before the next one (or `more`).
  const show = () => {
    const mine = reacted.ids[comment.id] || {};
    let next = more;
    for (const id of IDS_LAST_FIRST) {
      const n = counts[id] || 0, visible = open || n > 0 || !!mine[id];
      let button = buttons[id];
      if (!button && visible) {
        button = buttons[id] = el('input', { type: 'button', className: 'kith-link-button kith-reaction', onclick: () => toggle(id), onkeydown });
        next.before(button);
      }
      if (!button) continue;
      button.hidden = !visible;
      const [emoji, label] = SET[id];
      button.value = n ? emoji + ' ' + n : emoji;
      button.setAttribute('aria-label', t(label) + ' ' + n);
      button.setAttribute('aria-pressed', !!mine[id]);
      next = button;
    }
    more.setAttribute('aria-expanded', open);
  };
  show();
  made = {
    flip: () => {
      open = !open;
      show();
      if (open) buttons['+1'].focus();
    },
  };
  pickers.set(more, made);
  return made;
}
