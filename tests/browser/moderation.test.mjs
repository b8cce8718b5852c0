// Comments held for moderation are shown to their author only (from this browser's localStorage).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, freshKey, kithEl, expectText, expectCount, postViaForm } from './harness.mjs';

let env;
// This server also makes e-mail optional, to check that the form follows the site settings.
before(async () => { env = await setup({ db: 'sqlite', moderation: 'all', env: { KITH_DEFAULT_SITE__REQUIRE_EMAIL: 'false' } }); });
after(async () => { await env?.stop(); });

test('a pending comment is visible to its author only', async () => {
  const key = freshKey('pending');
  const author = await env.browser.newContext();
  const page = await newPage(author);
  await page.goto(env.host.origin + key);
  await kithEl(page, 'form').waitFor();
  await postViaForm(page, { body: 'Held for a human to read first.', author: 'Pat' });
  const li = kithEl(page, 'li.c');
  await expectCount(li, 1);
  await expectText(li.locator('.pe'), 'Your comment is awaiting moderation.');
  await expectText(kithEl(page, '[role=status]'), 'Your comment is awaiting moderation.');
  await expectText(kithEl(page, 'h2'), "No comments yet. Why don't you start the discussion?");

  await page.reload();
  await expectCount(kithEl(page, 'li.c'), 1);
  await expectText(kithEl(page, 'li.c .pe'), 'Your comment is awaiting moderation.');
  await expectText(kithEl(page, 'li.c .b'), 'Held for a human to read first.');

  const other = await env.browser.newContext();
  const page2 = await newPage(other);
  await page2.goto(env.host.origin + key);
  await expectText(kithEl(page2, 'h2'), "No comments yet. Why don't you start the discussion?");
  await kithEl(page2, 'form').waitFor();
  assert.equal(await kithEl(page2, 'li.c').count(), 0, 'another reader does not see it');
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
  assert.equal(await kithEl(page, 'label[for=k-email] .rq').count(), 0, 'no * on Email');
  assert.equal(await kithEl(page, 'label[for=k-author] .rq').count(), 1, '* on Name');
  await postViaForm(page, { body: 'No e-mail given', author: 'Quinn', email: '' });
  await expectText(kithEl(page, 'li.c .pe'), 'Your comment is awaiting moderation.');
  await page.close();
});
