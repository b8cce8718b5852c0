// The thread view: heading with the count, sort order, the comments, "Load more", and the form.
import { el, button, trusted } from './dom.js';
import { doc } from './server.js';
import { createApi } from './api.js';
import { loadStrings, createTranslator } from './locale.js';
import { load, save, ownComments, likedComments, reactedComments } from './storage.js';
import { renderComment, renderLinkback, parseBodies, makeCard } from './comment.js';
import { applyTheme } from './theme.js';
import styles from './embed.css';

const PAGE_SIZE = 50;
// How many comments the first frame shows: what a screen holds under a post (four comments of
// at least a line each, with the replies of the last top-level one); the rest of the first page
// comes a frame later. Each comment more in the first frame is style and layout before the first
// paint (12 cost a third more than 4 in Chromium traces).
const FIRST_SCREEN = 4;
// When not even the language files load (the server is down).
const LOAD_ERROR = 'Comments could not be loaded.';

/**
 * The page's path; for plain permalinks (WordPress's `/?p=123`, `/?page_id=7`) with that query
 * parameter too, since the path alone would put every post of such a blog in one thread.
 */
function defaultThreadKey() {
  const plain = /[?&](p|page_id)=(\d+)(&|$)/.exec(location.search);
  return location.pathname + (plain ? `?${plain[1]}=${plain[2]}` : '');
}

/**
 * The post's title: the page's og:title when it has one, else document.title without a site
 * name suffix (" · Site", " | Site", " – Site", " - Site").
 */
function pageTitle() {
  const openGraph = doc('querySelector')('meta[property="og:title"]')?.content.trim();
  return openGraph || doc('title').replace(/\s+[·|–—-]\s+[^·|–—-]+$/, '').trim();
}

/**
 * Sends the thread's first requests (the first page, the settings, the likely language file) for
 * `container`, before anything else: a small function of its own, so that they leave before the
 * browser has even compiled the rest of the embed (mountThread). Returns what mountThread needs.
 */
export function requestThread(container, serverBase) {
  const options = container.dataset;
  const site = options.kithSite || 'default';
  const threadKey = options.kithKey || defaultThreadKey();
  const api = createApi(serverBase, site);
  // Reading one's own writes: after this reader posted, edited or deleted a comment, the answer's
  // `read_marker` (`<until_ms>.<tag>`, kept by api.js) goes back as `fresh=` until it expires, so
  // that thread reads come from the primary database and show the reader's own comment even when
  // the server reads from a replica that lags behind (docs/deploy.md). A query parameter, because
  // a cookie would not travel (the API is on another site) and a header would cost a preflight.
  const fetchPage = (sort, cursor, marker = load('fresh:' + site)) =>
    api(`thread?key=${encodeURIComponent(threadKey)}&sort=${sort}&limit=${PAGE_SIZE}`
      + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '')
      + (parseInt(marker) > Date.now() ? '&fresh=' + marker : ''));
  // The language is the container's, else the site's (known with the settings); the likely one
  // (the container's, else the page's) is fetched at once.
  const likelyLang = options.kithLang || doc('documentElement').lang || 'en';
  // Without the read marker: reading the browser's storage first would hold the requests (its
  // first read waits for the browser to load it); mountThread asks again when there is one.
  const unmarked = fetchPage('oldest', null, '');
  const settings = api('settings');
  loadStrings(serverBase, likelyLang);
  return { options, site, threadKey, api, fetchPage, likelyLang, unmarked, settings };
}

/**
 * Renders the thread into a shadow root of `container`, with the requests `requestThread` sent.
 * Resolves to the translator (for the page's comment counts), or null when the thread could not
 * be loaded.
 */
