// One comment and its replies, with the reader's actions on it (like, reply, report, and edit or
// delete for the comment's own author while the edit window is open).
import { el, button, trusted } from './dom.js';
import { avatar } from './avatar.js';
import { pickerButton, showReactions, flip } from './reactions.js';

const isWebUrl = url => /^https?:\/\//i.test(url || '');

// While parseBodies renders a page: its comments' bodies, as [element, html], to be parsed at once.
let queue;

/**
 * Runs `render` (which renders a page of comments) and parses the bodies of the comments it
 * rendered in one go: one parse of all the bodies, each in its own `<template>` (which also stops
 * an unclosed `<b>` or `<a>` from being re-opened in the next body), rather than one `innerHTML`
 * per comment. The bodies are the server's sanitized HTML, but one comment's markup must never
 * reach into another's card: the parse is used only when it gives exactly one top-level node per
 * body, in order, each carrying a marker no body can forge (a random number drawn now, plus the
 * body's index), so each is the wrapper made for that body and none is nested in another.
 * Otherwise (a stray `</template>`, an unclosed comment or `<textarea>`…) nothing of it is used
 * and each body is parsed on its own. Returns whether the joined parse is used.
 */
export function parseBodies(render) {
  const all = queue = [], mark = Math.random(), holder = el('template');
  render();
  queue = null;
  // (Plain loops: a host page may have replaced Array.prototype.map and its kin.)
  let joined = '';
  for (let i = 0; i < all.length; i++) joined += `<template data-k=${mark + i}>${all[i][1]}</template>`;
  holder.innerHTML = trusted(joined);
  const nodes = holder.content.childNodes;
  let ok = nodes.length == all.length;
  for (let i = 0; ok && i < all.length; i++) ok = nodes[i].dataset?.k == mark + i;
  for (let i = 0; i < all.length; i++) ok ? all[i][0].append(nodes[i].content) : all[i][0].innerHTML = trusted(all[i][1]);
  return ok;
}

/** Puts sanitized `html` into `body`: now, or with the page's other bodies (parseBodies). */
const fillBody = (body, { html }) => {
  html = html.trim();  // (a trailing newline would be one more node)
  queue ? queue.push([body, html]) : body.innerHTML = trusted(html);
};

/**
 * A pingback or trackback: the linking page's title (linked), the excerpt it sent and the date;
 * no replies and no actions.
 */
export function renderLinkback(view, linkback) {
  const { t, ago } = view.i18n;
  const website = isWebUrl(linkback.website) ? linkback.website : null;
  const excerpt = el('div', { className: 'kith-body kith-excerpt' });
  fillBody(excerpt, linkback);  // sanitized by the server
  return el('li', { className: 'kith-linkback', id: 'comment-' + linkback.id },
    el('div', { className: 'kith-meta' },
      el(website ? 'a' : 'span', { className: 'kith-author', href: website, rel: website && 'nofollow ugc noopener' },
        linkback.author || t('anon')),
      el('time', { className: 'kith-time', dateTime: linkback.created_at }, ago(linkback.created_at))),
    excerpt);
}

// Per view (thread.js's shared state): the card every comment is cloned from, made once with the
// view's labels in it, and each rendered item's comment, for the one click listener of the view.
const cards = new WeakMap();
const commentOf = new WeakMap();

/** The blank card's elements, with `t`'s labels and, when `reactions`, the picker's button. */
export function makeCard(t, reactions) {
  const act = (name, value) => el('input', { type: 'button', className: 'kith-link-button', value, 'data-act': name });
  return el('li', { className: 'kith-comment' },
    el('article', { className: 'kith-card', tabIndex: -1 },
      el('span', { className: 'kith-avatar', 'aria-hidden': 'true' }),
      el('span', { className: 'kith-author' }),
      el('a', { className: 'kith-time' }),
      el('div', { className: 'kith-body' }),
      el('input', { type: 'button', className: 'kith-link-button kith-like', 'aria-pressed': 'false', 'data-act': 'like' }),
      reactions && pickerButton(t),
      act('reply', t('reply')),
      act('report', t('report'))),
    el('ol', { className: 'kith-replies' }));
}

