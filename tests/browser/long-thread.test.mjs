// Long threads stay light: few DOM nodes per comment, "Load more" appends without re-rendering,
// off-screen comments skip rendering and their avatars are drawn only near the screen, and the
// styles come with the script (no stylesheet request, even under a host CSP that names no style
// source), nothing the first paint does not need runs before it, and the posting UI is a second
// file loaded on demand. Behaviour, not timings:
// benches/browser.mjs measures those.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { setup, newPage, freshKey, kithEl, expectCount, expectText, until, apiPost, postViaForm } from './harness.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.stop(); });

const open = async (key, context = env.browser) => {
  const page = await newPage(context);
  await page.goto(`${env.host.origin}${key}`);
  return page;
};

/** Posts `roots` top-level comments with `repliesEach` replies each; returns the ids in order. */
async function seed(key, roots, repliesEach) {
  const ids = [];
  for (let i = 0; i < roots; i++) {
    const root = (await apiPost(env.kith, key, {
      author: `Reader ${i}`, email: `r${i}@example.com`, website: i % 2 ? `https://r${i}.example/` : null,
      body: `Top-level comment ${i} on ${key}, one plain paragraph as most comments are.`,
    })).comment.id;
    ids.push(root);
    for (let j = 0; j < repliesEach; j++) {
      ids.push((await apiPost(env.kith, key, { parent_id: root, author: `Replier ${j}`, body: `Reply ${j} to ${i} on ${key}.` })).comment.id);
    }
  }
  return ids;
}

// 15 (issue 18), the button that opens the reaction picker included (the reactions themselves
// add a node only when someone gave them): the time is its own permalink, with no <time> inside.
test('a one-paragraph comment takes at most 15 DOM nodes, text nodes included, avatars drawn', async () => {
  const key = freshKey('nodes');
  await seed(key, 8, 2);
  const page = await open(key);
  await expectCount(kithEl(page, 'li.kith-comment'), 24);
  // Scroll every comment into view so that every avatar is drawn before counting.
  const items = await kithEl(page, 'li.kith-comment').all();
  for (const item of items) await item.scrollIntoViewIfNeeded();
  await until(() => page.evaluate(() => [...document.querySelector('#kith-thread').shadowRoot.querySelectorAll('.kith-avatar')]
    .every(avatar => avatar.style.backgroundImage.includes('gradient'))), 'all avatars drawn');
  const counts = await page.evaluate(() => {
    const root = document.querySelector('#kith-thread').shadowRoot;
    // A comment's own nodes: its <li> subtree without the <li>s of its replies.
    const own = node => 1 + [...node.childNodes].reduce((sum, child) => sum + (child.matches?.('li.kith-comment') ? 0 : own(child)), 0);
    const all = node => 1 + [...node.childNodes].reduce((sum, child) => sum + all(child), 0);
    return {
      each: [...root.querySelectorAll('li.kith-comment')].map(own),
      list: all(root.querySelector('ol.kith-list')) - 1,
    };
  });
  for (const [i, count] of counts.each.entries()) assert.ok(count <= 15, `comment ${i} has ${count} nodes`);
  assert.ok(counts.list <= 15 * 24, `the list holds ${counts.list} nodes for 24 comments`);
  // What is left is what a reader needs: author, time, body and the four actions, by role.
  const first = kithEl(page, 'li.kith-comment').first();
  for (const name of ['Like 0', 'Add a reaction', 'Reply', 'Report']) {
    assert.equal(await first.locator('> article').getByRole('button', { name, exact: true }).count(), 1, `button ${name}`);
  }
  await page.close();
});

