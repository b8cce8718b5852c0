// Reader-facing features of issue 12: in-page dialogs, "Manage my comments", the roomy edit box,
// the dark palette from the host page, counts from embed.js, thread titles, refused origins.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, startKith, startHost, newPage, freshKey, kithEl, expectText, expectCount, until, apiPost, postViaForm, shadowActive, runAxe } from './harness.mjs';

let env;
// Mail is configured (so the manage-mail endpoint accepts requests) but the outbox worker is off:
// nothing is ever sent from here; mail delivery has its own tests.
before(async () => {
  env = await setup({ db: 'sqlite', moderation: 'none', env: {
    KITH_MAIL__SMTP_HOST: '127.0.0.1', KITH_MAIL__FROM: 'kith@example.com', KITH_MAIL__WORKER: 'false' } });
});
after(async () => { await env?.stop(); });

const open = async (key, query = '', ctx = env.browser) => {
  const page = await newPage(ctx);
  await page.goto(`${env.host.origin}${key}${query}`);
  await kithEl(page, 'h2').waitFor();
  return page;
};
/** Where focus is: in the open dialog, elsewhere on the page (host page or embed), or nowhere (browser UI). */
const focusPlace = page => page.evaluate(() => {
  const container = document.querySelector('#kith-thread'), inner = container.shadowRoot.activeElement;
  if (inner) return inner.closest('dialog[open]') ? 'dialog' : 'embed';
  return document.activeElement === document.body || document.activeElement === null ? 'nowhere' : 'page';
});
const axeSerious = async page => {
  const result = await runAxe(page, '#kith-thread');
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);
};

test('the report dialog is labelled, keeps focus inside, closes on Escape and gives focus back', async () => {
  const key = freshKey('dialog');
  const c = (await apiPost(env.kith, key, { body: 'Report me, maybe' })).comment;
  const page = await open(key);
  const reportButton = kithEl(page, `#comment-${c.id} input:text-is("Report")`);
  await reportButton.click();
  const dialog = page.getByRole('dialog', { name: 'Report' });
  await dialog.waitFor();
  assert.equal(await dialog.evaluate(d => d.open && d.matches(':modal')), true, 'a modal dialog');
  await until(async () => (await shadowActive(page))?.tag === 'textarea', 'focus on the reason field');
  assert.equal(await page.getByLabel('Why should this comment be reviewed? (a short reason)').count(), 1, 'the field is labelled');
  const places = [];
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('Tab');
    // Focus cycles through the dialog (and possibly the browser's own UI), never the page behind it.
    const place = await focusPlace(page);
    assert.ok(place === 'dialog' || place === 'nowhere', `Tab ${i + 1} stays in the dialog (focus: ${place})`);
    places.push(place);
  }
  assert.ok(places.filter(p => p === 'dialog').length >= 4, `Tab mostly lands in the dialog (${places})`);
  assert.deepEqual(await axeSerious(page), [], 'axe: dialog open');
  // an empty reason is refused in place
  await page.getByLabel('Why should this comment be reviewed? (a short reason)').fill('  ');
  await dialog.getByRole('button', { name: 'Report' }).click();
  await expectText(dialog.locator('[role=alert]'), 'This field is required.');
  await page.keyboard.press('Escape');
  await expectCount(kithEl(page, 'dialog'), 0);
  await until(async () => (await shadowActive(page))?.text === 'Report', 'focus back on the Report button');
  await page.close();
});

test('deleting asks in an in-page dialog; Cancel keeps the comment', async () => {
  const key = freshKey('confirm');
  const page = await open(key);
  await postViaForm(page, { body: 'Maybe I keep this', author: 'Vic' });
  const li = kithEl(page, 'li.kith-comment');
  await expectCount(li, 1);
  let deletes = 0;
  page.on('request', r => { if (r.method() === 'DELETE') deletes++; });
  await li.locator('button:text-is("Delete")').click();
  const dialog = page.getByRole('dialog', { name: 'Delete' });
  await expectText(dialog, 'Delete your comment? This cannot be undone.');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expectCount(kithEl(page, 'dialog'), 0);
  assert.equal(deletes, 0, 'nothing deleted');
  await expectCount(li, 1);
  await li.locator('button:text-is("Delete")').click();
  await page.getByRole('dialog', { name: 'Delete' }).getByRole('button', { name: 'Delete' }).click();
  await expectCount(li, 0);
  await expectText(kithEl(page, '[role=status]'), 'Your comment was deleted.');
  assert.equal(deletes, 1);
  await page.close();
});