/**
 * The view's blank comment card: an `<li>` holding the `<article>` (avatar, author, permalink
 * time, body, Like, Reply, Report) and the replies' `<ol>`. Cloning it with `cloneNode(true)`
 * and filling in the comment costs a fraction of creating each element and setting its
 * properties one by one (a long thread's first page has 200 of them). The actions take no
 * listener of their own: one click listener on the section (which holds every list of comments,
 * live updates' included) finds the comment through its item and does what the button's
 * `data-act` says. Keyboard activation of a button is a click too.
 */
function blankCard(view) {
  let card = cards.get(view);
  if (card) return card;
  card = makeCard(view.i18n.t, view.settings?.reactions);
  cards.set(view, card);
  view.section.addEventListener('click', ({ target }) => {
    // (The attribute itself: `dataset.act` of an element without one would be a polluted
    // Object.prototype's `act`.)
    const name = target.getAttribute('data-act'), item = name && target.closest('.kith-comment');
    const comment = item && commentOf.get(item);
    if (!comment) return;
    if (name == 'like') likeComment(view, comment, target);
    else if (name == 'react') flip(view, comment, target);
    else if (name == 'reply') view.form.open(comment, item);
    else if (name == 'report') reportComment(view, comment);
  });
  return card;
}

/**
 * Renders `comment` (with `comment.replies`) as an `<li>`; `view` is the thread's shared state.
 * Kept to 15 DOM nodes for a one-paragraph comment (long threads stay light): no wrapper
 * elements (the card's padding holds the avatar, its children flow in lines), the avatar is one
 * element, the time is its own permalink, and Like, the reaction picker's button, Reply and
 * Report are `<input type=button>`, whose label needs no text node (reactions.js: given
 * reactions are one such button each). The card is a clone of the view's blank one (blankCard),
 * from which what this comment does not have is taken out.
 */
