// The embed on hostile or merely unusual host pages (docs/embed.md, "On hostile or strict pages"):
// each page here does one such thing (DOM clobbering, a `<base href>` elsewhere, tampered
// builtins and a polluted Object.prototype, a wrapped fetch, a strict CSP with a nonce and
// Trusted Types, fake sign-in messages, aggressive CSS, a container that comes and goes). On each
// the thread must show and take a comment, or fail visibly; no injected script may run, and no
// request may leave for a host the page chose (every request not to the kith server or the host
// page is recorded and refused).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { startKith, launchBrowser, newPage, freshKey, kithEl, expectText, until, apiPost } from './harness.mjs';

const EVIL = 'https://evil.example';
let kith, browser, hostServer, host, frameServer, frameOrigin;
// The host pages of this file, by path: `{ html, headers }`.
const pages = new Map();

const serve = address => new Promise(resolve => {
  const server = http.createServer((request, response) => {
    const page = pages.get(new URL(request.url, 'http://x').pathname);
    if (!page) { response.writeHead(404); response.end(); return; }
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', ...page.headers });
    response.end(page.html);
  });
  server.listen(0, address, () => resolve(server));
});

before(async () => {
  // Mail to a closed port (never delivered): the site can then offer e-mail sign-in.
  kith = await startKith({ db: 'sqlite', env: { KITH_MAIL__SMTP_HOST: '127.0.0.1', KITH_MAIL__SMTP_PORT: '9', KITH_MAIL__SECURITY: 'plain', KITH_MAIL__FROM: 'kith@example.com' } });
  execFileSync(process.env.KITH_BIN || '/var/tmp/kith-target/debug/kith', ['site', 'set', 'default', '--signin-methods', 'email'],
    { env: { PATH: process.env.PATH, KITH_DATABASE__URL: kith.dbUrl, KITH_LOG__LEVEL: 'warn' }, stdio: 'pipe' });
  await kith.restart();
  browser = await launchBrowser();
  hostServer = await serve('127.0.0.1');
  host = `http://localhost:${hostServer.address().port}`;
  // A third origin, for frames that are neither the page nor the API.
  frameServer = await serve('127.0.0.2');
  frameOrigin = `http://127.0.0.2:${frameServer.address().port}`;
});

after(async () => {
  await browser?.close();
  hostServer?.closeAllConnections();
  hostServer?.close();
  frameServer?.closeAllConnections();
  frameServer?.close();
  await kith?.stop();
});

/**
 * A host page at `key` with `head` and `body` around the usual container and script tag, or
 * `html` as a whole (`{{KITH}}` is the kith server, `{{KEY}}` the thread key).
 */
function hostPage(key, { head = '', before = '', after = '', html, headers = {}, script = '<script async src="{{KITH}}/embed.js"></script>' }) {
  html ??= `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hostile · Blog</title>${head}</head><body>
<h1>A post</h1>${before}
<div id="kith-thread" data-kith-key="{{KEY}}"></div>
${script}${after}
</body></html>`;
  pages.set(key, { html: html.replaceAll('{{KITH}}', kith.base).replaceAll('{{KEY}}', key), headers });
  return host + key;
}

/**
 * A fresh context whose requests anywhere but the kith server and the host page are refused
 * and recorded (`offsite`); `console` holds the page's console messages, `dialogs` any dialog.
 */
async function open(url, { init } = {}) {
  const context = await browser.newContext();
  const offsite = [];
  await context.route(u => !u.href.startsWith(kith.base) && !u.href.startsWith(host) && !u.href.startsWith(frameOrigin),
    route => { offsite.push(route.request().url()); return route.abort(); });
  const page = await newPage(context);
  const consoleMessages = [], dialogs = [];
  page.on('console', message => consoleMessages.push(`${message.type()}: ${message.text()}`));
  page.on('dialog', dialog => { dialogs.push(dialog.message()); dialog.dismiss().catch(() => {}); });
  if (init) await page.addInitScript(init);
  await page.goto(url);
  return { context, page, offsite, console: consoleMessages, dialogs };
}

