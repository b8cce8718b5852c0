// One full reader flow on PostgreSQL: post, reply, edit, like, delete, counts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, freshKey, kithEl, expectText, expectCount, until, postViaForm, shadowActive } from './harness.mjs';

let env;
before(async () => { env = await setup({ db: 'postgres', moderation: 'none' }); });
after(async () => { await env?.stop(); });

test('full flow on PostgreSQL', async () => {
  assert.match(env.kith.dbUrl, /^postgres:\/\//);
  const key = freshKey('pg');
  const page = await newPage(env.browser);
  await page.goto(env.host.origin + key);
  await expectText(kithEl(page, 'h2'), "No comments yet. Why don't you start the discussion?");
  await postViaForm(page, { body: 'Hello from PostgreSQL', author: 'Pg Reader' });
  const first = kithEl(page, 'ol.ls > li.c');
  await expectCount(first, 1);
  const id = await first.getAttribute('id');
  await until(async () => (await shadowActive(page))?.li === id, 'focus on the new comment');

  await first.locator('> article button:text-is("Reply")').click();
  await postViaForm(page, { body: 'A nested answer', author: 'Second' });
  await expectCount(kithEl(page, `#${id} > ol.r > li.c`), 1);
  await expectText(kithEl(page, 'h2'), '2 comments');

  await kithEl(page, `#${id} > article button.lk`).click();
  await expectText(kithEl(page, `#${id} > article button.lk`), '1');

  const reply = kithEl(page, `#${id} > ol.r > li.c`);
  await reply.locator('button:text-is("Edit")').click();
  await reply.locator('textarea').fill('A nested answer, _edited_');
  await reply.locator('button:text-is("Save")').click();
  await expectText(kithEl(page, `#${id} > ol.r > li.c .b em`), 'edited');

  await page.reload();
  await expectText(kithEl(page, `#${id} > ol.r > li.c .b`), 'A nested answer, edited');
  await expectText(kithEl(page, `#${id} > article button.lk`), '1');
  page.once('dialog', d => d.accept());
  await kithEl(page, `#${id} > ol.r > li.c button:text-is("Delete")`).click();
  await expectCount(kithEl(page, `#${id} > ol.r > li.c`), 0);
  await expectText(kithEl(page, 'h2'), '1 comment');

  const index = await newPage(env.browser);
  await index.goto(`${env.host.origin}/index/?keys=${key}`);
  await expectText(index.locator('a[data-kith-count]'), '1 comment');
  await index.close();
  await page.close();
});