export function renderComment(view, comment) {
  const { t, ago } = view.i18n;
  const own = view.own.entries[comment.id];
  const deleted = comment.status == 'deleted', pending = comment.status == 'pending';
  if (own && comment.status == 'approved') {
    own.comment.status = 'approved';
    view.own.persist();
  }

  const item = blankCard(view).cloneNode(true);
  const article = item.firstChild, replies = item.lastChild;
  let [face, author, time, body, like, ...actions] = article.children;
  // (the reaction picker's button, when the site has reactions, is between Like and Reply)
  const [more, reply, report] = view.settings?.reactions ? actions : [null, ...actions];
  item.id = 'comment-' + comment.id;
  commentOf.set(item, comment);
  // (kith-pinned: live updates put new top-level comments after the pinned ones.)
  if (comment.pinned) item.classList.add('kith-pinned');
  // The permalink is the time itself (no <time> inside: one node less per comment); its
  // exact date is in data-time, shown as a tooltip when pointed at. The address is this page's
  // own, in full: relative, it would follow a `<base href>` of the host page to another site.
  time.href = location.href.replace(/#.*/, '') + '#comment-' + comment.id;
  time.dataset.time = comment.created_at;
  time.textContent = ago(comment.created_at);
  // The server's sanitized HTML: the only thing that ever goes into innerHTML.
  if (deleted) {
    body.append(el('em', {}, t('deleted')));
    face.remove();
    author.remove();
  } else {
    fillBody(body, comment);
    const picture = avatar(comment, face);
    if (picture != face) face.replaceWith(picture);
    const website = isWebUrl(comment.website) ? comment.website : null;
    if (website) author.replaceWith(author = el('a', { className: 'kith-author', href: website, rel: 'nofollow ugc noopener' }));
    author.textContent = comment.author || t('anon');
  }
  // Badges and notes, rarely there: only then is anything put in (Element.before would turn a
  // `false` into text).
  if (comment.verified || comment.owner || comment.pinned) {
    time.before(...[
      // The author was signed in (e-mail link or a provider): a small mark, its words for screen readers.
      comment.verified && el('span', { className: 'kith-verified', title: t('verified') },
        el('span', { 'aria-hidden': 'true' }, '✓'), el('span', { className: 'kith-visually-hidden' }, t('verified'))),
      comment.owner && el('span', { className: 'kith-badge' }, t('owner')),
      comment.pinned && el('span', { className: 'kith-badge' }, t('pinned')),
    ].filter(Boolean));
  }
  if (pending) time.after(el('p', { className: 'kith-pending' }, t('pending')));
  if (comment.edited_at) time.after(el('span', { className: 'kith-time' }, '· ' + t('edited')));
  for (const reply of comment.replies || []) replies.append(renderComment(view, reply));
  if (deleted || pending) {
    like.remove();
    more?.remove();
    reply.remove();
    report.remove();
  } else {
    showLikes(view, like, comment.likes, view.liked.ids[comment.id]);
    if (more) showReactions(view, comment, more);
    if (view.closed) reply.remove();
  }
  if (deleted) return item;
  if (own && new Date(own.editable_until) > Date.now()) {
    addOwnerActions(view, { comment, own, item, article, body });
  }
  return item;
}

/** Likes `comment` (the Like button `button` was pressed). */
async function likeComment(view, comment, button) {
  try {
    const result = await view.api(`comments/${comment.id}/like`, { method: 'POST' });
    view.liked.ids[comment.id] = 1;
    view.liked.persist();
    showLikes(view, button, result.likes, true);
  } catch (error) {
    view.announce(view.errorMessage(error));
  }
}

/** The like count on `like`, and whether this browser gave one (the blank card's says not). */
function showLikes(view, like, count, pressed) {
  like.value = '♥ ' + count;
  like.setAttribute('aria-label', view.i18n.t('like') + ' ' + count);
  if (pressed) like.setAttribute('aria-pressed', true);
}

// Dialogs and the edit box come with the posting UI (embed-form.js, loaded on demand: view.ui).
function reportComment(view, comment) {
  const { t } = view.i18n;
  view.ui(ui => ui.openDialog(view, {
    title: t('report'),
    field: { label: t('report_q'), rows: 3 },
    confirmLabel: t('report'),
    onConfirm: async reason => {
      await view.api(`comments/${comment.id}/report`, { method: 'POST', body: { reason } });
      return t('reported');
    },
  }));
}

/** Edit, Delete and the time left to use them; they disappear when the edit window closes. */
function addOwnerActions(view, { comment, own, item, article, body }) {
  const { t } = view.i18n;
  // Without an edit token (a signed-in reader's comment from another browser), the session is the proof.
  const ownerHeaders = own.edit_token ? { 'X-Edit-Token': own.edit_token } : {};
  const timeLeft = el('span', { className: 'kith-time-left' });

  const edit = button(t('edit'), () => view.ui(ui => ui.editBox(view, { comment, own, item, article, body, edit, ownerHeaders })));

  const remove = button(t('del'), () => view.ui(ui => ui.openDialog(view, {
    title: t('del'),
    text: t('del_q'),
    confirmLabel: t('del'),
    onConfirm: async () => {
      await view.api('comments/' + comment.id, { method: 'DELETE', headers: ownerHeaders });
      delete view.own.entries[comment.id];
      view.own.persist();
      const replies = item.lastChild;
      // With replies, a placeholder keeps them in place; without, the comment goes.
      if (replies.children.length) view.replaceComment(item, { ...comment, status: 'deleted', author: '', html: '' });
      else {
        view.form.rescueFrom(item);
        item.remove();
      }
      view.setTotal(view.total - (comment.status != 'pending'));
      return t('removed');
    },
  })));

  const end = new Date(own.editable_until);
  // A signed-in reader on a site that lets them edit for good (the year 9999): no countdown.
  if (end.getFullYear() > 9000) return article.append(edit, remove);
  const update = () => {
    const left = end - Date.now();
    if (left <= 0) {
      edit.remove();
      remove.remove();
      timeLeft.remove();
      return false;
    }
    const minutes = (left / 60000) | 0, seconds = String(((left / 1000) % 60) | 0).padStart(2, '0');
    timeLeft.textContent = t('left', { t: `${minutes}:${seconds}` });
    return true;
  };
  article.append(edit, remove, timeLeft);
  if (update()) view.everySecond(timeLeft, update);
}
