// Live updates in the embed (embed/src/live.js, docs/embed.md "Live updates"): comments published
// while a reader has the thread open gather behind a "1 new comment" button and go into their
// places when it is pressed; held ones only once approved; across two kith processes on one
// PostgreSQL; a stream that fails or is refused is opened again with a growing wait, never in a
// loop; a resync, or a page hidden a long time and shown again, catches up from the first page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { setup, startKith, startHost, newPage, freshKey, kithEl, expectText, expectCount, until, apiPost, postViaForm, runAxe, shadowActive } from './harness.mjs';

let env;
before(async () => { env = await setup({ db: 'postgres', moderation: 'none' }); });
after(async () => { await env?.stop(); });

const bin = () => process.env.KITH_BIN || '/var/tmp/kith-target/debug/kith';
const newButton = page => kithEl(page, '[aria-live=polite] > button');

/**
 * Opens the thread at `key` (on `host`, default the test's) and resolves once its live stream
 * is open: the server subscribes the stream before it answers, so whatever is published from
 * then on reaches the page.
 */
async function openLive(key, { host = env.host, query = '' } = {}) {
  const page = await newPage(env.browser);
  const streaming = page.waitForResponse(response => response.url().includes('/thread/events?'));
  await page.goto(`${host.origin}${key}${query}`);
  const response = await streaming;
  assert.equal(response.status(), 200, 'the stream is open');
  return page;
}

/** Marks the comments on the page, to tell later that they were neither removed nor rebuilt. */
const markShown = page => page.evaluate(() => {
  for (const item of document.querySelector('#kith-thread').shadowRoot.querySelectorAll('li.kith-comment')) item.dataset.before = '1';
});

/** The ids of the `<li>`s of a list, in order. */
const ids = (page, selector) => kithEl(page, selector).evaluateAll(items => items.map(item => item.id));

test('a comment another reader posts shows as "1 new comment"; pressing it puts it last, with the focus, leaving the others untouched', async () => {
  const key = freshKey('live');
  const first = (await apiPost(env.kith, key, { author: 'First', body: 'first' })).comment;
  const page = await openLive(key);
  await expectCount(kithEl(page, 'ol.kith-list > li.kith-comment'), 1);
  await markShown(page);
  assert.equal(await newButton(page).isHidden(), true, 'no button before anything new');

  const second = (await apiPost(env.kith, key, { author: 'Second', body: 'a *live* comment' })).comment;
  await expectText(newButton(page), '1 new comment');
  assert.equal(await kithEl(page, 'li.kith-comment').count(), 1, 'not put in before the reader asks');
  const third = (await apiPost(env.kith, key, { author: 'Third', body: 'and another' })).comment;
  await expectText(newButton(page), '2 new comments');
  // In a polite live region, where a screen reader announces it; axe finds nothing wrong.
  const results = await runAxe(page);
  const bad = results.violations.filter(v => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map(v => `${v.id}: ${v.nodes.map(n => n.target).join(' ')}`), []);

  await newButton(page).click();
  assert.deepEqual(await ids(page, 'ol.kith-list > li.kith-comment'), [first.id, second.id, third.id].map(id => `comment-${id}`));
  await expectText(kithEl(page, `#comment-${second.id} .kith-body em`), 'live');
  assert.equal(await kithEl(page, 'li[data-before]').count(), 1, 'the comment shown before is the same node');
  assert.equal(await newButton(page).isHidden(), true, 'the button is gone');
  await expectText(kithEl(page, 'h2'), '3 comments');
  const active = await shadowActive(page);
  assert.equal(active?.li, `comment-${second.id}`, 'the focus is on the first comment put in');
  assert.ok(await kithEl(page, `#comment-${second.id} > article`).evaluate(card => {
    const box = card.getBoundingClientRect();
    return box.top >= 0 && box.bottom <= innerHeight;
  }), 'and it is in view');

  // The reader's own comment is shown once: when posting, not again when the stream announces it.
  const own = page.waitForResponse(response => /\/comments\/\d+$/.test(new URL(response.url()).pathname)
    && response.request().method() == 'GET');
  await postViaForm(page, { body: 'my own words', author: 'Reader' });
  const announced = await own;
  const ownId = Number(new URL(announced.url()).pathname.split('/').pop());
  await expectCount(kithEl(page, `#comment-${ownId}`), 1);
  await expectText(kithEl(page, 'h2'), '4 comments');
  // The announcement of the reader's own comment has been read in full; one posted by someone
  // else after it makes the button say 1, not 2.
  await announced.finished();
  const fifth = (await apiPost(env.kith, key, { author: 'Fifth', body: 'after yours' })).comment;
  await expectText(newButton(page), '1 new comment');
  assert.equal(await kithEl(page, `#comment-${ownId}`).count(), 1, 'the reader\'s own comment is there once');
  await newButton(page).click();
  assert.deepEqual((await ids(page, 'ol.kith-list > li.kith-comment')).slice(-2), [`comment-${ownId}`, `comment-${fifth.id}`]);
  await expectText(kithEl(page, 'h2'), '5 comments');
  await page.close();
});

