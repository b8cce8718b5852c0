// The admin area in real Chromium against the real kith binary: setup link, login, the queue,
// bulk actions, bans, closing threads, readers' reports, import/export, and axe-core scans.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { setup, newPage, freshKey, kithEl, expectText, expectCount, until, apiPost, postViaForm, runAxe } from './harness.mjs';

const require = createRequire(import.meta.url);
const PASSWORD = 'a long browser password';
let env, adminCtx, admin;

before(async () => {
  env = await setup({ db: 'sqlite', moderation: 'all' });
  adminCtx = await env.browser.newContext();
});
after(async () => { await adminCtx?.close(); await env?.stop(); });

const adminUrl = p => `${env.kith.base}/admin${p}`;

/** Calls the admin JSON API from Node with the browser's session cookie. */
async function adminApi(method, p, body) {
  const cookie = (await adminCtx.cookies(adminUrl('/'))).find(c => c.name === 'kith_admin');
  assert.ok(cookie, 'the admin browser has a session cookie');
  const headers = { Cookie: `kith_admin=${cookie.value}`, 'Content-Type': 'application/json' };
  const session = await (await fetch(adminUrl('/api/session'), { headers })).json();
  const r = await fetch(adminUrl('/api' + p), { method, headers: { ...headers, 'X-CSRF-Token': session.csrf_token }, body: body && JSON.stringify(body) });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${p}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A report sent from another loopback address, as a different reader. */
function reportFrom(localAddress, id, reason) {
  const url = new URL(`${env.kith.api}/comments/${id}/report`);
  const body = JSON.stringify({ reason });
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, res => {
      res.resume(); res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const rowOf = (page, text) => page.locator('ol.queue > li', { hasText: text });

test('the one-time setup link from the log creates the first admin', async () => {
  const link = await until(() => env.kith.log().match(/(\/admin\/setup\?token=[0-9a-f]{64})/)?.[1], 'the setup link in the log');
  admin = await newPage(adminCtx);
  await admin.goto(env.kith.base + link);
  await expectText(admin.locator('h1'), 'Set up kith');
  await admin.getByLabel("Your site's name").fill('Quiet Corner');
  await admin.getByLabel("Your blog's address").fill('http://localhost:4321');
  await admin.getByLabel('Login name').fill('owner');
  await admin.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await admin.getByLabel('Password again').fill(PASSWORD);
  await admin.getByRole('button', { name: 'Create admin' }).click();
  await expectText(admin.locator('h1'), 'Dashboard');
  // Used up: the same link no longer works.
  const again = await newPage(env.browser);
  const response = await again.goto(env.kith.base + link);
  assert.equal(response.status(), 403);
  await expectText(again.locator('[role=alert]'), 'not valid');
  await again.close();
});

test('logging in: pages without a session show the login page; a wrong password is refused', async () => {
  const ctx = await env.browser.newContext();
  const page = await newPage(ctx);
  await page.goto(adminUrl('/comments'));
  await expectText(page.locator('h1'), 'Log in to kith');
  await page.getByLabel('Name').fill('owner');
  await page.getByLabel('Password').fill('wrong password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expectText(page.locator('[role=alert]'), 'wrong name or password');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expectText(page.locator('h1'), 'Dashboard');
  const cookie = (await ctx.cookies(adminUrl('/'))).find(c => c.name === 'kith_admin');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  await page.getByRole('button', { name: /Log out/ }).click();
  await expectText(page.locator('h1'), 'Log in to kith');
  await page.goto(adminUrl('/'));
  await expectText(page.locator('h1'), 'Log in to kith');
  assert.deepEqual(page.errors, []);
  await ctx.close();
});

test('an approved held comment appears in the embed', async () => {
  const key = freshKey('approve');
  const readerCtx = await env.browser.newContext();
  const reader = await newPage(readerCtx);
  await reader.goto(env.host.origin + key);
  await kithEl(reader, 'form').waitFor();
  await postViaForm(reader, { body: 'Please let this through.', author: 'Hopeful Hana', email: 'hana@example.com' });
  await expectText(kithEl(reader, 'li.kith-comment .kith-pending'), 'Your comment is awaiting moderation.');

  await admin.goto(adminUrl('/comments?status=pending'));
  const row = rowOf(admin, 'Please let this through.');
  await expectCount(row, 1);
  await expectText(row, 'Held because: all comments are held on this site');
  await expectText(row, 'hana@example.com');
  await row.getByRole('button', { name: 'Approve', exact: true }).click();
  await expectText(admin.locator('[role=status]'), 'Approved.');
  await expectCount(rowOf(admin, 'Please let this through.'), 0);

  const other = await newPage(env.browser);
  await other.goto(env.host.origin + key);
  await expectText(kithEl(other, 'li.kith-comment .kith-body'), 'Please let this through.');
  assert.equal(await kithEl(other, 'li.kith-comment .kith-pending').count(), 0, 'no longer awaiting moderation');
  await reader.reload();
  await expectText(kithEl(reader, 'li.kith-comment .kith-body'), 'Please let this through.');
  assert.equal(await kithEl(reader, 'li.kith-comment .kith-pending').count(), 0);
  await other.close();
  await readerCtx.close();
});

test('three comments are marked as spam at once', async () => {
  const key = freshKey('bulk');
  const authors = ['Spammer One', 'Spammer Two', 'Spammer Three'];
  for (const a of authors) await apiPost(env.kith, key, { author: a, email: `${a.replace(' ', '.').toLowerCase()}@example.com`, body: `Buy now, says ${a}` });
  await admin.goto(adminUrl('/comments?status=pending'));
  for (const a of authors) await admin.getByRole('checkbox', { name: `Select the comment by ${a}` }).check();
  await admin.getByRole('button', { name: 'Spam selected' }).click();
  await expectText(admin.locator('[role=status]'), 'Marked as spam.');
  for (const a of authors) await expectCount(rowOf(admin, `says ${a}`), 0);
  await admin.getByRole('link', { name: /^Spam/ }).click();
  await expectText(admin.locator('h1'), 'Comments: Spam');
  for (const a of authors) await expectCount(rowOf(admin, `says ${a}`), 1);
  await expectText(admin.locator('.tabs a[aria-current]'), /Spam\s+3/);
});

test('after banning an e-mail address its next comment lands in spam', async () => {
  await admin.goto(adminUrl('/bans'));
  await admin.getByLabel('Ban by').selectOption('email');
  await admin.getByLabel('Value').fill('troll@example.com');
  await admin.getByLabel('Note').fill('insults');
  await admin.getByRole('button', { name: 'Add the ban' }).click();
  await expectText(admin.locator('[role=status]'), 'The ban is in place.');
  await expectText(admin.locator('table'), 'troll@example.com');

  const key = freshKey('ban');
  const reader = await newPage(env.browser);
  await reader.goto(env.host.origin + key);
  await kithEl(reader, 'form').waitFor();
  await postViaForm(reader, { body: 'You are all wrong.', author: 'Troll', email: 'troll@example.com' });
  await expectCount(kithEl(reader, 'li.kith-comment'), 1);
  await admin.goto(adminUrl('/comments?status=spam'));
  const row = rowOf(admin, 'You are all wrong.');
  await expectCount(row, 1);
  await expectText(row, 'Held because: banned email: troll@example.com');
  await admin.goto(adminUrl('/comments?status=pending'));
  await expectCount(rowOf(admin, 'You are all wrong.'), 0);
  await reader.close();
});

test('a closed thread tells readers that comments are closed', async () => {
  const key = freshKey('close');
  const posted = await apiPost(env.kith, key, { body: 'The last word.' });
  await adminApi('POST', '/comments/moderate', { ids: [posted.comment.id], action: 'approve' });
  await admin.goto(adminUrl('/threads?q=' + encodeURIComponent(key)));
  const row = admin.locator('tbody tr', { hasText: key });
  await expectCount(row, 1);
  await row.getByRole('button', { name: /^Close/ }).click();
  await expectText(admin.locator('[role=status]'), 'The thread is closed to new comments.');
  await expectText(admin.locator('tbody tr', { hasText: key }), 'Closed');

  const reader = await newPage(env.browser);
  await reader.goto(env.host.origin + key);
  await expectText(kithEl(reader, 'li.kith-comment .kith-body'), 'The last word.');
  await expectText(kithEl(reader, '.kith-closed'), 'Comments are closed.');
  assert.equal(await kithEl(reader, 'form').count(), 0, 'no form on a closed thread');
  await reader.close();
});

test('a comment reported by three readers disappears until an admin decides', async () => {
  const key = freshKey('report');
  const posted = await apiPost(env.kith, key, { body: 'A rude remark.', author: 'Rude Rudi', email: 'rudi@example.com' });
  const id = posted.comment.id;
  await adminApi('POST', '/comments/moderate', { ids: [id], action: 'approve' });
  assert.equal(await reportFrom('127.0.0.2', id, 'rude'), 200);
  assert.equal(await reportFrom('127.0.0.3', id, 'insulting'), 200);

  const reader = await newPage(env.browser);
  await reader.goto(env.host.origin + key);
  const li = kithEl(reader, 'li.kith-comment');
  await expectText(li.locator('.kith-body'), 'A rude remark.');
  await li.getByRole('button', { name: 'Report' }).click();
  await reader.getByLabel('Why should this comment be reviewed? (a short reason)').fill('offensive');
  await kithEl(reader, 'dialog').getByRole('button', { name: 'Report' }).click();
  await expectText(kithEl(reader, '[role=status]'), 'Thank you, the comment was reported.');
  await reader.reload();
  await expectText(kithEl(reader, 'h2'), "No comments yet. Why don't you start the discussion?");
  assert.equal(await kithEl(reader, 'li.kith-comment').count(), 0, 'hidden at the threshold');

  await admin.goto(adminUrl('/comments?status=reported'));
  const row = rowOf(admin, 'A rude remark.');
  await expectText(row, 'Reported by 3 readers');
  await expectText(row, 'Held because: reported by 3 readers');
  await reader.close();
});

test('the queue page has no serious or critical accessibility violations', async () => {
  const key = freshKey('axe');
  await apiPost(env.kith, key, { body: 'Held for the **axe** scan, with a [link](https://example.com/).', author: 'Axel' });
  await admin.goto(adminUrl('/comments?status=pending'));
  await expectCount(rowOf(admin, 'Held for the axe scan'), 1);
  const results = await runAxe(admin);
  const bad = results.violations.filter(v => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map(v => `${v.id}: ${v.nodes.map(n => n.target).join(' ')}`), []);
  assert.ok(results.passes.length > 10, 'axe ran its checks');
  assert.deepEqual(admin.errors, []);
});

test('the site settings page sets the owner alerts to a daily digest, accessibly', async () => {
  await admin.goto(adminUrl('/sites/default'));
  const alerts = admin.getByLabel('Owner alerts about new comments');
  assert.equal(await alerts.inputValue(), 'instant');
  await alerts.selectOption('daily');
  await admin.getByRole('button', { name: 'Save' }).click();
  await until(async () => (await adminApi('GET', '/sites/default')).settings.owner_frequency === 'daily',
    'owner alerts saved as daily');
  await admin.goto(adminUrl('/sites/default'));
  assert.equal(await admin.getByLabel('Owner alerts about new comments').inputValue(), 'daily');
  const results = await runAxe(admin);
  const bad = results.violations.filter(v => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map(v => `${v.id}: ${v.nodes.map(n => n.target).join(' ')}`), []);
  assert.deepEqual(admin.errors, []);
});

test('a site is exported and imported from its Import / export page', async () => {
  const fixture = new URL('../../../shared/fixtures/isso/wordpress.xml', import.meta.url).pathname;
  await admin.goto(adminUrl('/sites'));
  await admin.getByRole('link', { name: 'Import / export' }).first().click();
  await expectText(admin.locator('h1'), 'Import / export');
  const [download] = await Promise.all([
    admin.waitForEvent('download'),
    admin.getByRole('link', { name: 'kith JSON' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^kith-default-\d{4}-\d\d-\d\d\.json$/);
  const exported = JSON.parse(await streamText(await download.createReadStream()));
  assert.ok(Array.isArray(exported.threads), 'a kith export');

  // A real browser's multipart upload: first a dry run, then for real.
  await admin.getByLabel('File', { exact: true }).setInputFiles(fixture);
  await admin.getByRole('checkbox', { name: /^Dry run/ }).check();
  await admin.getByRole('button', { name: 'Import', exact: true }).click();
  await expectText(admin.locator('[role=status]'), '8 comments to add');
  await admin.getByLabel('File', { exact: true }).setInputFiles(fixture);
  await admin.getByRole('checkbox', { name: /^Dry run/ }).uncheck();
  await admin.getByRole('button', { name: 'Import', exact: true }).click();
  await expectText(admin.locator('[role=status]'), '8 comments added');

  const results = await runAxe(admin);
  const bad = results.violations.filter(v => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map(v => `${v.id}: ${v.nodes.map(n => n.target).join(' ')}`), []);
  assert.deepEqual(admin.errors, []);
});

test('a reply shows what it answers, and the comment page approves, spams and deletes', async () => {
  const key = freshKey('context');
  const parent = (await apiPost(env.kith, key, { author: 'Parent Author', body: 'The parent first line\n\nand a second paragraph' })).comment.id;
  await adminApi('POST', '/comments/moderate', { ids: [parent], action: 'approve' });
  const reply = (await apiPost(env.kith, key, { author: 'Reply Author', body: 'An answer', parent_id: parent })).comment.id;
  await admin.goto(adminUrl('/comments?status=pending'));
  const row = rowOf(admin, 'An answer');
  await expectText(row.locator('.context'), 'In reply to Parent Author: The parent first line');
  await row.locator('.context a').click();
  await expectText(admin.locator('h1'), 'Comment by Parent Author');
  assert.equal(new URL(admin.url()).pathname, `/admin/comments/${parent}`);

  await admin.goto(adminUrl(`/comments/${reply}`));
  const results = await runAxe(admin);
  const bad = results.violations.filter(v => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map(v => `${v.id}: ${v.nodes.map(n => n.target).join(' ')}`), []);
  const card = admin.locator(`#c-${reply}`);
  await card.getByRole('button', { name: 'Approve', exact: true }).click();
  await expectText(admin.locator('[role=status]'), 'Approved.');
  assert.equal(await card.getAttribute('data-status'), 'approved');
  assert.equal(await card.getByRole('button', { name: 'Approve', exact: true }).count(), 0);
  await card.getByRole('button', { name: 'Spam', exact: true }).click();
  await expectText(admin.locator('[role=status]'), 'Marked as spam.');
  assert.equal(await card.getAttribute('data-status'), 'spam');
  await card.getByRole('button', { name: 'Delete', exact: true }).click();
  await expectText(admin.locator('[role=status]'), 'Deleted.');
  assert.equal(await card.getAttribute('data-status'), 'deleted');
  assert.equal(await card.getByRole('button', { name: 'Restore', exact: true }).count(), 1);
  assert.deepEqual(admin.errors, []);
});

test('the queue is readable on a phone: no sideways scrolling, buttons in reach', async () => {
  await apiPost(env.kith, freshKey('phone'), { author: 'Phone Reader', body: 'A rather long comment that must wrap on a narrow screen: https://example.com/a/very/long/address/without/any/spaces/in/it/at/all' });
  const phone = await newPage(adminCtx);
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(adminUrl('/comments?status=pending'));
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.equal(overflow, 0, 'the queue fits a 390px wide screen');
  await expectText(rowOf(phone, 'Phone Reader').getByRole('button', { name: 'Approve', exact: true }), 'Approve');
  if (process.env.KITH_SCREENSHOT_DIR) await phone.screenshot({ path: path.join(process.env.KITH_SCREENSHOT_DIR, 'admin-queue-phone.png'), fullPage: true });
  const results = await runAxe(phone);
  const bad = results.violations.filter(v => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map(v => `${v.id}: ${v.nodes.map(n => n.target).join(' ')}`), []);
  await phone.close();
});

async function streamText(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
