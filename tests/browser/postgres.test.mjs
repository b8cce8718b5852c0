// One full reader flow on PostgreSQL: post, reply, edit, like, delete, counts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { setup, newPage, freshKey, kithEl, expectText, expectCount, until, apiPost, postViaForm, shadowActive, expectValue } from './harness.mjs';

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
  const first = kithEl(page, 'ol.kith-list > li.kith-comment');
  await expectCount(first, 1);
  const id = await first.getAttribute('id');
  await until(async () => (await shadowActive(page))?.li === id, 'focus on the new comment');

  await first.locator('> article input:text-is("Reply")').click();
  await postViaForm(page, { body: 'A nested answer', author: 'Second' });
  await expectCount(kithEl(page, `#${id} > ol.kith-replies > li.kith-comment`), 1);
  await expectText(kithEl(page, 'h2'), '2 comments');

  await kithEl(page, `#${id} > article input.kith-like`).click();
  await expectValue(kithEl(page, `#${id} > article input.kith-like`), '♥ 1');

  const reply = kithEl(page, `#${id} > ol.kith-replies > li.kith-comment`);
  await reply.locator('button:text-is("Edit")').click();
  await reply.locator('textarea').fill('A nested answer, _edited_');
  await reply.locator('button:text-is("Save")').click();
  await expectText(kithEl(page, `#${id} > ol.kith-replies > li.kith-comment .kith-body em`), 'edited');

  await page.reload();
  await expectText(kithEl(page, `#${id} > ol.kith-replies > li.kith-comment .kith-body`), 'A nested answer, edited');
  await expectValue(kithEl(page, `#${id} > article input.kith-like`), '♥ 1');
  await kithEl(page, `#${id} > ol.kith-replies > li.kith-comment button:text-is("Delete")`).click();
  await kithEl(page, 'dialog button:text-is("Delete")').click();
  await expectCount(kithEl(page, `#${id} > ol.kith-replies > li.kith-comment`), 0);
  await expectText(kithEl(page, 'h2'), '1 comment');

  const index = await newPage(env.browser);
  await index.goto(`${env.host.origin}/index/?keys=${key}`);
  await expectText(index.locator('a[data-kith-count]'), '1 comment');
  await index.close();
  await page.close();
});

// Admin-only state is set through the admin JSON API, as the owner would: an admin account made
// with the `kith admin create` CLI (password on stdin), then POST /admin/api/login.
let adminSession;
async function adminApi(method, p, body) {
  if (!adminSession) {
    const bin = process.env.KITH_BIN || '/var/tmp/kith-target/debug/kith';
    execFileSync(bin, ['admin', 'create', 'owner'], {
      input: 'a long enough password\n', stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, KITH_DATABASE__URL: env.kith.dbUrl, KITH_LOG__LEVEL: 'warn' },
    });
    const login = await fetch(`${env.kith.base}/admin/api/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'owner', password: 'a long enough password' }),
    });
    assert.equal(login.status, 200, await login.clone().text());
    const cookie = login.headers.getSetCookie().map(c => c.split(';')[0]).find(c => c.startsWith('kith_admin='));
    assert.ok(cookie, 'the login sets the session cookie');
    const session = await (await fetch(`${env.kith.base}/admin/api/session`, { headers: { Cookie: cookie } })).json();
    adminSession = { Cookie: cookie, 'X-CSRF-Token': session.csrf_token };
  }
  const r = await fetch(`${env.kith.base}/admin/api${p}`, {
    method, headers: { ...adminSession, 'Content-Type': 'application/json' }, body: body && JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${p}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

test('closed thread, pinned comment and owner badge (set through the admin API)', async () => {
  const key = freshKey('closed');
  const a = (await apiPost(env.kith, key, { author: 'Reader', body: 'first' })).comment;
  const b = (await apiPost(env.kith, key, { author: 'The Owner', body: 'pinned answer' })).comment;
  const page = await newPage(env.browser);
  await page.goto(env.host.origin + key);
  await kithEl(page, 'textarea[name=body]').fill('Typed while the owner closed the thread');
  await kithEl(page, 'input[name=author]').fill('Late');
  await kithEl(page, 'input[name=email]').fill('late@example.com');
  await adminApi('POST', '/comments/moderate', { ids: [b.id], action: 'pin' });
  const owner = (await adminApi('POST', `/comments/${a.id}/reply`, { body: 'the owner answers' }));
  const ownerId = owner.id ?? owner.comment?.id;
  assert.ok(ownerId, `the owner reply has an id: ${JSON.stringify(owner)}`);
  const { threads } = await adminApi('GET', `/threads?q=${encodeURIComponent(key)}`);
  const thread = threads.find(t => t.key === key);
  assert.ok(thread, `thread ${key} is listed`);
  await adminApi('POST', `/threads/${thread.id}/close`);
  // a non-field error (403 thread_closed) is shown at form level and the text is kept
  const resp = page.waitForResponse(r => r.url().endsWith('/comments') && r.request().method() === 'POST');
  await kithEl(page, 'button[type=submit]').click();
  assert.equal((await resp).status(), 403);
  await until(async () => (await kithEl(page, '.kith-form-error').textContent()).length > 0, 'form-level error');
  assert.equal(await kithEl(page, 'textarea[name=body]').inputValue(), 'Typed while the owner closed the thread');
  await page.reload();
  await expectText(kithEl(page, '.kith-closed'), 'Comments are closed.');
  assert.equal(await kithEl(page, 'form').count(), 0, 'no form on a closed thread');
  assert.equal(await kithEl(page, 'input:text-is("Reply")').count(), 0, 'no reply buttons');
  await expectText(kithEl(page, 'ol.kith-list > li.kith-comment').first(), 'pinned answer');
  await kithEl(page, 'ol.kith-list > li.kith-comment').first().evaluate(e => { e.dataset.old = '1'; });
  await kithEl(page, 'select').selectOption('newest');
  await until(async () => (await kithEl(page, 'ol.kith-list > li.kith-comment').count()) === 2 && (await kithEl(page, 'li[data-old]').count()) === 0, 'list re-rendered');
  assert.equal(await kithEl(page, 'form').count(), 0, 'still no form after re-sorting');
  assert.deepEqual(await kithEl(page, `#comment-${b.id} > article .kith-badge`).allInnerTexts(), ['Pinned']);
  assert.deepEqual(await kithEl(page, `#comment-${ownerId} > article .kith-badge`).allInnerTexts(), ['Owner']);
  assert.equal(await kithEl(page, `#comment-${a.id} > article .kith-badge`).count(), 0);
  await page.close();
});