test('"Manage my comments" asks for the address and sends the manage mail', async () => {
  const ctx = await env.browser.newContext();
  const key = freshKey('manage');
  let page = await open(key, '', ctx);
  await kithEl(page, 'input[name=remember]').check();
  await postViaForm(page, { body: 'Mine to manage', author: 'Wim', email: 'wim@example.com' });
  await expectCount(kithEl(page, 'li.kith-comment'), 1);
  await page.close();
  page = await open(key, '', ctx);
  await kithEl(page, 'button:text-is("Manage my comments")').click();
  const dialog = page.getByRole('dialog', { name: 'Manage my comments' });
  await dialog.waitFor();
  const email = dialog.getByLabel('Email');
  assert.equal(await email.inputValue(), 'wim@example.com', 'the remembered address is offered');
  await email.fill('not an address');
  await dialog.getByRole('button', { name: 'Send link' }).click();
  await until(async () => (await dialog.locator('[role=alert]').textContent()).length > 0, 'the server refuses a bad address in the dialog');
  await email.fill('wim@example.com');
  const request = page.waitForRequest(r => r.url().endsWith('/mail/manage'));
  const response = page.waitForResponse(r => r.url().endsWith('/mail/manage') && r.request().method() === 'POST');
  await dialog.getByRole('button', { name: 'Send link' }).click();
  assert.deepEqual(JSON.parse((await request).postData()), { email: 'wim@example.com' });
  assert.equal((await response).status(), 202);
  await expectText(dialog, 'If this address has comments here, a link to manage them is on its way.');
  assert.deepEqual(await axeSerious(page), [], 'axe: manage dialog after sending');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expectCount(kithEl(page, 'dialog'), 0);
  await until(async () => (await shadowActive(page))?.text === 'Manage my comments', 'focus back on the link');
  await ctx.close();
});

test('the edit box is as roomy as the post box and has a preview', async () => {
  const key = freshKey('roomy');
  const page = await open(key);
  await postViaForm(page, { body: 'Some *first* words', author: 'Xia' });
  const li = kithEl(page, 'li.kith-comment');
  await expectCount(li, 1);
  const postBox = await kithEl(page, 'textarea[name=body]').boundingBox();
  await li.locator('button:text-is("Edit")').click();
  const editBox = li.locator('textarea');
  const box = await editBox.boundingBox();
  assert.ok(box.height >= postBox.height - 1, `edit box ${box.height}px high, post box ${postBox.height}px`);
  assert.ok(box.width >= postBox.width * 0.85, `edit box ${box.width}px wide, post box ${postBox.width}px`);
  await editBox.fill('Some **better** words');
  await li.locator('button:text-is("Preview")').click();
  await expectText(li.locator('.kith-preview strong'), 'better');
  assert.equal(await editBox.isVisible(), false);
  await li.locator('button:text-is("Write")').click();
  assert.equal(await editBox.inputValue(), 'Some **better** words');
  await li.locator('button:text-is("Save")').click();
  await expectText(kithEl(page, 'li.kith-comment .kith-body strong'), 'better');
  await page.close();
});