/** A thread with one comment (a little markup in it), posted through the API. */
async function seeded(name) {
  const key = freshKey(name);
  await apiPost(kith, key, { author: 'Seed Author', body: `Seeded *first* comment on ${key}` });
  return key;
}

/**
 * The seeded comment shows with its body's markup, and a comment posted through the form shows
 * too; in `scope` (the first of several threads), else in the page's one.
 */
async function showsAndPosts(page, scope = page.locator('#kith-thread')) {
  const body = `Posted from a hostile page ${Math.random()}`;
  const inside = selector => scope.locator(selector);
  await expectText(inside('h2.kith-heading'), '1 comment');
  await expectText(inside('li.kith-comment .kith-body em'), 'first');
  await inside('form.kith-form').waitFor();
  await inside('textarea[name=body]').fill(body);
  await inside('input[name=author]').fill('Ann Reader');
  await inside('input[name=email]').fill('secret-reader@example.com');
  await inside('button[type=submit]').click();
  await expectText(inside('h2.kith-heading'), '2 comments');
  await expectText(inside('li.kith-comment:last-child .kith-body'), body);
}

/** No script of the page's choosing ran (the marker pages set on `window.__xss`), no dialog, nothing offsite. */
async function nothingRan(session) {
  assert.equal(await session.page.evaluate(() => window.__xss || 0), 0, 'no injected script ran');
  assert.deepEqual(session.dialogs, [], 'no dialog');
  assert.deepEqual(session.offsite, [], 'no request left for another host');
}

test('DOM clobbering: markup named like what the embed reads from document and window changes nothing', async () => {
  const key = await seeded('clobber');
  // Named <img>, <form>, <embed> and <object> elements shadow `document`'s own members; ids
  // become globals where the window has no such name.
  const names = ['currentScript', 'querySelector', 'querySelectorAll', 'getElementById', 'createElement', 'title',
    'documentElement', 'readyState', 'hidden', 'addEventListener', 'cookie', 'body', 'head', 'defaultView', 'location'];
  const clobber = names.map(name => `<img name="${name}" loading="lazy" src="${EVIL}/${name}.png"><form name="${name}" action="${EVIL}/"><input name="src" value="${EVIL}/"></form>`).join('\n')
    + `<form id="kith" action="${EVIL}/"><input name="base" value="${EVIL}/"></form><a id="defaultView" href="${EVIL}/"></a>
<a id="config" href="${EVIL}/"></a><a id="trustedTypes"></a><a id="kithConfig" href="${EVIL}/"></a><a id="fetch"></a><a id="JSON"></a><a id="localStorage"></a>`;
  const session = await open(hostPage(key, { before: `<div hidden>${clobber}</div>` }));
  const { page } = session;
  assert.equal(await page.evaluate(() => document.currentScript instanceof HTMLImageElement || document.currentScript instanceof HTMLCollection), true, 'the page really shadows document.currentScript');
  await showsAndPosts(page);
  await nothingRan(session);
  await session.context.close();
});

test('a <base href> elsewhere: the embed\'s permalinks and requests stay on this page and the kith server', async () => {
  const key = await seeded('base');
  const session = await open(hostPage(key, { head: `<base href="${EVIL}/">` }));
  const { page } = session;
  await showsAndPosts(page);
  const time = kithEl(page, 'li.kith-comment a.kith-time').first();
  const id = await kithEl(page, 'li.kith-comment').first().getAttribute('id');
  assert.equal(await time.evaluate(a => a.href), `${host}${key}#${id}`, 'the permalink is this page');
  await time.click();
  await until(() => page.url() == `${host}${key}#${id}`, 'the permalink followed on this page');
  await nothingRan(session);
  await session.context.close();
});