// The site form the admin API takes, filled from the site as it is (PUT /admin/api/sites/{slug}).
function siteForm(site) {
  const s = site.settings;
  const lines = v => (Array.isArray(v) ? v.join('\n') : String(v ?? ''));
  return {
    slug: site.slug, name: site.name, allowed_origins: lines(site.allowed_origins),
    moderation: s.moderation, edit_window_secs: String(s.edit_window_secs), max_depth: String(s.max_depth),
    require_name: s.require_name, require_email: s.require_email,
    hold_words: lines(s.hold_words), reject_words: lines(s.reject_words),
    max_links: String(s.max_links), report_threshold: String(s.report_threshold),
    auto_close_days: String(s.auto_close_days), language: s.language,
  };
}

test('proof of work is solved in a Web Worker and accepted (pow_difficulty set through the admin API)', async () => {
  const site = await adminApi('GET', '/sites/default');
  const updated = await adminApi('PUT', '/sites/default', { ...siteForm(site), pow_difficulty: '16' });
  assert.equal(updated.settings.pow_difficulty, 16);
  const key = freshKey('pow');
  const page = await newPage(env.browser);
  const workers = [];
  page.on('worker', w => workers.push(w.url()));
  const settingsResp = page.waitForResponse(r => r.url().endsWith('/settings'));
  await page.goto(env.host.origin + key);
  const settings = await (await settingsResp).json();
  assert.equal(settings.pow?.difficulty, 16, 'the site asks for proof of work');
  const zeros = s => {
    let z = 0;
    for (const b of createHash('sha256').update(s).digest()) { if (b === 0) { z += 8; continue; } z += Math.clz32(b) - 24; break; }
    return z;
  };
  // a failed attempt first (invalid e-mail): the retry still gets an unused challenge
  await postViaForm(page, { body: 'Worked for it, 1', author: 'Pow 1', email: 'not-an-email' });
  await until(async () => (await kithEl(page, '#kith-email-error').textContent()).length > 0, 'inline email error');
  const challenges = [];
  for (const n of [1, 2]) {
    const req = page.waitForRequest(r => r.url().endsWith('/comments') && r.method() === 'POST');
    await postViaForm(page, { body: `Worked for it, ${n}`, author: `Pow ${n}` });
    const body = JSON.parse((await req).postData());
    assert.match(body.pow?.nonce ?? '', /^\d+$/);
    assert.ok(zeros(`${body.pow.challenge}:${body.pow.nonce}`) >= 16, 'the nonce solves the challenge');
    challenges.push(body.pow.challenge);
    await expectCount(kithEl(page, 'li.kith-comment'), n);
    await expectText(kithEl(page, 'h2'), `${n} comment`);
  }
  assert.notEqual(challenges[1], challenges[0], 'a fresh challenge for the second comment');
  assert.ok(workers.length >= 1 && workers.every(u => u.startsWith('blob:')), `solved in a Blob Web Worker (${workers})`);
  assert.equal(await kithEl(page, '.kith-form-error').textContent(), '');
  await page.close();
});
