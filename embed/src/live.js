// embed-live.js: live updates of the open thread (docs/embed.md, "Live updates"), an ES module
// thread.js loads on demand once the first comments are painted, and only when the server has
// them on (`settings.live`). It listens to the thread's Server-Sent Events stream
// (`GET …/thread/events`), fetches each comment announced there (`GET …/comments/{id}`) and
// gathers them behind one "2 new comments" button at the top of the thread; pressing it puts
// them in their places without touching what is shown. `el` comes from embed.js (`provide`).
export { provide } from 'kith:base';
import { el } from './dom.js';

// Waits before opening the stream again after it failed or was refused: the first, doubled on
// each further failure up to the last, plus up to as much again at random (so that the readers
// of a restarted server do not all come back in the same second). A stream that stayed open
// HEALTHY_MS resets it (one that the server ends at once does not).
const FIRST_RETRY_MS = 10_000, MAX_RETRY_MS = 600_000, HEALTHY_MS = 60_000;
// A page hidden this long lets its stream go (it opens again, and catches up, when shown).
const HIDDEN_CLOSE_MS = 60_000;

/**
 * Starts live updates for the thread `view` shows (thread.js). `view` gives `api`, `root`,
 * `i18n`, `spot`, `render`, `replaceComment`, `setTotal` and `firstPage`; this sets `view.live`,
 * which thread.js calls when comments were added to the page some other way (the reader's own,
 * "Load more", another sort order).
 */
export function startLive(view, eventsUrl) {
  const { t } = view.i18n;
  // Announced comments not in the page yet, by id, in the order they came.
  const waiting = new Map();
  const shown = id => view.root.getElementById('comment-' + id);

  const button = el('button', { type: 'button', className: 'kith-button', hidden: true, onclick: () => {
    let first;
    // In arrival order: a reply's parent, when new too, is put in before it.
    for (const [id, comment] of waiting) {
      const put = !shown(id) && view.spot(comment);
      if (!put) continue;
      const item = view.render(comment);
      put(item);
      first ||= item;
      view.setTotal(view.total + 1);
    }
    waiting.clear();
    update();
    // The button is gone: the focus goes to the first comment put in (which brings it into view).
    first?.firstChild.focus();
  } });
  // A polite live region: "2 new comments" is read out when it appears or changes.
  view.list.before(el('div', { 'aria-live': 'polite', className: 'kith-live' }, button));

  /** Drops what is in the page by now from the waiting ones and shows how many are left. */
  const update = view.live = () => {
    for (const id of waiting.keys()) if (shown(id)) waiting.delete(id);
    button.hidden = !waiting.size;
    button.textContent = waiting.size ? t('new_comments', { n: waiting.size }) : '';
  };

  /**
   * A comment that is published now: the one shown already (the reader's own, held until now, or
   * a deleted one restored) is updated in place; a new one waits behind the button if its place
   * is on the page (its parent is, or comes with the button too; a top-level one belongs to the
   * pages loaded) — otherwise "Load more" brings it. Pingbacks and the like are not announced.
   */
  const arrived = comment => {
    // (a resync's page also holds the placeholders of deleted comments)
    if (comment.status != 'approved') return;
    const item = shown(comment.id);
    if (item) {
      const card = item.firstChild;
      if (card.querySelector('.kith-pending') || !card.querySelector('.kith-author')) {
        view.replaceComment(item, comment);
        view.setTotal(view.total + 1);
      }
    } else if ((comment.kind || 'comment') == 'comment' && (view.spot(comment) || waiting.has(comment.parent_id))) {
      waiting.set(comment.id, { ...comment, replies: [] });
    }
  };

  // Comments are fetched side by side but taken in the order they were announced: a reply
  // announced just after its new parent must find the parent waiting already (were it taken
  // first, it would have no place and be dropped).
  let inOrder = Promise.resolve();
  const fetchComment = data => {
    let fetched;
    try {
      const { id } = JSON.parse(data);
      // (a failed fetch is a comment not to show, handled now, not when its turn comes)
      fetched = Number.isInteger(id) ? view.api('comments/' + id).then(c => c, () => null) : null;
    } catch {
      return;
    }
    inOrder = inOrder.then(async () => {
      try {
        const comment = await fetched;
        if (comment) arrived(comment);
        update();
      } catch {
        // Gone again (deleted or held since), or the network: nothing to show.
      }
    });
  };

  /** Announcements may have been missed: the first page again, quietly; what is new waits behind the button. */
  const resync = async () => {
    try {
      const walk = comments => comments.map(comment => (arrived(comment), walk(comment.replies || [])));
      walk((await view.firstPage()).comments);
      update();
    } catch {
      // The next resync or announcement catches up.
    }
  };

  let source, retryMs = FIRST_RETRY_MS, retryTimer, hiddenTimer, openedAt, caughtUp = true;
  const close = () => {
    source?.close();
    source = null;
  };
  const open = () => {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (source) return;
    source = new EventSource(eventsUrl);
    source.onopen = () => {
      openedAt = Date.now();
      // Opened again after a break: what was published meanwhile comes through a resync.
      if (!caughtUp) resync();
      caughtUp = true;
    };
    source.addEventListener('comment', event => fetchComment(event.data));
    source.addEventListener('resync', resync);
    // The browser would reconnect by itself after a dropped stream (a server stopping ends it),
    // but gives up for good on an HTTP error (429 or 503 for the server's `[live]` caps): either
    // way the stream is closed here and opened again later, backing off.
    source.onerror = () => {
      if (openedAt && Date.now() - openedAt > HEALTHY_MS) retryMs = FIRST_RETRY_MS;
      openedAt = null;
      close();
      caughtUp = false;
      retryTimer = setTimeout(open, retryMs * (1 + Math.random()));
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    };
  };

  // A hidden page keeps its stream a minute (switching tabs for a moment costs nothing), then
  // lets it go; shown again, it reopens (unless a retry is pending) and catches up. Leaving the
  // page closes it at once.
  const hide = () => {
    clearTimeout(hiddenTimer);
    // (From Document.prototype: markup on the page can shadow `document.hidden`.)
    if (Reflect.get(Document.prototype, 'hidden', document)) {
      hiddenTimer = setTimeout(() => {
        if (source) caughtUp = false;
        close();
      }, HIDDEN_CLOSE_MS);
    } else if (!retryTimer) open();
  };
  addEventListener('visibilitychange', hide);
  addEventListener('pagehide', () => {
    if (source) caughtUp = false;
    close();
  });
  addEventListener('pageshow', event => event.persisted && !retryTimer && open());
  open();
  hide();
}