test('tampered builtins: Array.prototype.map/forEach/includes and JSON.parse replaced, fetch wrapped', async () => {
  const key = await seeded('builtins');
  const session = await open(hostPage(key, {}), {
    init: () => {
      window.__fetched = [];
      const realFetch = window.fetch;
      // A page that watches its requests (as analytics scripts do).
      window.fetch = function (input, init) {
        window.__fetched.push(String(input) + ' ' + JSON.stringify(init || {}));
        return realFetch.apply(this, arguments);
      };
      Array.prototype.map = function () { return ['tampered']; };
      Array.prototype.forEach = function () {};
      Array.prototype.includes = function () { return true; };
      JSON.parse = function () { return { tampered: true, token: 'forged', name: 'Forged' }; };
    },
  });
  const { page } = session;
  await showsAndPosts(page);
  // No secret in an address: the reader's address and edit token travel only in bodies and headers.
  // (A plain loop: this runs in the page, whose Array.prototype.map is the tampered one.)
  const urls = await page.evaluate(() => {
    const seen = [];
    for (let i = 0; i < window.__fetched.length; i++) seen.push(window.__fetched[i].split(' ')[0]);
    return seen;
  });
  assert.ok(urls.length > 3, `the wrapped fetch saw the embed's requests: ${urls}`);
  for (const url of urls) {
    assert.ok(url.startsWith(kith.base + '/'), `only the kith server: ${url}`);
    assert.ok(!/secret-reader|edit_token|token=/i.test(url), `no secret in ${url}`);
  }
  await nothingRan(session);
  await session.context.close();
});

test('a polluted Object.prototype (innerHTML, html, body, method, headers, avatar_url, replies…) neither runs script nor changes a request', async () => {
  const key = await seeded('pollution');
  const payload = '<img src=x onerror="window.__xss=(window.__xss||0)+1">';
  const now = new Date().toISOString();
  const pollute = {
    innerHTML: payload, outerHTML: payload, html: payload, body: 'x', method: 'DELETE', headers: { 'X-Polluted': '1' },
    avatar_url: `${EVIL}/avatar.png`, website: `${EVIL}/`, src: `${EVIL}/x.js`, href: `${EVIL}/`,
    onclick: 'window.__xss = 1', onerror: 'window.__xss = 1', kind: 'comment', act: 'like',
    replies: [{ id: 999999, status: 'approved', html: payload, author: 'Polluter', created_at: now }],
    key, comment: { id: 999998, status: 'pending', html: payload, created_at: now },
  };
  const session = await open(hostPage(key, {}), {
    init: `for (const [name, value] of Object.entries(${JSON.stringify(pollute)})) Object.prototype[name] = value;
      const realFetch = fetch;
      window.__likes = 0;
      window.fetch = (url, init) => { if (String(url).endsWith('/like')) window.__likes++; return realFetch(url, init); };`,
  });
  const { page } = session;
  await showsAndPosts(page);
  assert.equal(await kithEl(page, '#comment-999999, #comment-999998').count(), 0, 'no comment made of polluted fields');
  assert.equal(await kithEl(page, 'img').count(), 0, 'no image from the pollution');
  // A click on a comment's text is no Like (`act` is polluted too).
  await kithEl(page, 'li.kith-comment .kith-body').first().click();
  await kithEl(page, 'li.kith-comment .kith-author').first().click();
  assert.equal(await page.evaluate(() => window.__likes), 0, 'no Like sent');
  await kithEl(page, 'li.kith-comment .kith-like').first().click();
  assert.equal(await page.evaluate(() => window.__likes), 1, 'the Like button still likes');
  await nothingRan(session);
  await session.context.close();
});

test('a strict CSP: script-src with a nonce only, no inline styles, Trusted Types required (policy "kith")', async () => {
  const key = await seeded('csp');
  const session = await open(hostPage(key, {
    script: '<script nonce="n0nce" async src="{{KITH}}/embed.js"></script>',
    headers: {
      'Content-Security-Policy': `default-src 'none'; script-src 'nonce-n0nce'; style-src 'self'; connect-src ${kith.base}; img-src 'self'; `
        + "require-trusted-types-for 'script'; trusted-types kith",
    },
  }));
  const { page } = session;
  await showsAndPosts(page);
  // Styled (constructed stylesheets are no inline style), and the preview (server HTML) works too.
  const card = kithEl(page, 'li.kith-comment > article').first();
  assert.equal(await card.evaluate(element => getComputedStyle(element).position), 'relative', 'embed.css applies');
  await kithEl(page, 'textarea[name=body]').fill('Some *preview*');
  await kithEl(page, 'button:text-is("Preview")').click();
  await expectText(kithEl(page, '.kith-preview em'), 'preview');
  const violations = session.console.filter(message => /Content Security Policy|Trusted Type/i.test(message));
  assert.deepEqual(violations, [], 'no CSP or Trusted Types violation');
  await nothingRan(session);
  await session.context.close();
});