test('dark theme takes the host page\'s own colours; a light page keeps the light theme', async () => {
  const key = freshKey('warm');
  await apiPost(env.kith, key, { body: 'On a warm dark page' });
  const warm = 'html{background:#2b2118} #kith-thread{color:#f3e6d0 !important}';
  const colours = page => page.evaluate(() => {
    const k = document.querySelector('#kith-thread').shadowRoot.querySelector('.kith');
    const s = getComputedStyle(k);
    return { text: s.color, bg: s.backgroundColor, scheme: document.querySelector('#kith-thread').dataset.kithScheme };
  });
  // auto: the page is dark, so the embed is, in the page's colours (whatever the reader prefers)
  let page = await open(key, `?css=${encodeURIComponent(warm)}`);
  await until(async () => (await colours(page)).text === 'rgb(243, 230, 208)', 'the host text colour');
  assert.deepEqual(await colours(page), { text: 'rgb(243, 230, 208)', bg: 'rgb(43, 33, 24)', scheme: 'dark' });
  const border = await kithEl(page, 'textarea[name=body]').evaluate(e => getComputedStyle(e).borderTopColor);
  assert.notEqual(border, 'rgb(61, 68, 77)', `borders mixed from the page colours, not the fixed dark grey (${border})`);
  assert.deepEqual(await axeSerious(page), [], 'axe: warm dark page');
  await page.close();
  // a light page with a background stays light even when the reader prefers dark
  const ctx = await env.browser.newContext({ colorScheme: 'dark' });
  page = await open(key, `?css=${encodeURIComponent('html{background:#fdf6e3}')}`, ctx);
  await until(async () => (await colours(page)).scheme === 'light', 'light on a light page');
  assert.equal((await colours(page)).text, 'rgb(31, 35, 40)');
  await ctx.close();
});

test('embed.js also fills [data-kith-count] elements, with or without a thread on the page', async () => {
  const a = freshKey('count-a'), b = freshKey('count-b');
  for (let i = 0; i < 2; i++) await apiPost(env.kith, a, { body: `a ${i}` });
  await apiPost(env.kith, b, { body: 'b' });
  // on a post page with a thread
  let page = await open(freshKey('with-thread'), `?counts=${a},${b}`);
  await expectText(page.locator(`#related a[data-kith-count="${a}"]`), '2 comments');
  await expectText(page.locator(`#related a[data-kith-count="${b}"]`), '1 comment');
  await page.close();
  // on an index page with embed.js only
  page = await newPage(env.browser);
  const counts = [];
  page.on('request', r => { if (r.url().endsWith('/counts')) counts.push(r); });
  await page.goto(`${env.host.origin}/index/?keys=${a},${b}&script=embed&lang=de`);
  await expectText(page.locator(`a[data-kith-count="${a}"]`), '2 Kommentare');
  await expectText(page.locator(`a[data-kith-count="${b}"]`), '1 Kommentar');
  assert.equal(counts.length, 1, 'one POST /counts');
  await page.close();
});

test('the thread title drops the site name from document.title; og:title wins', async () => {
  const titleSent = async query => {
    const page = await open(freshKey('title'), query);
    const req = page.waitForRequest(r => r.url().endsWith('/comments') && r.method() === 'POST');
    await postViaForm(page, { body: 'title check', author: 'Yan' });
    const title = JSON.parse((await req).postData()).thread_title;
    await expectCount(kithEl(page, 'li.kith-comment'), 1);
    await page.close();
    return title;
  };
  for (const sep of ['·', '|', '–', '-']) {
    assert.equal(await titleSent(`?doctitle=${encodeURIComponent(`On Well-being ${sep} My Blog`)}`), 'On Well-being', `suffix after "${sep}"`);
  }
  assert.equal(await titleSent(`?doctitle=${encodeURIComponent('Well-being')}`), 'Well-being', 'a hyphen inside a word stays');
  assert.equal(await titleSent(`?doctitle=${encodeURIComponent('Post · Blog')}&og=${encodeURIComponent('The Real Title')}`), 'The Real Title');
  assert.equal(await titleSent(`?og=${encodeURIComponent('OG')}&title=${encodeURIComponent('Attribute')}`), 'Attribute', 'the container attribute wins');
});

test('a page on an origin the site does not allow says how to fix it', async () => {
  const kith = await startKith({ db: 'sqlite', env: { KITH_DEFAULT_SITE__ALLOWED_ORIGINS: '["https://blog.example"]' } });
  try {
    const host = await startHost(kith.base);
    const page = await newPage(env.browser);
    const warnings = [];
    page.on('console', m => { if (m.type() === 'warning') warnings.push(m.text()); });
    await page.goto(`${host.origin}${freshKey('refused')}`);
    const expected = `This page (${host.origin}) may not show comments from this server: add its address under Admin → Sites → Allowed origins`;
    await expectText(kithEl(page, '.kith-form-error'), expected);
    assert.equal(await kithEl(page, 'form').count(), 0);
    await until(() => warnings.some(w => w.includes(expected)), 'the same as a console warning');
    await page.close();
    await host.stop();
  } finally {
    await kith.stop();
  }
});
