// Every html5sec vector posted as a comment renders without executing anything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setup, newPage, freshKey, kithEl, expectText, apiPost, sharedDir } from './harness.mjs';

const vectors = JSON.parse(fs.readFileSync(path.join(sharedDir, 'fixtures', 'h5sc', 'vectors-expanded.derived.json'), 'utf8'));
let env;
// Some vectors carry many links; the link rule (hold above 2) would keep them from rendering.
before(async () => { env = await setup({ db: 'sqlite', env: { KITH_DEFAULT_SITE__MAX_LINKS: '1000' } }); });
after(async () => { await env?.stop(); });

test('html5sec vectors are stored and rendered without script execution', async t => {
  assert.equal(vectors.length, 149);
  // 50 top-level comments per thread page: spread the vectors over threads so all of them render.
  const keys = [];
  let authorsAsVectors = 0;
  for (let i = 0; i < vectors.length; i += 50) {
    const key = freshKey('xss');
    keys.push([key, Math.min(50, vectors.length - i)]);
    for (const v of vectors.slice(i, i + 50)) {
      // the vector as the body, and (where the server accepts it as a name) as the author too
      try { await apiPost(env.kith, key, { body: v.vector, author: v.vector.slice(0, 100) }); authorsAsVectors++; } catch (e) {
        assert.match(e.message, /answered 422/, `vector ${v.id} as author: only a clean rejection is acceptable`);
        await apiPost(env.kith, key, { body: v.vector, author: `Vector ${v.id}` });
      }
    }
  }
  for (const [key, n] of keys) {
    const page = await newPage(env.browser);
    const dialogs = [], markers = [];
    page.on('dialog', d => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
    page.on('console', m => { if (m.text().includes('__xss')) markers.push(m.text()); });
    await page.addInitScript(() => {
      window.__xss = 0;
      for (const f of ['alert', 'confirm', 'prompt', 'print']) {
        const orig = window[f];
        window[f] = function (...a) { window.__xss++; console.log('__xss ' + f); return orig.apply(this, a); };
      }
    });
    await page.goto(env.host.origin + key);
    await expectText(kithEl(page, 'h2'), `${n} comments`);
    // Let every comment's resources settle (images with onerror, iframes…) before judging.
    await page.waitForLoadState('networkidle');
    const found = await page.evaluate(() => {
      const root = document.querySelector('#kith-thread').shadowRoot;
      const bad = [];
      for (const el of root.querySelectorAll('.kith-body *')) {
        const tag = el.tagName.toLowerCase();
        if (['script', 'iframe', 'object', 'embed', 'frame', 'frameset', 'form', 'input', 'button', 'style', 'link', 'meta', 'base', 'svg', 'math', 'textarea', 'select'].includes(tag)) bad.push(`<${tag}>`);
      }
      // no handler, inline style or script URL anywhere in the shadow root (the embed's own UI
      // included; only its avatars carry a style: their cells, as background images and positions;
      // and the top-level comments the room they keep until drawn, contain-intrinsic-size)
      const avatarStyle = el => (el.matches('span.kith-avatar') && [...el.style].every(p => /^background-(image|position)/.test(p)))
        || (el.matches('ol.kith-list > li.kith-comment') && [...el.style].every(p => /^contain-intrinsic-/.test(p)));
      for (const el of root.querySelectorAll('*')) {
        const tag = el.tagName.toLowerCase();
        for (const a of el.attributes) {
          if (/^on/i.test(a.name) || (a.name === 'style' && !el.closest('svg') && !avatarStyle(el)) || a.name === 'formaction' || a.name === 'srcdoc') bad.push(`${tag}[${a.name}]`);
          if (/^\s*(javascript|vbscript|data):/i.test(a.value)) bad.push(`${tag}[${a.name}=${a.value.slice(0, 30)}]`);
        }
      }
      return { bad, n: root.querySelectorAll('li.kith-comment').length, names: root.querySelectorAll('.kith-author').length, xss: window.__xss, scripts: root.querySelectorAll('script').length };
    });
    assert.equal(found.n, n, 'every vector rendered as a comment');
    assert.equal(found.names, found.n, 'every author name rendered as text');
    assert.deepEqual(found.bad, [], 'no dangerous element or attribute in comment bodies');
    assert.equal(found.scripts, 0);
    assert.equal(found.xss, 0, 'marker trap untouched');
    assert.deepEqual(dialogs, [], 'no dialog opened');
    assert.deepEqual(markers, []);
    assert.deepEqual(page.errors, []);
    await page.close();
  }
  t.diagnostic(`${authorsAsVectors} of ${vectors.length} vectors also accepted as author names`);
  assert.ok(authorsAsVectors > 0, `some vectors were accepted as author names (${authorsAsVectors})`);
});