test('fake sign-in hand-offs posted by the page, by a frame of another origin or by a frame of the API\'s origin are ignored', async () => {
  const key = await seeded('messages');
  pages.set('/frame/', { html: '<!doctype html><title>frame</title>', headers: {} });
  const session = await open(hostPage(key, { after: `<iframe name="other" src="${frameOrigin}/frame/"></iframe><iframe name="api" src="${kith.base}/embed.css"></iframe>` }));
  const { page } = session;
  await kithEl(page, '.kith-signin button:text-is("Sign in")').click();
  await page.getByRole('group', { name: 'Sign in' }).waitFor();
  const forged = { kith: 'signed-in', token: 'forged-token', reader: { name: 'Mallory', provider: 'email' } };
  await page.evaluate(message => window.postMessage(message, '*'), forged);
  const frames = page.frames();
  const other = frames.find(frame => frame.url().startsWith(frameOrigin));
  const api = frames.find(frame => frame.url().startsWith(kith.base));
  assert.ok(other && api, 'both frames loaded');
  await other.evaluate(message => parent.postMessage(message, '*'), forged);
  await api.evaluate(message => parent.postMessage(message, '*'), forged);
  // A round trip through the page's own message queue: the forged ones were handled before it.
  await page.evaluate(() => new Promise(resolve => { addEventListener('message', resolve, { once: true }); postMessage('done', '*'); }));
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage).filter(name => name.startsWith('kith:session:'))), [], 'no session stored');
  assert.equal(await kithEl(page, '.kith-signin').textContent().then(text => text.includes('Mallory')), false, 'not signed in as Mallory');
  await nothingRan(session);
  await session.context.close();
});

test('aggressive host CSS (!important on *, button, div and the container), zoom and RTL: the thread shows and takes a comment', async () => {
  const key = await seeded('css');
  const css = `* { color: #f0f !important; font-family: monospace !important; line-height: 0.5 !important; letter-spacing: 4px !important;
  text-transform: uppercase !important; text-align: center !important; visibility: visible !important; pointer-events: auto !important; box-sizing: content-box !important; }
button, input, textarea, select { display: none !important; }
div { border: 3px dotted #0a0 !important; padding: 2rem !important; background: #fff !important; }
#kith-thread, [id^=kith], div:has(> #kith-thread) { outline: 5px solid red !important; white-space: pre !important; }
html { zoom: 1.25; }`;
  const session = await open(`${hostPage(key, { html: `<!doctype html><html lang="en" dir="rtl"><head><meta charset="utf-8"><title>RTL</title><style>${css}</style></head><body>
<div id="kith-thread" data-kith-key="{{KEY}}"></div><script async src="{{KITH}}/embed.js"></script></body></html>` })}`);
  const { page } = session;
  await showsAndPosts(page);
  assert.equal(await kithEl(page, 'button[type=submit]').isVisible(), true, 'the page\'s button rule does not reach the embed');
  // The interface keeps its own direction on a right-to-left page; the page's colour and spacing stay out.
  const frame = await kithEl(page, 'section.kith').evaluate(section => {
    const style = getComputedStyle(section);
    return { direction: style.direction, letterSpacing: style.letterSpacing, transform: style.textTransform };
  });
  assert.deepEqual(frame, { direction: 'ltr', letterSpacing: 'normal', transform: 'none' });
  await nothingRan(session);
  await session.context.close();
});