test('a reply goes under its parent; a new top-level comment goes where the sort order has it', async () => {
  const key = freshKey('live-tree');
  const a = (await apiPost(env.kith, key, { author: 'A', body: 'a' })).comment;
  const b = (await apiPost(env.kith, key, { author: 'B', body: 'b' })).comment;
  const earlier = (await apiPost(env.kith, key, { parent_id: a.id, author: 'Earlier', body: 'an earlier reply' })).comment;
  const page = await openLive(key);
  await expectCount(kithEl(page, 'li.kith-comment'), 3);
  await markShown(page);
  const reply = (await apiPost(env.kith, key, { parent_id: a.id, author: 'Replier', body: 'a reply to a' })).comment;
  const nested = (await apiPost(env.kith, key, { parent_id: reply.id, author: 'Deeper', body: 'a reply to the reply' })).comment;
  const c = (await apiPost(env.kith, key, { author: 'C', body: 'c' })).comment;
  await expectText(newButton(page), '3 new comments');
  await newButton(page).click();
  assert.deepEqual(await ids(page, `#comment-${a.id} > ol.kith-replies > li`), [`comment-${earlier.id}`, `comment-${reply.id}`]);
  assert.deepEqual(await ids(page, `#comment-${reply.id} > ol.kith-replies > li`), [`comment-${nested.id}`]);
  assert.deepEqual(await ids(page, 'ol.kith-list > li'), [`comment-${a.id}`, `comment-${b.id}`, `comment-${c.id}`]);
  assert.equal(await kithEl(page, 'li[data-before]').count(), 3, 'what was shown stays');

  // Newest first: a new one goes at the top.
  await kithEl(page, 'select').selectOption('newest');
  await until(async () => (await ids(page, 'ol.kith-list > li'))[0] == `comment-${c.id}`, 'the newest order');
  const d = (await apiPost(env.kith, key, { author: 'D', body: 'd' })).comment;
  await expectText(newButton(page), '1 new comment');
  await newButton(page).click();
  assert.deepEqual(await ids(page, 'ol.kith-list > li'), [d, c, b, a].map(x => `comment-${x.id}`));
  await expectText(kithEl(page, 'h2'), '7 comments');
  await page.close();
});

test('a reply announced just after its new parent is offered with it, even when the parent is fetched last', async () => {
  const key = freshKey('live-order');
  const a = (await apiPost(env.kith, key, { author: 'A', body: 'a' })).comment;
  const page = await openLive(key);
  await expectCount(kithEl(page, 'li.kith-comment'), 1);
  // The first announced comment's fetch waits until the second's has been answered.
  let first = true;
  let secondAnswered;
  const second = new Promise(resolve => { secondAnswered = resolve; });
  await page.route('**/comments/*', async route => {
    if (route.request().method() !== 'GET') return route.continue();
    if (first) {
      first = false;
      await second;
      return route.continue();
    }
    await route.fulfill({ response: await route.fetch() });
    secondAnswered();
  });
  const reply = (await apiPost(env.kith, key, { parent_id: a.id, author: 'Replier', body: 'an answer announced first' })).comment;
  const nested = (await apiPost(env.kith, key, { parent_id: reply.id, author: 'Deeper', body: 'an answer to that answer' })).comment;
  await expectText(newButton(page), '2 new comments');
  await newButton(page).click();
  assert.deepEqual(await ids(page, `#comment-${a.id} > ol.kith-replies > li`), [`comment-${reply.id}`]);
  assert.deepEqual(await ids(page, `#comment-${reply.id} > ol.kith-replies > li`), [`comment-${nested.id}`]);
  await page.close();
});