export async function mountThread(container, serverBase, requests) {
  const { options, site, threadKey, api, likelyLang, unmarked } = requests;
  let sort = 'oldest';
  const fetchPage = (cursor, marker) => requests.fetchPage(sort, cursor, marker);

  // A reader who wrote in the last seconds has a read marker: their first page is asked again
  // with it (from the primary database), and the page asked without it is dropped.
  const marker = load('fresh:' + site);
  const firstPageRequest = parseInt(marker) > Date.now() ? fetchPage(null, marker) : unmarked;
  unmarked.catch(() => {});
  // A signed-in reader's own comments, from whichever browser they posted them: Edit and Delete
  // then go through the session (docs/signin.md). Asked only when this page has a session.
  const data = Promise.all([requests.settings, firstPageRequest, load(api.key) && api('auth/comments').catch(() => null)]);

  // Requests on their way, the frame is set up while they travel.
  const root = container.attachShadow({ mode: 'open' });
  // The styles came with the script: no request, and the first paint is already styled.
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(styles);
  root.adoptedStyleSheets = [sheet];
  // Before the section is in: the theme reads the page's computed colours, which brings the
  // page's styles up to date, and with the section (a size container) in the shadow root that
  // would lay it out too, once more than needed.
  applyTheme(container, root);
  const announcer = el('div', { className: 'kith-visually-hidden', role: 'status' });
  const section = el('section', { className: 'kith', 'aria-labelledby': 'kith-heading' }, announcer);
  root.append(section);
  // While the requests travel, the frame the browser draws anyway styles and lays out, out of
  // sight, what the first comments use: a header like the real one and a comment card with a
  // linked body. The stylesheet's first use (its rules matched for the first time, the bold and
  // small faces loaded, the buttons' and the select's own styles) is then over before the frame
  // that shows the first comments (docs/embed.md, "Keeping long threads light").
  const card = makeCard(String, 1), [, author, time, body, like] = card.firstChild.children;
  author.append(1);
  time.append(1);
  body.append(el('p', {}, 1, el('a', {}, 1)));
  like.value = '♥ 1';
  const warm = el('div', { className: 'kith-warm' },
    el('div', { className: 'kith-header' }, el('h2', { className: 'kith-heading' }, 1),
      el('label', { className: 'kith-sort' }, el('select', {}, el('option', {}, 1)))),
    el('ol', {}, card));
  section.append(warm);

  // The reader's own comments and likes, read while the requests travel (the first read of
  // localStorage waits for the browser to load it).
  const own = ownComments(site), liked = likedComments(site), reacted = reactedComments(site);

  let settings, firstPage, strings, mine;
  try {
    [settings, firstPage, mine] = await data;
    for (const c of mine?.comments || []) own.entries[c.id] ||= { id: c.id, editable_until: c.editable_until, comment: c, key: c.thread_key };
    strings = await loadStrings(serverBase, options.kithLang || settings.language || 'en');
    if (!strings) throw new Error('no interface strings');
  } catch (error) {
    strings = await loadStrings(serverBase, likelyLang);
    const { t } = strings ? createTranslator(strings) : { t: () => LOAD_ERROR };
    let message = t('load_error');
    // The site does not allow this page's origin: say so, and how to fix it.
    if (error.error == 'origin_not_allowed') {
      message = t('origin_error', { origin: location.origin });
      console.warn('kith: ' + message);
    }
    section.append(el('p', { className: 'kith-form-error' }, message));
    return null;
  } finally {
    warm.remove();
  }
  const i18n = createTranslator(strings);
  const { t } = i18n;
  section.lang = i18n.lang;
  // A time's exact date and time, as its tooltip: made when pointed at, not for every comment.
  section.addEventListener('mouseover', ({ target }) => {
    const at = target.dataset?.time || (target.localName == 'time' && target.dateTime);
    if (at && !target.title) target.title = i18n.exactTime(at);
  });

  // Shared state and helpers for the comment and form modules (without a prototype: a field not
  // set yet, such as `live`, is not taken from a polluted Object.prototype).
  const view = {
    __proto__: null,
    api, site, threadKey, root, section, settings, i18n, serverBase,
    threadTitle: options.kithTitle || pageTitle(),
    closed: !!firstPage.thread?.closed,
    own,
    liked,
    reacted,
    total: 0,
    announce: message => { announcer.textContent = message; },
    errorMessage: error => (error.status && error.message) || t('error'),
  };

  const heading = el('h2', { className: 'kith-heading', id: 'kith-heading' });
  const list = el('ol', { className: 'kith-list' });
  /** Sets the count of published comments; with none, the heading says whether the reader's own are held. */
  view.setTotal = count => {
    view.total = count;
    heading.textContent = count ? t('comments', { n: count })
      : list.querySelector('.kith-pending') ? t('held') : t('empty');
  };

  let cursor = null;
  const loadMore = el('button', {
    type: 'button', className: 'kith-button kith-secondary', hidden: true,
    onclick: async () => {
      loadMore.disabled = true;
      try {
        const page = await fetchPage(cursor);
        appendAll(page.comments);
        setCursor(page.next_cursor);
      } catch (error) {
        view.announce(view.errorMessage(error));
      }
      loadMore.disabled = false;
    },
  }, t('more'));
  const setCursor = next => {
    cursor = next;
    loadMore.hidden = !next;
  };

  const sortSelect = el('select', {
    onchange: async () => {
      sort = sortSelect.value;
      try {
        const page = await fetchPage();
        view.form.rescueFrom(list);
        list.textContent = linkbacks.textContent = '';
        fill(page);
      } catch (error) {
        view.announce(view.errorMessage(error));
      }
    },
  });
  for (const order of ['oldest', 'newest', 'top']) sortSelect.append(el('option', { value: order }, t(order)));

  // Edit windows count down once a second; entries drop out when their element is gone.
  let countdowns = [], ticking;
  view.everySecond = (element, update) => {
    countdowns.push([element, update]);
    ticking ||= setInterval(() => {
      countdowns = countdowns.filter(([element, update]) => element.isConnected && update());
    }, 1000);
  };

  /** Re-renders a comment in place, keeping its replies. */
  view.replaceComment = (item, comment) => {
    const fresh = renderComment(view, comment);
    view.form.rescueFrom(item);
    fresh.lastChild.replaceWith(item.lastChild);
    item.replaceWith(fresh);
    return fresh;
  };

  /** Adds a comment just posted by this reader, under its parent or in the list. */
  view.addComment = (comment, parentId) => {
    const item = renderComment(view, comment);
    const parent = parentId && root.getElementById('comment-' + parentId);
    if (parent) parent.lastChild.append(item);
    else if (sort == 'newest') list.prepend(item);
    else list.append(item);
    view.setTotal(view.total + (comment.status == 'approved'));
    view.live?.();
    return item;
  };

  // For live updates (live.js): comments that arrive after the page was built.
  view.list = list;
  view.render = comment => renderComment(view, comment);
  view.firstPage = () => fetchPage();
  /**
   * Where `comment` goes in the current order, as a function that puts its item there; null when
   * that place is not on the page (its parent is not, or it belongs to a page not loaded yet).
   * Replies come oldest first under their parent; top-level comments by date (newest: after the
   * pinned ones), or last (top: a new comment has no likes yet).
   */
  view.spot = ({ parent_id, created_at }) => {
    if (parent_id) {
      const parent = root.getElementById('comment-' + parent_id);
      return parent && (item => parent.lastChild.append(item));
    }
    const at = Date.parse(created_at), newest = sort == 'newest';
    const next = sort != 'top' && [...list.children].find(other => !other.classList.contains('kith-pinned')
      && newest == Date.parse(other.querySelector('.kith-time')?.dataset.time) < at);
    return next ? item => next.before(item) : cursor ? null : item => list.append(item);
  };

  // The posting UI (form, editor, dialogs: embed-form.js) is a second file, loaded after the
  // first frame with the comments in it (nothing the first paint does not need is fetched or
  // runs before it), or at once when the reader presses Reply, Report, Edit or Delete before
  // then. `view.ui(use)` calls `use` with the module once it is there (a failed load is
  // announced and tried again next time). FORM_VERSION (build.mjs: a hash of embed-form.js)
  // keeps a cached embed.js from loading another build's module.
  let ui;
  view.ui = use => (ui ||= import(`${serverBase}embed-form.js?v=${FORM_VERSION}`)
    .then(module => (module.provide({ el, button, load, save, trusted }), module), error => { ui = null; throw error; }))
    .then(use, error => view.announce(view.errorMessage(error)));
  const buildForm = () => view.ui(({ createForm }) => {
    if (!view.form.home) {
      view.form = createForm(view);
      section.append(view.form.home);
    }
    return view.form;
  });
  view.form = { __proto__: null, open: (comment, item) => buildForm().then(form => form?.open(comment, item)), rescueFrom() {} };

  // Pingbacks and trackbacks: after the comments, as a compact list of links (put in the page
  // when the first one arrives).
  const linkbacks = el('ol', { className: 'kith-list' });
  const linkbackSection = el('div', {},
    el('h3', { className: 'kith-form-title' }, t('linkbacks')), linkbacks);
  // A comment with its replies, counted.
  const size = comment => (comment.replies || []).reduce((n, reply) => n + size(reply), 1);
  const appendAll = comments => {
    // Built off the page and added once their bodies are in: the page changes once per list.
    const items = [], links = [];
    parseBodies(() => {
      for (const comment of comments) {
        if (comment.kind && comment.kind != 'comment') links.push(renderLinkback(view, comment));
        else {
          const item = renderComment(view, comment);
          // Until it is drawn (content-visibility), about the room it will take with its replies
          // (8rem each): with less, so many would seem to fit near the screen that they were drawn.
          item.style.containIntrinsicSize = `auto ${size(comment) * 8}rem`;
          items.push(item);
        }
      }
    });
    list.append(...items);
    linkbacks.append(...links);
    if (linkbacks.children.length) loadMore.after(linkbackSection);
    else linkbackSection.remove();
  };

  const fill = page => {
    appendAll(page.comments);
    setCursor(page.next_cursor);
    // The reader's own comments held for moderation: only this browser knows them.
    for (const id of Object.keys(view.own.entries)) {
      const own = view.own.entries[id];
      if (own.key == threadKey && own.comment.status == 'pending' && !root.getElementById('comment-' + id)) {
        const parent = own.comment.parent_id && root.getElementById('comment-' + own.comment.parent_id);
        (parent ? parent.lastChild : list).append(renderComment(view, own.comment));
      }
    }
    view.setTotal(page.total);
    view.live?.();
  };

  section.append(
    el('div', { className: 'kith-header' }, heading, el('label', { className: 'kith-sort' }, t('sort') + ' ', sortSelect)),
    list,
    loadMore);
  // The first screenful first: the top-level comments (with their replies) until FIRST_SCREEN
  // comments are counted are built and shown in this task; the rest of the first page is built
  // in the task after the frame that shows them (below the screen, they are not missed there).
  let split = 0;
  for (let counted = 0; counted < FIRST_SCREEN && split < firstPage.comments.length; split++) counted += size(firstPage.comments[split]);
  // The first page's build, in its two parts, as User Timing measures (benches/browser.mjs reads them).
  performance.mark('kith-render');
  appendAll(firstPage.comments.slice(0, split));
  view.setTotal(firstPage.total);
  performance.measure('kith-render', 'kith-render');
  requestAnimationFrame(() => setTimeout(() => {
    performance.mark('kith-render-rest');
    fill({ ...firstPage, comments: firstPage.comments.slice(split) });
    performance.measure('kith-render-rest', 'kith-render-rest');
    highlight();
    // The posting UI and live updates in a task of their own, after the page is complete.
    setTimeout(() => {
      buildForm();
      // Live updates (embed-live.js, on demand like the form; LIVE_VERSION as FORM_VERSION), when
      // the server has them on. Without them, or when the file does not load, the thread simply
      // stays as it is.
      if (settings.live) {
        import(`${serverBase}embed-live.js?v=${LIVE_VERSION}`).then(module => {
          module.provide({ el, button, load, save, trusted });
          module.startLive(view, `${serverBase}api/v1/sites/${encodeURIComponent(site)}/thread/events?key=${encodeURIComponent(threadKey)}`);
        }, () => {});
      }
    });
  }));

  // A permalink (#comment-123) scrolls to and highlights its comment.
  const highlight = () => {
    const target = /^#comment-\d+$/.test(location.hash) && root.getElementById(location.hash.slice(1));
    if (target) {
      target.scrollIntoView({ block: 'center' });
      target.firstChild.classList.add('kith-highlight');
    }
  };
  addEventListener('hashchange', highlight);
  return i18n;
}