test('a container inside a display:none parent, shown later (and one in a closed <details>)', async () => {
  const key = await seeded('hidden');
  const session = await open(hostPage(key, {
    html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hidden</title></head><body>
<div id="outer" style="display:none"><div id="kith-thread" data-kith-key="{{KEY}}"></div></div>
<details><summary>More comments</summary><div id="kith-thread" data-kith-key="{{KEY}}"></div></details>
<script async src="{{KITH}}/embed.js"></script></body></html>`,
  }));
  const { page } = session;
  const built = () => page.locator('[id=kith-thread]').evaluateAll(all => all.every(c => !!c.shadowRoot?.querySelector('form.kith-form')));
  await until(built, 'both forms built while hidden');
  await page.evaluate(() => { document.getElementById('outer').style.display = 'block'; });
  await showsAndPosts(page, page.locator('[id=kith-thread]').first());
  await page.locator('summary').click();
  await expectText(page.locator('details [id=kith-thread] h2.kith-heading'), /^[12] comments?$/);
  assert.equal(await page.locator('details [id=kith-thread] li.kith-comment').first().isVisible(), true, 'shown once opened');
  await nothingRan(session);
  await session.context.close();
});

test('the container taken out before the script runs and put back elsewhere later, then replaced by a new one', async () => {
  const key = await seeded('moved');
  const session = await open(hostPage(key, {
    html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Moved</title></head><body>
<div id="kith-thread" data-kith-key="{{KEY}}"></div><section id="later"></section>
<script>const box = document.getElementById('kith-thread'); box.remove(); window.putBack = () => document.getElementById('later').append(box);</script>
<script async src="{{KITH}}/embed.js"></script></body></html>`,
  }));
  const { page } = session;
  await page.waitForLoadState('load');
  await page.evaluate(() => window.putBack());
  await showsAndPosts(page);
  // A single-page app swaps the container for a new one: that one gets the thread too.
  await page.evaluate(key => {
    const fresh = Object.assign(document.createElement('div'), { id: 'kith-thread' });
    fresh.dataset.kithKey = key;
    document.getElementById('kith-thread').replaceWith(fresh);
  }, key);
  await expectText(kithEl(page, 'h2.kith-heading'), '2 comments');
  await nothingRan(session);
  await session.context.close();
});

test('the container taken out while its thread loads and put back later', async () => {
  const key = await seeded('detached');
  const context = await browser.newContext();
  const page = await newPage(context);
  // The first page of the thread is held until the container is out of the page.
  let release;
  const held = new Promise(resolve => { release = resolve; });
  await page.route('**/thread?*', async route => { await held; await route.continue(); });
  await page.goto(hostPage(key, { after: '<section id="elsewhere"></section>' }));
  await until(() => page.evaluate(() => !!document.getElementById('kith-thread')?.shadowRoot), 'the thread mounting');
  await page.evaluate(() => { window.box = document.getElementById('kith-thread'); window.box.remove(); });
  release();
  await until(() => page.evaluate(() => !!window.box.shadowRoot.querySelector('li.kith-comment')), 'the comments built out of the page');
  await page.evaluate(() => document.getElementById('elsewhere').append(window.box));
  await showsAndPosts(page);
  assert.equal(await page.locator('[id=kith-thread]').count(), 1);
  await context.close();
});

test('the script included twice, and two containers: each container shows its thread once', async () => {
  const key = await seeded('twice');
  const other = await seeded('twice-other');
  const session = await open(hostPage(key, {
    after: `<div id="kith-thread" data-kith-key="${other}"></div><script async src="{{KITH}}/embed.js"></script>`,
  }));
  const { page } = session;
  const containers = page.locator('[id=kith-thread]');
  await until(async () => (await containers.evaluateAll(all => all.map(c => c.shadowRoot?.querySelectorAll('li.kith-comment').length ?? -1))).join() == '1,1', 'both threads shown');
  assert.deepEqual(await containers.evaluateAll(all => all.map(c => c.shadowRoot.querySelectorAll('section.kith').length)), [1, 1], 'each rendered once');
  await showsAndPosts(page, containers.first());
  await expectText(containers.last().locator('h2.kith-heading'), '1 comment');
  await nothingRan(session);
  await session.context.close();
});