// Admin-only actions through the admin JSON API, as the owner would: an account made with the
// CLI, then POST /admin/api/login.
let adminHeaders;
async function adminApi(method, p, body) {
  if (!adminHeaders) {
    execFileSync(bin(), ['admin', 'create', 'owner'], {
      input: 'a long enough password\n', stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, KITH_DATABASE__URL: env.kith.dbUrl, KITH_LOG__LEVEL: 'warn' },
    });
    const login = await fetch(`${env.kith.base}/admin/api/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'owner', password: 'a long enough password' }),
    });
    assert.equal(login.status, 200, await login.clone().text());
    const cookie = login.headers.getSetCookie().map(c => c.split(';')[0]).find(c => c.startsWith('kith_admin='));
    const session = await (await fetch(`${env.kith.base}/admin/api/session`, { headers: { Cookie: cookie } })).json();
    adminHeaders = { Cookie: cookie, 'X-CSRF-Token': session.csrf_token };
  }
  const response = await fetch(`${env.kith.base}/admin/api${p}`, {
    method, headers: { ...adminHeaders, 'Content-Type': 'application/json' }, body: body && JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${p}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

test('a held comment never shows until it is approved in the admin API; then it comes, in its place; the reader\'s own held one loses its mark in place', async () => {
  // A site of its own that holds every comment (made with the CLI, as an owner would).
  const slug = `held${process.pid}`;
  execFileSync(bin(), ['site', 'create', slug, '--allowed-origins', 'http://localhost:*', '--moderation', 'all', '--min-post-secs', '0'],
    { env: { ...process.env, KITH_DATABASE__URL: env.kith.dbUrl }, stdio: 'pipe' });
  const site = { api: `${env.kith.base}/api/v1/sites/${slug}` };
  const key = freshKey('live-held');
  const page = await openLive(key, { query: `?site=${slug}` });
  await expectText(kithEl(page, 'h2'), "No comments yet. Why don't you start the discussion?");
  const first = (await apiPost(site, key, { author: 'Held One', body: 'held first' })).comment;
  const second = (await apiPost(site, key, { author: 'Held Two', body: 'held second' })).comment;
  assert.equal(first.status, 'pending');
  // The second is approved: it alone comes (a stream delivers in order, so the first, held,
  // would have come before it).
  await adminApi('POST', '/comments/moderate', { ids: [second.id], action: 'approve' });
  await expectText(newButton(page), '1 new comment');
  await newButton(page).click();
  assert.deepEqual(await ids(page, 'ol.kith-list > li'), [`comment-${second.id}`]);
  assert.equal(await page.getByText('held first').count(), 0, 'the held comment is nowhere');
  // Approved later, the first comes too, before the second (oldest first).
  await adminApi('POST', '/comments/moderate', { ids: [first.id], action: 'approve' });
  await expectText(newButton(page), '1 new comment');
  await newButton(page).click();
  assert.deepEqual(await ids(page, 'ol.kith-list > li'), [`comment-${first.id}`, `comment-${second.id}`]);
  await expectText(kithEl(page, 'h2'), '2 comments');

  // The reader's own comment, held: approved while the page is open, its mark goes, in place.
  await postViaForm(page, { body: 'mine, held', author: 'Reader' });
  const mine = kithEl(page, 'ol.kith-list > li.kith-comment').last();
  await expectText(mine.locator('.kith-pending'), 'Your comment is awaiting moderation.');
  const mineId = Number((await mine.getAttribute('id')).slice('comment-'.length));
  await adminApi('POST', '/comments/moderate', { ids: [mineId], action: 'approve' });
  await expectText(kithEl(page, 'h2'), '3 comments');
  assert.equal(await kithEl(page, `#comment-${mineId} .kith-pending`).count(), 0, 'no longer marked as held');
  assert.deepEqual(await ids(page, 'ol.kith-list > li'), [first, second, { id: mineId }].map(x => `comment-${x.id}`), 'where it was, once');
  assert.equal(await newButton(page).isHidden(), true, 'not offered as new');
  await page.close();
});

