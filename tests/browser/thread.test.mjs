// Main reader flows on SQLite, in real Chromium against the real kith binary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { setup, newPage, freshKey, kithEl, expectText, expectCount, until, apiPost, postViaForm, shadowActive, expectValue } from './harness.mjs';

const require = createRequire(import.meta.url);
let env;
before(async () => { env = await setup({ db: 'sqlite', moderation: 'none' }); });
after(async () => { await env?.stop(); });

const open = async (key, query = '', ctx = env.browser) => {
  const page = await newPage(ctx);
  await page.goto(`${env.host.origin}${key}${query}`);
  await kithEl(page, 'h2').waitFor();
  return page;
};

test('an empty thread shows the empty state and the reply form', async () => {
  const page = await open(freshKey('empty'));
  await expectText(kithEl(page, 'h2'), "No comments yet. Why don't you start the discussion?");
  await expectText(kithEl(page, 'h3'), 'Leave a Reply');
  await expectText(kithEl(page, '.kith-note'), 'Your email address will not be published. Required fields are marked *');
  const form = await kithEl(page, 'form').innerText();
  for (const s of ['Comment', 'Name', 'Email', 'Website', 'Notify me of replies by email', 'Notify me of new comments on this post',
    'Save my name, email, and website in this browser for the next time I comment.']) assert.ok(form.includes(s), `form shows "${s}"`);
  assert.equal(await kithEl(page, 'button[type=submit]').innerText(), 'Post Comment');
  assert.equal(await kithEl(page, 'input[name=remember]').isChecked(), false, 'remember-me is off by default');
  assert.equal(await kithEl(page, 'li.kith-comment').count(), 0);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('posting a comment shows it, moves focus to it and survives a reload', async () => {
  const key = freshKey('post');
  const page = await newPage(env.browser);
  const origins = new Set();
  page.on('request', r => origins.add(new URL(r.url()).origin));
  const threadReads = [];
  page.on('request', r => r.url().includes('/thread?') && threadReads.push(r.url()));
  await page.goto(env.host.origin + key);
  await kithEl(page, 'h2').waitFor();
  await postViaForm(page, { body: 'Thank you for *this* essay.', author: 'Ann Reader', website: 'https://ann.example/' });
  const li = kithEl(page, 'li.kith-comment');
  await expectCount(li, 1);
  await expectText(kithEl(page, 'h2'), '1 comment');
  await expectText(li.locator('.kith-body em'), 'this');
  const link = li.locator('a.kith-author');
  assert.equal(await link.innerText(), 'Ann Reader');
  assert.equal(await link.getAttribute('href'), 'https://ann.example/');
  assert.match(await link.getAttribute('rel'), /nofollow ugc/);
  await until(async () => /linear-gradient/.test(await li.locator('.kith-avatar').evaluate(a => a.style.backgroundImage)), 'identicon drawn locally');
  const time = li.locator('a.kith-time');
  assert.match(await time.getAttribute('data-time'), /^\d{4}-\d\d-\d\dT/);
  assert.equal(await time.getAttribute('title'), null, 'the exact time is not formatted before it is wanted');
  await time.hover();
  await until(async () => (await time.getAttribute('title'))?.length > 5, 'exact time on hover');
  assert.match(await time.innerText(), /now|second/);
  await expectText(kithEl(page, '[role=status]'), 'Your comment was posted.');
  const id = await li.getAttribute('id');
  assert.match(id, /^comment-\d+$/);
  await until(async () => (await shadowActive(page))?.li === id, 'focus on the new comment');
  assert.equal(await kithEl(page, 'textarea[name=body]').inputValue(), '', 'form cleared after success');
  await expectText(li.locator('.kith-time-left'), /Editable for 1[45]:\d\d/);

  await page.reload();
  await expectText(kithEl(page, 'h2'), '1 comment');
  await expectText(kithEl(page, `#${id} .kith-body`), 'Thank you for this essay.');
  assert.equal(await kithEl(page, `#${id} button:text-is("Edit")`).count(), 1, 'author can still edit after reload');
  // The reload carried the post's read marker, so it reads the primary database, never a replica
  // that may lag (docs/deploy.md); the first visit had none.
  assert.doesNotMatch(threadReads[0], /fresh=/);
  assert.match(threadReads.at(-1), /&fresh=\d+\.[0-9a-f]{32}$/);
  assert.deepEqual([...origins].sort(), [env.host.origin, env.kith.base].sort(), 'no third-party request (avatars drawn locally)');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a reply is nested under its parent', async () => {
  const key = freshKey('reply');
  const parent = (await apiPost(env.kith, key, { author: 'Bob', body: 'First!' })).comment;
  const page = await open(key);
  const pli = kithEl(page, `#comment-${parent.id}`);
  await pli.locator('input:text-is("Reply")').click();
  await expectText(pli.locator('h3'), 'Reply to Bob');
  await until(async () => (await shadowActive(page))?.name === 'body', 'focus in the reply textarea');
  await pli.locator('button:text-is("Cancel")').waitFor();
  await postViaForm(page, { body: 'Welcome, Bob.', author: 'Cara' });
  const reply = kithEl(page, `#comment-${parent.id} > ol.kith-replies > li.kith-comment`);
  await expectCount(reply, 1);
  await expectText(reply.locator('.kith-author'), 'Cara');
  await expectText(kithEl(page, 'h2'), '2 comments');
  // the form went back to the bottom
  await expectText(kithEl(page, 'form h3'), 'Leave a Reply');
  assert.equal(await pli.locator('form').count(), 0);

  await page.reload();
  await expectCount(kithEl(page, `#comment-${parent.id} > ol.kith-replies > li.kith-comment`), 1);
  await expectText(kithEl(page, `#comment-${parent.id} > ol.kith-replies > li.kith-comment .kith-body`), 'Welcome, Bob.');
  await page.close();
});

test('validation errors are shown next to the field and the typed text is kept', async () => {
  const key = freshKey('invalid');
  const page = await open(key);
  const text = 'A long, thoughtful comment I would hate to lose.';
  // client-side required check
  await kithEl(page, 'textarea[name=body]').fill(text);
  await kithEl(page, 'button[type=submit]').click();
  await expectText(kithEl(page, '#kith-author-error'), 'This field is required.');
  assert.equal(await kithEl(page, 'input[name=author]').getAttribute('aria-invalid'), 'true');
  // server-side 422 with `field`
  await kithEl(page, 'input[name=author]').fill('Dan');
  await kithEl(page, 'input[name=email]').fill('not-an-email');
  await kithEl(page, 'button[type=submit]').click();
  await until(async () => (await kithEl(page, '#kith-email-error').textContent()).length > 0, 'inline email error');
  assert.equal(await kithEl(page, 'input[name=email]').getAttribute('aria-invalid'), 'true');
  assert.equal(await kithEl(page, '#kith-author-error').textContent(), '', 'fixed field error cleared');
  assert.equal(await kithEl(page, 'textarea[name=body]').inputValue(), text);
  assert.equal(await kithEl(page, 'input[name=email]').inputValue(), 'not-an-email');
  assert.equal(await kithEl(page, 'li.kith-comment').count(), 0);
  await until(async () => (await shadowActive(page))?.name === 'email', 'focus on the invalid field');
  // fixing it posts
  await kithEl(page, 'input[name=email]').fill('dan@example.com');
  await kithEl(page, 'button[type=submit]').click();
  await expectCount(kithEl(page, 'li.kith-comment'), 1);
  await page.close();
});

test('a comment being typed survives a reload and is cleared once posted', async () => {
  const key = freshKey('draft');
  const page = await open(key);
  await kithEl(page, 'textarea[name=body]').fill('Half-written thoughts');
  await page.reload();
  await kithEl(page, 'form').waitFor();
  assert.equal(await kithEl(page, 'textarea[name=body]').inputValue(), 'Half-written thoughts');
  await kithEl(page, 'input[name=author]').fill('Drafty');
  await kithEl(page, 'input[name=email]').fill('drafty@example.com');
  await kithEl(page, 'button[type=submit]').click();
  await expectCount(kithEl(page, 'li.kith-comment'), 1);
  await page.reload();
  await kithEl(page, 'form').waitFor();
  assert.equal(await kithEl(page, 'textarea[name=body]').inputValue(), '');
  await page.close();
});

test('the author can edit and delete a comment inside the edit window', async () => {
  const key = freshKey('edit');
  const page = await open(key);
  await postViaForm(page, { body: 'Frist post', author: 'Eve' });
  const li = kithEl(page, 'li.kith-comment');
  await expectCount(li, 1);
  await li.locator('button:text-is("Edit")').click();
  const ta = li.locator('textarea');
  assert.equal(await ta.inputValue(), 'Frist post', 'edit starts from the markdown that was posted');
  await ta.fill('First post, **fixed**');
  await li.locator('button:text-is("Save")').click();
  await expectText(kithEl(page, 'li.kith-comment .kith-body strong'), 'fixed');
  await expectText(kithEl(page, 'li.kith-comment > article > span.kith-time'), 'edited');
  await expectText(kithEl(page, '[role=status]'), 'Your changes were saved.');

  await page.reload();
  await expectText(kithEl(page, 'li.kith-comment .kith-body'), 'First post, fixed');
  await kithEl(page, 'li.kith-comment button:text-is("Delete")').click();
  await kithEl(page, 'dialog button:text-is("Delete")').click();
  await expectCount(kithEl(page, 'li.kith-comment'), 0);
  await expectText(kithEl(page, 'h2'), "No comments yet. Why don't you start the discussion?");
  await page.reload();
  await kithEl(page, 'form').waitFor();
  assert.equal(await kithEl(page, 'li.kith-comment').count(), 0, 'deleted on the server too');
  await page.close();
});

test('a deleted comment with replies leaves a placeholder', async () => {
  const key = freshKey('placeholder');
  const page = await open(key);
  await postViaForm(page, { body: 'I will regret this', author: 'Fay' });
  const li = kithEl(page, 'li.kith-comment');
  await expectCount(li, 1);
  const id = (await li.getAttribute('id')).slice(8);
  await apiPost(env.kith, key, { parent_id: Number(id), author: 'Gus', body: 'A reply that keeps it alive' });
  await page.reload();
  await expectCount(kithEl(page, `#comment-${id} > ol.kith-replies > li`), 1);
  await kithEl(page, `#comment-${id} > article button:text-is("Delete")`).click();
  await kithEl(page, 'dialog button:text-is("Delete")').click();
  await expectText(kithEl(page, `#comment-${id} > article`), 'This comment was deleted.');
  await expectText(kithEl(page, `#comment-${id} > ol.kith-replies`), 'A reply that keeps it alive');
  await page.reload();
  await expectText(kithEl(page, `#comment-${id} > article`), 'This comment was deleted.');
  await page.close();
});

test('keyboard only: Tab, typing and Enter post a comment and focus lands on it', async () => {
  const key = freshKey('keyboard');
  const page = await open(key);
  await kithEl(page, 'textarea[name=body]').waitFor();
  const tabTo = async pred => {
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      if (pred(await shadowActive(page))) return;
    }
    throw new Error('could not reach the element with Tab');
  };
  await tabTo(a => a?.name === 'body');
  await page.keyboard.type('Typed with the keyboard only.');
  await tabTo(a => a?.name === 'author');
  await page.keyboard.type('Kim');
  await page.keyboard.press('Tab');
  assert.equal((await shadowActive(page)).name, 'email');
  await page.keyboard.type('kim@example.com');
  await tabTo(a => a?.tag === 'button' && a.text === 'Post Comment');
  await page.keyboard.press('Enter');
  const li = kithEl(page, 'li.kith-comment');
  await expectCount(li, 1);
  const id = await li.getAttribute('id');
  await until(async () => { const a = await shadowActive(page); return a?.tag === 'article' && a.li === id; }, 'focus on the new comment');
  // focus is visible
  const outline = await page.evaluate(() => getComputedStyle(document.querySelector('#kith-thread').shadowRoot.activeElement).outlineStyle);
  assert.equal(outline, 'solid');
  await page.close();
});

test('dark theme: forced by attribute and following prefers-color-scheme', async () => {
  const key = freshKey('dark');
  const color = page => page.evaluate(() => getComputedStyle(document.querySelector('#kith-thread').shadowRoot.querySelector('.kith')).color);
  const light = 'rgb(31, 35, 40)', dark = 'rgb(230, 237, 243)';
  let page = await open(key, '?theme=dark');
  await until(async () => (await color(page)) === dark, 'dark text colour when forced');
  await page.close();

  const ctx = await env.browser.newContext({ colorScheme: 'dark' });
  page = await open(key, '', ctx);
  await until(async () => (await color(page)) === dark, 'dark text colour from prefers-color-scheme');
  await page.emulateMedia({ colorScheme: 'light' });
  await until(async () => (await color(page)) === light, 'light text colour from prefers-color-scheme');
  await page.close();
  page = await open(key, '?theme=light', ctx);
  await until(async () => (await color(page)) === light, 'light forced in a dark browser');
  await ctx.close();
});

test('host page CSS cannot break the embed, which inherits the host font', async () => {
  const page = await open(freshKey('hostcss'));
  const submit = kithEl(page, 'button[type=submit]');
  await submit.waitFor({ state: 'visible' });
  const st = await page.evaluate(() => {
    const k = document.querySelector('#kith-thread').shadowRoot.querySelector('.kith');
    const s = getComputedStyle(k);
    return { font: s.fontFamily, tt: s.textTransform, ls: s.letterSpacing, ta: s.textAlign };
  });
  assert.equal(st.font, 'Georgia, serif');
  assert.equal(st.tt, 'none');
  assert.equal(st.ls, 'normal');
  assert.notEqual(st.ta, 'center');
  await page.close();
});

test('axe-core finds no serious or critical violations', async () => {
  const key = freshKey('axe');
  const first = (await apiPost(env.kith, key, { author: 'Lee', website: 'https://lee.example/', body: 'A comment with a [link](https://example.com/) and `code`.' })).comment;
  await apiPost(env.kith, key, { author: 'Mo', body: 'A reply.', parent_id: first.id });
  for (const scheme of ['light', 'dark']) {
    const ctx = await env.browser.newContext({ colorScheme: scheme });
    const page = await open(key, '', ctx);
    await kithEl(page, 'li.kith-comment li.kith-comment').waitFor();
    await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
    const scan = async state => {
      const result = await page.evaluate(() => window.axe.run(document.querySelector('#kith-thread'), { resultTypes: ['violations'] }));
      const bad = result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(bad.map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`), [], `${scheme}, ${state}: no serious/critical violations`);
    };
    await scan('thread');
    // reply form open under a comment, with inline errors showing
    await kithEl(page, `#comment-${first.id} > article input:text-is("Reply")`).click();
    await kithEl(page, 'textarea[name=body]').fill('x');
    await kithEl(page, 'button[type=submit]').click();
    await expectText(kithEl(page, '#kith-author-error'), 'This field is required.');
    await scan('reply form with errors');
    await ctx.close();
  }
});

test('permalink: the linked comment is highlighted on load', async () => {
  const key = freshKey('permalink');
  await apiPost(env.kith, key, { body: 'one' });
  const second = (await apiPost(env.kith, key, { body: 'two' })).comment;
  const page = await open(key, `#comment-${second.id}`);
  await until(async () => (await kithEl(page, `#comment-${second.id} > article`).getAttribute('class'))?.includes('kith-highlight'), 'highlight');
  // (This page's full address: hostile.test.mjs shows why, with a `<base href>` elsewhere.)
  assert.equal(await kithEl(page, `#comment-${second.id} a.kith-time`).getAttribute('href'), `${env.host.origin}${key}#comment-${second.id}`);
  await page.close();
});

test('likes, sort order and markdown preview', async () => {
  const key = freshKey('misc');
  const a = (await apiPost(env.kith, key, { author: 'Old', body: 'older' })).comment;
  const b = (await apiPost(env.kith, key, { author: 'New', body: 'newer' })).comment;
  const page = await open(key);
  await expectCount(kithEl(page, 'ol.kith-list > li.kith-comment'), 2);
  const like = kithEl(page, `#comment-${a.id} input.kith-like`);
  await like.click();
  await until(async () => (await like.getAttribute('aria-pressed')) === 'true', 'like pressed');
  await expectValue(like, '♥ 1');
  assert.equal(await like.getAttribute('aria-label'), 'Like 1', 'the count is in the name too');
  await kithEl(page, `#comment-${b.id} input:text-is("Reply")`).click();
  await expectText(kithEl(page, `#comment-${b.id} h3`), 'Reply to New');
  await kithEl(page, 'select').selectOption('newest');
  await until(async () => (await kithEl(page, 'ol.kith-list > li.kith-comment').first().getAttribute('id')) === `comment-${b.id}`, 'newest first');
  await kithEl(page, 'select').selectOption('top');
  await until(async () => (await kithEl(page, 'ol.kith-list > li.kith-comment').first().getAttribute('id')) === `comment-${a.id}`, 'most liked first');

  await expectText(kithEl(page, 'form h3'), 'Leave a Reply');  // re-sorting kept the form (back at the bottom)
  assert.equal(await kithEl(page, 'li.kith-comment form').count(), 0);
  await kithEl(page, 'textarea[name=body]').fill('Some **bold** words');
  await kithEl(page, 'button:text-is("Preview")').click();
  await expectText(kithEl(page, '.kith-preview strong'), 'bold');
  assert.equal(await kithEl(page, 'textarea[name=body]').isVisible(), false);
  await kithEl(page, 'button:text-is("Write")').click();
  assert.equal(await kithEl(page, 'textarea[name=body]').inputValue(), 'Some **bold** words');
  await page.close();
});

test('report asks for a reason in an in-page dialog and sends it', async () => {
  const key = freshKey('report');
  const c = (await apiPost(env.kith, key, { body: 'spam spam' })).comment;
  const page = await open(key);
  const resp = page.waitForResponse(r => r.url().endsWith(`/comments/${c.id}/report`));
  await kithEl(page, `#comment-${c.id} input:text-is("Report")`).click();
  await page.getByLabel('Why should this comment be reviewed? (a short reason)').fill('Looks like spam');
  await kithEl(page, 'dialog button:text-is("Report")').click();
  assert.equal((await resp).status(), 200);
  assert.equal(JSON.parse((await resp).request().postData()).reason, 'Looks like spam');
  // The dialog closes once the answer is read, a moment after it arrives.
  await expectCount(kithEl(page, 'dialog'), 0);
  await expectText(kithEl(page, '[role=status]'), 'Thank you, the comment was reported.');
  await page.close();
});

test('remember me stores name, email and website for the next visit', async () => {
  const ctx = await env.browser.newContext();
  const key = freshKey('remember');
  let page = await open(key, '', ctx);
  await kithEl(page, 'input[name=remember]').check();
  await postViaForm(page, { body: 'remember me', author: 'Rita', email: 'rita@example.com', website: 'https://rita.example/' });
  await expectCount(kithEl(page, 'li.kith-comment'), 1);
  await page.close();
  page = await open(freshKey('remember2'), '', ctx);
  await kithEl(page, 'form').waitFor();
  assert.equal(await kithEl(page, 'input[name=author]').inputValue(), 'Rita');
  assert.equal(await kithEl(page, 'input[name=email]').inputValue(), 'rita@example.com');
  assert.equal(await kithEl(page, 'input[name=website]').inputValue(), 'https://rita.example/');
  assert.equal(await kithEl(page, 'input[name=remember]').isChecked(), true);
  await ctx.close();
});

test('a container language loads only that locale', async () => {
  const page = await newPage(env.browser);
  const locales = [];
  page.on('request', r => { if (r.url().includes('/locales/')) locales.push(new URL(r.url()).pathname); });
  const key = freshKey('de');
  await page.goto(`${env.host.origin}${key}?lang=de`);
  await expectText(kithEl(page, 'h2'), 'Noch keine Kommentare');
  await expectText(kithEl(page, 'button[type=submit]'), 'Kommentar abschicken');
  assert.deepEqual(locales, ['/locales/de.json']);
  await apiPost(env.kith, key, { body: 'Hallo' });
  await page.reload();
  await expectText(kithEl(page, 'h2'), '1 Kommentar');
  await expectText(kithEl(page, 'li.kith-comment a.kith-time'), 'jetzt');
  await page.close();
});

test('the POST carries container overrides, the form token, an empty honeypot and the checkboxes', async () => {
  const key = '/shared-' + freshKey('override').slice(3);
  const page = await newPage(env.browser);
  const settingsResp = page.waitForResponse(r => r.url().endsWith('/settings'));
  await page.goto(`${env.host.origin}${freshKey('path')}?key=${encodeURIComponent(key)}&title=${encodeURIComponent('Custom title')}`);
  const settings = await (await settingsResp).json();
  const hp = kithEl(page, 'input[name=hp]');
  const box = await hp.boundingBox();
  assert.ok(box.x + box.width < 0, `honeypot is off-screen (x=${box.x})`);
  assert.equal(await hp.evaluate(e => e.closest('[aria-hidden=true]') !== null && e.tabIndex === -1), true, 'honeypot hidden from assistive tech and Tab');
  await kithEl(page, 'input[name=notify_replies]').check();
  const req = page.waitForRequest(r => r.url().endsWith('/comments') && r.method() === 'POST');
  await postViaForm(page, { body: 'overrides', author: 'Olga' });
  const body = JSON.parse((await req).postData());
  assert.equal(body.thread_key, key);
  assert.equal(body.thread_title, 'Custom title');
  assert.match(body.thread_url, /^http:\/\/localhost:\d+\/p\//);
  assert.equal(body.hp, '');
  assert.ok(settings.form_token.length > 0);
  assert.equal(body.form_token, settings.form_token, 'the token the page was given is sent back');
  assert.equal(body.notify_replies, true);
  assert.equal(body.notify_thread, false);
  assert.equal(body.pow, null);
  await expectCount(kithEl(page, 'li.kith-comment'), 1);
  // another page showing the same key sees the comment
  const other = await open(freshKey('path2'), `?key=${encodeURIComponent(key)}`);
  await expectText(kithEl(other, 'li.kith-comment .kith-body'), 'overrides');
  await other.close();
  await page.close();
});

test('an unknown site shows a load error instead of a form', async () => {
  const page = await newPage(env.browser);
  await page.goto(`${env.host.origin}${freshKey('nosite')}?site=no-such-site`);
  // The server answers a site it does not know like one that refuses this origin (403
  // origin_not_allowed, readable), so the embed points to the allowed origins; either way no form.
  await expectText(kithEl(page, '.kith-form-error'), /Comments could not be loaded\.|may not show comments from this server/);
  assert.equal(await kithEl(page, 'form').count(), 0);
  await page.close();
});

test('"Load more comments" fetches the next page when there is a next_cursor', async () => {
  const key = freshKey('more');
  for (let i = 1; i <= 52; i++) await apiPost(env.kith, key, { body: `comment number ${i}` });
  const page = await open(key);
  await expectText(kithEl(page, 'h2'), '52 comments');
  await expectCount(kithEl(page, 'ol.kith-list > li.kith-comment'), 50);
  const more = kithEl(page, 'button:text-is("Load more comments")');
  await more.click();
  await expectCount(kithEl(page, 'ol.kith-list > li.kith-comment'), 52);
  await expectText(kithEl(page, 'ol.kith-list > li.kith-comment').last(), 'comment number 52');
  await until(async () => !(await more.isVisible()), 'button hidden at the end');
  await page.close();
});

test('nested replies are indented, with indentation capped on narrow screens', async () => {
  const key = freshKey('deep');
  let parent = null;
  const ids = [];
  for (let d = 0; d < 5; d++) {
    parent = (await apiPost(env.kith, key, { body: `depth ${d}`, parent_id: parent })).comment.id;
    ids.push(parent);
  }
  const offset = async width => {
    const ctx = await env.browser.newContext({ viewport: { width, height: 900 } });
    const page = await open(key, '', ctx);
    const deepest = kithEl(page, `#comment-${ids[4]} > article`);
    await deepest.waitFor();
    const [c, d, p] = await Promise.all([kithEl(page, '.kith').boundingBox(), deepest.boundingBox(), kithEl(page, `#comment-${ids[1]} > article`).boundingBox()]);
    await ctx.close();
    return { deep: d.x - c.x, one: p.x - c.x, width: d.width };
  };
  const wide = await offset(900), narrow = await offset(360);
  assert.ok(wide.one > 15, `a reply is indented (${wide.one}px)`);
  assert.ok(wide.deep > wide.one * 3, `depth 4 is indented further on wide screens (${wide.deep}px)`);
  assert.ok(narrow.deep < wide.deep - 30, `indentation capped on mobile (${narrow.deep}px vs ${wide.deep}px)`);
  assert.ok(narrow.width > 220, `deepest reply keeps a readable width on mobile (${narrow.width}px)`);
});