test('"Load more" appends the next page and leaves the comments already shown untouched', async () => {
  const key = freshKey('append');
  await seed(key, 52, 0);
  const page = await open(key);
  await expectCount(kithEl(page, 'ol.kith-list > li.kith-comment'), 50);
  // Mark the nodes on screen and watch the list for removals.
  await page.evaluate(() => {
    const list = document.querySelector('#kith-thread').shadowRoot.querySelector('ol.kith-list');
    for (const item of list.children) item.seenBeforeLoadMore = true;
    window.listChanges = { added: 0, removed: 0 };
    new MutationObserver(records => {
      for (const record of records) {
        window.listChanges.added += record.addedNodes.length;
        window.listChanges.removed += record.removedNodes.length;
      }
    }).observe(list, { childList: true, subtree: true });
  });
  await kithEl(page, 'button:text-is("Load more comments")').click();
  await expectCount(kithEl(page, 'ol.kith-list > li.kith-comment'), 52);
  const after = await page.evaluate(() => {
    const items = [...document.querySelector('#kith-thread').shadowRoot.querySelector('ol.kith-list').children];
    return { kept: items.filter(item => item.seenBeforeLoadMore).length, firstKept: items.slice(0, 50).every(item => item.seenBeforeLoadMore), changes: window.listChanges };
  });
  assert.equal(after.kept, 50, 'the 50 comments shown are the same nodes');
  assert.ok(after.firstKept, 'and still first, in their order');
  assert.deepEqual(after.changes, { added: 2, removed: 0 }, 'two comments appended, nothing removed or rebuilt');
  await page.close();
});

test('the first screenful is shown first, the rest of the page a frame later; the requests leave before the browser storage is read; a permalink into the rest is found', async () => {
  const key = freshKey('screenful');
  const ids = await seed(key, 30, 0);
  const page = await newPage(env.browser);
  await page.addInitScript(() => {
    const seen = window.screenful = { frame: 0, shown: [], order: [] };
    const frame = () => { seen.frame++; requestAnimationFrame(frame); };
    requestAnimationFrame(frame);
    // Each change in the number of comments in the embed, with the frame it happened in.
    const attachShadow = Element.prototype.attachShadow;
    Element.prototype.attachShadow = function (init) {
      const root = attachShadow.call(this, init);
      new MutationObserver(() => {
        // (Comments have their id; the hidden card the styles are warmed with has none.)
        const count = root.querySelectorAll('li.kith-comment[id]').length;
        if (count != (seen.shown.at(-1)?.count ?? 0)) seen.shown.push({ count, frame: seen.frame });
      }).observe(root, { childList: true, subtree: true });
      return root;
    };
    // What happened first: the requests (by the last part of their path) or reading the storage.
    const nativeFetch = window.fetch;
    window.fetch = function (url, ...rest) {
      seen.order.push(new URL(url, location.href).pathname.split('/').pop());
      return nativeFetch.call(this, url, ...rest);
    };
    const getItem = Storage.prototype.getItem;
    Storage.prototype.getItem = function (...args) {
      seen.order.push('storage');
      return getItem.apply(this, args);
    };
  });
  // A permalink to a comment far down the first page, which the first screenful does not hold.
  await page.goto(`${env.host.origin}${key}#comment-${ids[25]}`);
  await expectCount(kithEl(page, 'ol.kith-list > li.kith-comment'), 30);
  await until(() => kithEl(page, `#comment-${ids[25]} > article.kith-highlight`).count(), 'the permalinked comment highlighted');
  const seen = await page.evaluate(() => window.screenful);
  assert.equal(seen.shown.length, 2, `two steps: ${JSON.stringify(seen.shown)}`);
  assert.ok(seen.shown[0].count > 0 && seen.shown[0].count < 30, `a first screenful, not the whole page: ${JSON.stringify(seen.shown)}`);
  assert.equal(seen.shown[1].count, 30);
  assert.ok(seen.shown[1].frame > seen.shown[0].frame, `the rest in a later frame: ${JSON.stringify(seen.shown)}`);
  // In page order: the first screenful is the first comments, and the rest came after them.
  assert.deepEqual(await kithEl(page, 'ol.kith-list > li.kith-comment').evaluateAll(items => items.map(item => item.id)),
    ids.map(id => `comment-${id}`));
  const storage = seen.order.indexOf('storage');
  assert.ok(storage > seen.order.indexOf('thread') && storage > seen.order.indexOf('settings') && storage > seen.order.indexOf('en.json')
    && seen.order.indexOf('thread') >= 0, `the thread, the settings and the language file are asked for before the storage is read: ${seen.order}`);
  await page.close();
});