test('two kith processes on one PostgreSQL: a reader of process B sees a comment posted on process A', async () => {
  const b = await startKith({ dbUrl: env.kith.dbUrl });
  const hostB = await startHost(b.base);
  try {
    const key = freshKey('live-two');
    const page = await openLive(key, { host: hostB });
    const posted = (await apiPost(env.kith, key, { author: 'On A', body: 'posted to process A' })).comment;
    await expectText(newButton(page), '1 new comment');
    await newButton(page).click();
    await expectText(kithEl(page, `#comment-${posted.id} .kith-body`), 'posted to process A');
    await page.close();
  } finally {
    await hostB.stop();
    // Stops B only: the database is A's (dropped when A stops).
    await b.stop();
  }
});

test('a refused or ended stream is opened again after 10 to 20 s, then twice that, never in a loop', async () => {
  const key = freshKey('live-retry');
  await apiPost(env.kith, key, { body: 'something to paint' });
  const page = await newPage(env.browser);
  await page.clock.install();
  // Every EventSource the embed makes, to see its state.
  await page.addInitScript(() => {
    const Native = window.EventSource;
    window.sources = [];
    window.EventSource = function (...args) {
      const source = new Native(...args);
      window.sources.push(source);
      return source;
    };
  });
  // The first attempt is refused (503, as when the server's `[live]` caps are reached), the
  // others end at once and ask the browser to come back at once (`retry: 0`): a bare
  // EventSource would reconnect in a tight loop.
  let requests = 0;
  await page.route('**/thread/events?*', route => {
    requests++;
    const cors = { 'Access-Control-Allow-Origin': env.host.origin };
    return route.fulfill(requests == 1
      ? { status: 503, headers: { ...cors, 'Retry-After': '60' }, contentType: 'application/json', body: '{"error":"live_unavailable"}' }
      : { status: 200, headers: { ...cors, 'Cache-Control': 'no-cache' }, contentType: 'text/event-stream', body: 'retry: 0\n\n' });
  });
  await page.goto(`${env.host.origin}${key}`);
  await expectCount(kithEl(page, 'li.kith-comment'), 1);
  const state = () => page.evaluate(() => window.sources.map(source => source.readyState));
  // Refused: the stream is closed (2), not reconnecting (0), and nothing else is tried.
  await until(async () => (await state()).join() == '2', 'the refused stream closed');
  // From here the page's time moves only when the test moves it. The pause lies 2 s ahead of the
  // time read (a loaded machine can take well over 50 ms between the read and the pause, and a
  // pause in the past is refused); the 9 s counted from the read are 2 s + 7 s.
  await page.clock.pauseAt(await page.evaluate(() => Date.now()) + 2_000);
  await page.clock.runFor(7_000);
  assert.deepEqual(await state(), [2], 'no new stream within 9 s');
  assert.equal(requests, 1);
  await page.clock.runFor(11_500);
  await until(async () => requests == 2 && (await state()).join() == '2,2', 'one more stream within 20 s, closed when it ended');
  // The wait doubles: 20 to 40 s now.
  await page.clock.runFor(19_000);
  assert.equal((await state()).length, 2, 'no new stream within 19 s');
  await page.clock.runFor(21_500);
  await until(async () => requests == 3 && (await state()).join() == '2,2,2', 'the third stream within 40 s');
  await page.close();
});

