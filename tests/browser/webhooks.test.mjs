// The site's Webhooks page in real Chromium against the real kith binary: adding endpoints
// (CSRF-protected forms), the secret shown once and on request, a real delivery to a receiver
// on loopback verified with the docs' Node.js snippet, a failing endpoint listed with its last
// error, deleting an endpoint, and an axe-core scan.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { setup, newPage, freshKey, expectText, until, apiPost, runAxe, repoRoot } from './harness.mjs';

const PASSWORD = 'a long browser password';
let env, ctx, admin, receiver, received = [];

before(async () => {
  receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(req.url === '/fail' ? 500 : 200).end('ok');
    });
  });
  await new Promise(resolve => receiver.listen(0, '127.0.0.1', resolve));
  env = await setup({
    db: 'sqlite',
    env: {
      KITH_WEBHOOKS__ALLOW_PRIVATE: 'true',
      KITH_WEBHOOKS__POLL_INTERVAL_MS: '100',
      KITH_WEBHOOKS__RETRY_BASE_MS: '0',
      KITH_WEBHOOKS__MAX_ATTEMPTS: '2',
    },
  });
  ctx = await env.browser.newContext();
});
after(async () => { await ctx?.close(); await env?.stop(); receiver?.close(); });

const adminUrl = p => `${env.kith.base}/admin${p}`;
const hookUrl = p => `http://127.0.0.1:${receiver.address().port}${p}`;

/** The `verify` function of docs/webhooks.md's Node.js snippet, as written there. */
function documentedVerify() {
  const doc = fs.readFileSync(`${repoRoot}/docs/webhooks.md`, 'utf8');
  const snippet = doc.match(/```js\n([\s\S]*?)\n```/)[1];
  return new Function('require', `${snippet}\nreturn verify;`)(createRequire(import.meta.url));
}

test('an admin adds a signed endpoint, sees its secret once, and deliveries verify', async () => {
  const link = await until(() => env.kith.log().match(/(\/admin\/setup\?token=[0-9a-f]{64})/)?.[1], 'the setup link');
  admin = await newPage(ctx);
  await admin.goto(env.kith.base + link);
  await admin.getByLabel("Your site's name").fill('Quiet Corner');
  await admin.getByLabel("Your blog's address").fill('http://localhost:4321');
  await admin.getByLabel('Login name').fill('owner');
  await admin.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await admin.getByLabel('Password again').fill(PASSWORD);
  await admin.getByRole('button', { name: 'Create admin' }).click();
  await expectText(admin.locator('h1'), 'Dashboard');

  await admin.goto(adminUrl('/sites/default'));
  await admin.getByRole('link', { name: 'Webhooks' }).click();
  await expectText(admin.locator('h1'), 'Webhooks of default');

  // A refused URL keeps what was typed and says why.
  await admin.getByLabel('URL').fill('ftp://nowhere.example/');
  await admin.getByRole('button', { name: 'Add the endpoint' }).click();
  await expectText(admin.locator('[role=alert]'), 'http');

  await admin.getByLabel('URL').fill(hookUrl('/ok'));
  await admin.getByLabel('Payload format').selectOption('kith');
  await admin.getByRole('checkbox', { name: 'reported' }).uncheck();
  await admin.getByRole('button', { name: 'Add the endpoint' }).click();
  const secretText = await admin.locator('#secret code').textContent();
  assert.match(secretText, /^whsec_[0-9a-f]{64}$/);
  await expectText(admin.locator('table').first(), 'posted, held, approved, deleted');

  // Shown once: a fresh load of the page does not show it; asking does.
  await admin.goto(adminUrl('/sites/default/webhooks'));
  assert.equal(await admin.locator('#secret').count(), 0);
  await admin.getByRole('button', { name: /^Show secret/ }).click();
  assert.equal(await admin.locator('#secret code').textContent(), secretText);

  const posted = await apiPost(env.kith, freshKey('hook'), { body: 'Delivered by **webhook**', author: 'Ann' });
  const delivery = await until(() => received.find(r => r.path === '/ok'), 'a delivery');
  assert.equal(delivery.headers['kith-event'], 'comment.posted');
  const body = JSON.parse(delivery.body.toString('utf8'));
  assert.equal(body.comment.id, posted.comment.id);
  assert.ok(!delivery.body.toString('utf8').includes('@'), 'no e-mail address in the payload');
  const verify = documentedVerify();
  assert.equal(verify(secretText, delivery.headers['kith-signature'], delivery.body), true);
  assert.equal(verify('whsec_wrong', delivery.headers['kith-signature'], delivery.body), false);

  const results = await runAxe(admin);
  const bad = results.violations.filter(v => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map(v => `${v.id}: ${v.nodes.map(n => n.target).join(' ')}`), []);
  assert.ok(results.passes.length > 10, 'axe ran its checks');
  assert.deepEqual(admin.errors, []);
});

test('a failing endpoint is listed with its last error, and endpoints can be deleted', async () => {
  await admin.goto(adminUrl('/sites/default/webhooks'));
  await admin.getByLabel('URL').fill(hookUrl('/fail'));
  await admin.getByLabel('Payload format').selectOption('slack');
  await admin.getByRole('button', { name: 'Add the endpoint' }).click();
  await expectText(admin.locator('[role=status]').first(), 'The endpoint was added');

  await apiPost(env.kith, freshKey('fail'), { body: 'Refused by the receiver', author: 'Bob' });
  await until(() => received.filter(r => r.path === '/fail').length >= 2, 'two attempts');
  await until(async () => {
    await admin.goto(adminUrl('/sites/default/webhooks'));
    return (await admin.locator('tr', { hasText: 'failed' }).count()) > 0;
  }, 'the failed delivery on the page');
  const row = admin.locator('tr', { hasText: 'failed' }).first();
  await expectText(row, 'HTTP 500');
  const slack = JSON.parse(received.find(r => r.path === '/fail').body.toString('utf8'));
  assert.equal(typeof slack.text, 'string');
  assert.ok(Array.isArray(slack.blocks));

  const results = await runAxe(admin);
  const bad = results.violations.filter(v => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map(v => `${v.id}: ${v.nodes.map(n => n.target).join(' ')}`), []);

  const before = await admin.getByRole('button', { name: /^Delete endpoint/ }).count();
  await admin.getByRole('button', { name: /^Delete endpoint/ }).first().click();
  await expectText(admin.locator('[role=status]').first(), 'The endpoint was deleted');
  assert.equal(await admin.getByRole('button', { name: /^Delete endpoint/ }).count(), before - 1);
  assert.deepEqual(admin.errors, []);
});