test('a comment not drawn yet keeps about the room it will take with its replies, so only those near the screen are drawn', async () => {
  const key = freshKey('room');
  await seed(key, 12, 3);
  const context = await env.browser.newContext({ viewport: { width: 800, height: 600 } });
  const page = await context.newPage();
  // Every top-level comment whose content the browser drew at some point (content-visibility's
  // state change event, caught in the embed's shadow root).
  await page.addInitScript(() => {
    const drawn = window.drawn = new Set();
    const attachShadow = Element.prototype.attachShadow;
    Element.prototype.attachShadow = function (init) {
      const root = attachShadow.call(this, init);
      root.addEventListener('contentvisibilityautostatechange', event => { if (!event.skipped) drawn.add(event.target.id); }, true);
      return root;
    };
  });
  await page.goto(`${env.host.origin}${key}`);
  const items = kithEl(page, 'ol.kith-list > li.kith-comment');
  await expectCount(items, 12);
  // 8rem for each of the four comments (the CSS alone gives 7rem for the whole item).
  assert.equal(await items.first().evaluate(item => getComputedStyle(item).containIntrinsicSize), 'auto 512px');
  await until(() => kithEl(page, '.kith-form').count(), 'the form, after the first page');
  await page.evaluate(() => new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  // Each item is over 500 px tall: the screen and Chromium's margin around it hold three. With
  // 7rem each (112 px), more seemed to fit near the screen and were drawn once (6 here).
  const drawn = await page.evaluate(() => window.drawn.size);
  assert.ok(drawn >= 1 && drawn <= 4, `items drawn: ${drawn} of 12`);
  await context.close();
});

test('comments far off screen skip rendering; their avatars are drawn when scrolled near', async () => {
  const key = freshKey('offscreen');
  await seed(key, 30, 0);
  const context = await env.browser.newContext({ viewport: { width: 800, height: 600 } });
  const page = await open(key, context);
  const items = kithEl(page, 'ol.kith-list > li.kith-comment');
  await expectCount(items, 30);
  assert.equal(await items.first().evaluate(item => getComputedStyle(item).contentVisibility), 'auto');
  const avatarDrawn = item => item.locator('.kith-avatar').evaluate(avatar => avatar.style.backgroundImage.includes('gradient'));
  await until(() => avatarDrawn(items.first()), 'the first avatar drawn');
  assert.equal(await avatarDrawn(items.last()), false, 'the last avatar, far below, is not drawn yet');
  await items.last().scrollIntoViewIfNeeded();
  await until(() => avatarDrawn(items.last()), 'the last avatar drawn once scrolled to');
  await context.close();
});

test('while the requests travel, a hidden header and comment card warm the styles up; they are gone once the comments show', async () => {
  const key = freshKey('warm');
  await apiPost(env.kith, key, { body: 'After the warm-up' });
  const page = await newPage(env.browser);
  let release;
  const held = new Promise(resolve => { release = resolve; });
  await page.route('**/thread?*', async route => { await held; await route.continue(); });
  await page.goto(`${env.host.origin}${key}`);
  const warm = kithEl(page, '.kith-warm');
  await warm.waitFor({ state: 'attached' });
  // Styled and laid out while the thread's answer is held (a card as wide as the thread), never
  // painted and out of the accessibility tree (visibility), taking no room on the page.
  await until(() => warm.evaluate(element => element.querySelector('.kith-card').getBoundingClientRect().width > 100),
    'the hidden card laid out');
  assert.equal(await warm.evaluate(element => getComputedStyle(element).visibility), 'hidden');
  assert.equal(await warm.evaluate(element => element.getBoundingClientRect().height), 0);
  assert.equal(await kithEl(page, 'li.kith-comment[id]').count(), 0, 'no comment before the answer');
  release();
  await expectText(kithEl(page, 'li.kith-comment[id] .kith-body'), 'After the warm-up');
  assert.equal(await kithEl(page, '.kith-warm').count(), 0, 'the warm-up is gone');
  await page.close();
});

test('the styles come with the script: no stylesheet request, styled under a CSP without style sources; the form loads under it too', async () => {
  const key = freshKey('styles');
  await apiPost(env.kith, key, { body: 'Styled from the first frame' });
  // A host page whose policy allows the kith server for scripts and API calls, and no styles.
  const server = http.createServer((request, response) => {
    response.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': `default-src 'none'; script-src ${env.kith.base}; connect-src ${env.kith.base}`,
    });
    response.end(`<!doctype html><html lang="en"><title>CSP host</title><div id="kith-thread" data-kith-key="${key}"></div>
<script async src="${env.kith.base}/embed.js"></script>`);
  });
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
  const page = await newPage(env.browser);
  const requests = [];
  page.on('request', request => requests.push(new URL(request.url()).pathname));
  const violations = [];
  page.on('console', message => { if (/Content Security Policy/i.test(message.text())) violations.push(message.text()); });
  await page.goto(`http://localhost:${server.address().port}/`);
  const card = kithEl(page, 'li.kith-comment > article');
  await card.waitFor();
  assert.equal(await card.evaluate(element => getComputedStyle(element).position), 'relative', 'embed.css rules apply');
  assert.deepEqual(requests.filter(path => /\.css$/.test(path)), [], 'no stylesheet requested');
  // The posting UI (embed-form.js, imported from the kith server) loads under the same policy.
  await kithEl(page, 'form.kith-form').waitFor();
  assert.deepEqual(violations, [], 'no CSP violation');
  await page.close();
  server.closeAllConnections();
  await new Promise(resolve => server.close(resolve));
});

