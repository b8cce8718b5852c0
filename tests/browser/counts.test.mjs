// count.js on an index page: one POST /counts for the site, singular/plural text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, freshKey, expectText, apiPost } from './harness.mjs';

let env;
before(async () => { env = await setup({ db: 'sqlite' }); });
after(async () => { await env?.stop(); });

test('count links on an index page show comment counts with one request', async () => {
  const a = freshKey('three'), b = freshKey('one'), c = freshKey('none');
  for (let i = 0; i < 3; i++) await apiPost(env.kith, a, { body: `comment ${i}` });
  await apiPost(env.kith, b, { body: 'only one' });
  const page = await newPage(env.browser);
  const counts = [];
  page.on('request', r => { if (r.url().endsWith('/counts')) counts.push(r); });
  await page.goto(`${env.host.origin}/index/?keys=${[a, b, c].join(',')}`);
  await expectText(page.locator(`a[data-kith-count="${a}"]`), '3 comments');
  await expectText(page.locator(`a[data-kith-count="${b}"]`), '1 comment');
  await expectText(page.locator(`a[data-kith-count="${c}"]`), '0 comments');
  assert.equal(await page.locator(`a[data-kith-count="${b}"]`).innerText(), '1 comment');
  assert.equal(counts.length, 1, 'one POST /counts for the site');
  assert.equal(counts[0].method(), 'POST');
  assert.deepEqual(JSON.parse(counts[0].postData()).keys.sort(), [a, b, c].sort());
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('count.js speaks the script tag language and sends one request per site', async () => {
  const a = freshKey('fr');
  for (let i = 0; i < 2; i++) await apiPost(env.kith, a, { body: `commentaire ${i}` });
  const b = freshKey('fr1');
  await apiPost(env.kith, b, { body: 'un seul' });
  const page = await newPage(env.browser);
  const sites = [];
  page.on('request', r => { if (r.url().endsWith('/counts')) sites.push(new URL(r.url()).pathname.split('/')[4]); });
  await page.goto(`${env.host.origin}/index/?keys=${a},${b}&lang=fr&site=other-site`);
  await expectText(page.locator(`a[data-kith-count="${a}"]`), '2 commentaires');
  await expectText(page.locator(`a[data-kith-count="${b}"]`), '1 commentaire');
  await page.waitForLoadState('networkidle');
  assert.deepEqual(sites.sort(), ['default', 'other-site'], 'one POST /counts per site');
  assert.equal(await page.locator('span[data-kith-site]').innerText(), 'Comments', 'an unknown site leaves the text alone');
  await page.close();
});