test('a resync event makes the embed fetch the first page again and offer what it missed', async () => {
  const key = freshKey('live-resync');
  const shown = (await apiPost(env.kith, key, { author: 'Shown', body: 'on the first page' })).comment;
  const page = await newPage(env.browser);
  // The stream, when the embed opens it, tells of nothing but a resync (as the server does when
  // it may have missed announcements); what it missed was posted after the first page was read.
  let missed;
  await page.route('**/thread/events?*', async route => {
    missed = (await apiPost(env.kith, key, { author: 'Missed', body: 'never announced' })).comment;
    await route.fulfill({
      status: 200, contentType: 'text/event-stream',
      headers: { 'Access-Control-Allow-Origin': env.host.origin, 'Cache-Control': 'no-cache' },
      body: 'retry: 60000\n\nevent: resync\ndata: {}\n\n',
    });
  });
  await page.goto(`${env.host.origin}${key}`);
  await expectCount(kithEl(page, 'li.kith-comment'), 1);
  await expectText(newButton(page), '1 new comment');
  await newButton(page).click();
  assert.deepEqual(await ids(page, 'ol.kith-list > li'), [`comment-${shown.id}`, `comment-${missed.id}`]);
  await expectText(kithEl(page, 'h2'), '2 comments');
  await page.close();
});

test('with live updates off (settings say "live": false) the embed neither loads embed-live.js nor opens a stream', async () => {
  const key = freshKey('live-off');
  await apiPost(env.kith, key, { body: 'a quiet thread' });
  const page = await newPage(env.browser);
  // The settings as a server with `live.enabled = false` answers them.
  await page.route('**/settings', async route => {
    const response = await route.fetch();
    await route.fulfill({ response, json: { ...(await response.json()), live: false } });
  });
  const asked = [];
  page.on('request', request => asked.push(new URL(request.url()).pathname));
  await page.goto(`${env.host.origin}${key}`);
  await expectCount(kithEl(page, 'li.kith-comment'), 1);
  // The form is built in the task that would load live updates.
  await kithEl(page, 'form.kith-form').waitFor();
  assert.deepEqual(asked.filter(path => path == '/embed-live.js' || path.endsWith('/thread/events')), []);
  assert.equal(await kithEl(page, '[aria-live=polite]').count(), 0, 'no live region either');
  await page.close();
});

test('a page hidden for a minute lets its stream go; shown again, it reopens and catches up with what came meanwhile', async () => {
  const key = freshKey('live-hidden');
  await apiPost(env.kith, key, { body: 'before' });
  const page = await newPage(env.browser);
  await page.clock.install();
  await page.addInitScript(() => {
    const Native = window.EventSource;
    window.sources = [];
    window.EventSource = function (...args) {
      const source = new Native(...args);
      window.sources.push(source);
      return source;
    };
    // The page's visibility, set by the test (the browser window itself stays visible); on the
    // prototype, where the embed reads it (markup can shadow `document`'s own members).
    window.pageHidden = false;
    Object.defineProperty(Document.prototype, 'hidden', { get: () => window.pageHidden });
  });
  const streaming = page.waitForResponse(response => response.url().includes('/thread/events?'));
  await page.goto(`${env.host.origin}${key}`);
  await streaming;
  const state = () => page.evaluate(() => window.sources.map(source => source.readyState));
  const setHidden = hidden => page.evaluate(hidden => {
    window.pageHidden = hidden;
    // (It bubbles, as the browser's own does.)
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
  }, hidden);
  await until(async () => (await state()).join() == '1', 'the stream open');
  await setHidden(true);
  await page.clock.runFor(30_000);
  assert.deepEqual(await state(), [1], 'hidden half a minute: still open');
  await page.clock.runFor(31_000);
  assert.deepEqual(await state(), [2], 'hidden a minute: closed');
  // Published while the stream was closed.
  const missed = (await apiPost(env.kith, key, { author: 'Meanwhile', body: 'while nobody listened' })).comment;
  await setHidden(false);
  await until(async () => (await state()).join() == '2,1', 'a new stream once shown');
  await expectText(newButton(page), '1 new comment');
  await newButton(page).click();
  await expectText(kithEl(page, `#comment-${missed.id} .kith-body`), 'while nobody listened');
  await page.close();
});