test('the posting UI is a second file, fetched once the comments are on screen; Reply pressed before it arrives opens the form when it comes', async () => {
  const key = freshKey('on-demand');
  const { comment } = await apiPost(env.kith, key, { author: 'Early', body: 'Answer me before the form is here' });
  const page = await newPage(env.browser);
  const requests = [];
  page.on('request', request => requests.push(new URL(request.url()).pathname));
  // Hold embed-form.js (from the kith server, another origin than the page) until released,
  // noting whether the comment was already in the page when the embed asked for it.
  let release, asked;
  const held = new Promise(resolve => { release = resolve; });
  const requested = new Promise(resolve => { asked = resolve; });
  await page.route('**/embed-form.js*', async route => {
    asked(await page.evaluate(() => !!document.querySelector('#kith-thread').shadowRoot?.querySelector('.kith-comment')));
    await held;
    await route.continue();
  });
  await page.goto(`${env.host.origin}${key}`);
  await expectCount(kithEl(page, 'li.kith-comment'), 1);
  assert.equal(await requested, true, 'embed-form.js is requested after the comments are in the page');
  assert.equal(await kithEl(page, 'form.kith-form').count(), 0, 'no form before embed-form.js arrives');
  await kithEl(page, `#comment-${comment.id} > article input:text-is("Reply")`).click();
  release();
  await expectText(kithEl(page, `#comment-${comment.id} form h3`), 'Reply to Early');
  assert.equal(await kithEl(page, 'form.kith-form').count(), 1, 'one form');
  assert.equal(await kithEl(page, `#comment-${comment.id} form textarea`).evaluate(text => text.getRootNode().activeElement == text), true, 'the reply box has the focus');
  assert.equal(requests.filter(path => path == '/embed-form.js').length, 1, 'embed-form.js fetched once');
  await page.close();
});

/** Leading zero bits of SHA-256(text), as the server counts them for proof of work. */
function zeroBits(text) {
  let bits = 0;
  for (const byte of createHash('sha256').update(text).digest()) {
    bits += byte ? Math.clz32(byte) - 24 : 8;
    if (byte) break;
  }
  return bits;
}

