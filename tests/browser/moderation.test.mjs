// Comments held for moderation are shown to their author only (from this browser's localStorage).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, freshKey, kithEl, expectText, expectCount, postViaForm, until } from './harness.mjs';

let env;
// This server also makes e-mail optional and the edit window short, to check that the embed follows the site settings.
const WINDOW = 4;
before(async () => { env = await setup({ db: 'sqlite', moderation: 'all', env: { KITH_DEFAULT_SITE__REQUIRE_EMAIL: 'false', KITH_DEFAULT_SITE__EDIT_WINDOW_SECS: String(WINDOW) } }); });
after(async () => { await env?.stop(); });

test('a pending comment is visible to its author only, under a fitting heading', async () => {
  const key = freshKey('pending');
  const author = await env.browser.newContext();
  const page = await newPage(author);
  await page.goto(env.host.origin + key);
  await kithEl(page, 'form').waitFor();
  await postViaForm(page, { body: 'Held for a human to read first.', author: 'Pat' });
  const li = kithEl(page, 'li.kith-comment');
  await expectCount(li, 1);
  await expectText(li.locator('.kith-pending'), 'Your comment is awaiting moderation.');
  await expectText(kithEl(page, '[role=status]'), 'Your comment is awaiting moderation.');
  // its author does not see "No comments yet" above it, but a heading that fits
  await expectText(kithEl(page, 'h2'), 'Awaiting moderation');

  await page.reload();
  await expectCount(kithEl(page, 'li.kith-comment'), 1);
  await expectText(kithEl(page, 'h2'), 'Awaiting moderation');
  await expectText(kithEl(page, 'li.kith-comment .kith-pending'), 'Your comment is awaiting moderation.');
  await expectText(kithEl(page, 'li.kith-comment .kith-body'), 'Held for a human to read first.');

  const other = await env.browser.newContext();
  const page2 = await newPage(other);
  await page2.goto(env.host.origin + key);
  await expectText(kithEl(page2, 'h2'), "No comments yet. Why don't you start the discussion?");
  await kithEl(page2, 'form').waitFor();
  assert.equal(await kithEl(page2, 'li.kith-comment').count(), 0, 'another reader does not see it');
  assert.equal(await page2.getByText('Held for a human').count(), 0);
  await other.close();
  await author.close();
});

test('required fields follow the site settings (email optional here)', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.host.origin + freshKey('optional'));
  await kithEl(page, 'form').waitFor();
  assert.equal(await kithEl(page, 'input[name=email]').evaluate(e => e.required), false);
  assert.equal(await kithEl(page, 'input[name=author]').evaluate(e => e.required), true);
  assert.equal(await kithEl(page, 'label[for=kith-email] .kith-required').count(), 0, 'no * on Email');
  assert.equal(await kithEl(page, 'label[for=kith-author] .kith-required').count(), 1, '* on Name');
  await postViaForm(page, { body: 'No e-mail given', author: 'Quinn', email: '' });
  await expectText(kithEl(page, 'li.kith-comment .kith-pending'), 'Your comment is awaiting moderation.');
  await page.close();
});

test('Edit and Delete show the time left and disappear when the edit window closes', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.host.origin + freshKey('window'));
  await kithEl(page, 'form').waitFor();
  await postViaForm(page, { body: 'Quick, edit me', author: 'Tess' });
  const li = kithEl(page, 'li.kith-comment');
  await expectText(li.locator('.kith-time-left'), /Editable for 0:0[0-4]/);
  assert.equal(await li.locator('button:text-is("Edit")').count(), 1);
  await until(async () => (await li.locator('button:text-is("Edit"), button:text-is("Delete"), .kith-time-left').count()) === 0,
    'edit controls removed after the window', (WINDOW + 5) * 1000);
  await expectText(li.locator('.kith-body'), 'Quick, edit me');
  await page.close();
});