test('nothing the first paint does not need runs before it: the form and the live stream come a frame after the comments, no date formatter, the proof-of-work worker only when posting', async () => {
  // A site of its own that asks for proof of work (made with the CLI, as an owner would).
  const slug = `paint${process.pid}`;
  execFileSync(process.env.KITH_BIN || '/var/tmp/kith-target/debug/kith',
    ['site', 'create', slug, '--allowed-origins', 'http://localhost:*', '--moderation', 'none', '--min-post-secs', '0', '--pow-difficulty', '8'],
    { env: { ...process.env, KITH_DATABASE__URL: env.kith.dbUrl }, stdio: 'pipe' });
  const api = `${env.kith.base}/api/v1/sites/${slug}`;
  const key = freshKey('first-paint');
  for (let i = 0; i < 3; i++) {
    const settings = await (await fetch(`${api}/settings`)).json();
    assert.equal(settings.pow?.difficulty, 8, 'the site asks for proof of work');
    let nonce = 0;
    while (zeroBits(`${settings.pow.challenge}:${nonce}`) < 8) nonce++;
    const response = await fetch(`${api}/comments`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        thread_key: key, thread_title: 'A post', thread_url: `http://localhost${key}`, parent_id: null,
        author: `Reader ${i}`, email: `paint${i}@example.com`, website: null, body: `Comment ${i}, painted first.`,
        notify_replies: false, notify_thread: false, form_token: settings.form_token, hp: '',
        pow: { challenge: settings.pow.challenge, nonce: String(nonce) },
      }),
    });
    assert.equal(response.status, 201, await response.text());
  }

  const page = await newPage(env.browser);
  // Before any page script: count animation frames, note each change inside the embed's shadow
  // root with the frame it happened in, and count the Web Workers made.
  await page.addInitScript(() => {
    const seen = window.firstPaint = { frame: 0, commentFrame: null, formFrame: null, formWithoutComment: false, workers: 0, streamFrame: null, streamWithoutComment: false };
    const frame = () => { seen.frame++; requestAnimationFrame(frame); };
    requestAnimationFrame(frame);
    const attachShadow = Element.prototype.attachShadow;
    Element.prototype.attachShadow = function (init) {
      const root = attachShadow.call(this, init);
      new MutationObserver(() => {
        const comment = root.querySelector('.kith-comment'), form = root.querySelector('form.kith-form');
        if (comment && seen.commentFrame === null) seen.commentFrame = seen.frame;
        if (form && seen.formFrame === null) {
          seen.formFrame = seen.frame;
          seen.formWithoutComment = !comment;
        }
      }).observe(root, { childList: true, subtree: true });
      return root;
    };
    // The live-update stream (embed-live.js opens it).
    const NativeEventSource = window.EventSource;
    window.EventSource = function (...args) {
      seen.streamFrame ??= seen.frame;
      seen.streamWithoutComment ||= !document.querySelector('#kith-thread').shadowRoot?.querySelector('.kith-comment');
      return new NativeEventSource(...args);
    };
    const NativeWorker = window.Worker;
    window.Worker = function (...args) {
      seen.workers++;
      return new NativeWorker(...args);
    };
    // The browser's date and relative-time formatters load ICU data when first made.
    seen.formatters = [];
    for (const name of ['DateTimeFormat', 'RelativeTimeFormat']) {
      const Native = Intl[name];
      Intl[name] = function (...args) {
        seen.formatters.push(name);
        return new Native(...args);
      };
    }
  });
  // Whether the comments were in the page when the live-update module was asked for.
  const liveAsked = [];
  page.on('request', request => {
    if (new URL(request.url()).pathname == '/embed-live.js') liveAsked.push(page.evaluate(() => !!document.querySelector('#kith-thread').shadowRoot?.querySelector('.kith-comment')));
  });
  await page.goto(`${env.host.origin}${key}?site=${slug}`);
  await expectCount(kithEl(page, 'li.kith-comment'), 3);
  await kithEl(page, 'form.kith-form').waitFor();
  await until(() => page.evaluate(() => window.firstPaint.streamFrame !== null), 'the live stream opened');
  const order = await page.evaluate(() => window.firstPaint);
  assert.equal(order.formWithoutComment, false, 'the comments are in the page before the form');
  assert.ok(order.formFrame > order.commentFrame, `the form is built in a later frame than the comments (${JSON.stringify(order)})`);
  assert.equal(order.streamWithoutComment, false, 'the comments are in the page before the live stream opens');
  assert.ok(order.streamFrame > order.commentFrame, `the stream opens in a later frame than the comments (${JSON.stringify(order)})`);
  assert.deepEqual(await Promise.all(liveAsked), [true], 'embed-live.js is fetched once, after the comments are in the page');
  assert.equal(order.workers, 0, 'no worker before posting');
  assert.deepEqual(order.formatters, [], 'no Intl date or relative-time formatter made for the first paint');
  // The exact time is formatted when a reader points at a time.
  await kithEl(page, 'li.kith-comment a.kith-time').first().hover();
  await until(() => page.evaluate(() => window.firstPaint.formatters.includes('DateTimeFormat')), 'the date formatter made on hover');

  // Posting asks for proof of work: now, and only now, the worker is made.
  await postViaForm(page, { body: 'Posted with proof of work', author: 'Pow Reader' });
  await expectCount(kithEl(page, 'li.kith-comment'), 4);
  await expectText(kithEl(page, 'h2'), '4 comments');
  assert.equal(await page.evaluate(() => window.firstPaint.workers), 1, 'one worker, for the post');
  await page.close();
});
