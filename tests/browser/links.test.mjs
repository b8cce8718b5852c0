// Hostile links and cross-origin errors, as a person meets them in Chromium:
// - a WXR import full of `javascript:` author URLs, shown through thread.html included in a host
//   page and through the admin queue: every author link is clicked and no script runs;
// - error answers of the API are readable by a page on an allowed origin, and the 403 for a page
//   on another origin is readable too (so the embed can say what to change).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startKith, launchBrowser, newPage } from './harness.mjs';

const PASSWORD = 'a long browser password';
const HOSTILE = [
  'javascript:alert(document.domain)',
  'JaVaScRiPt:alert(1)',
  ' javascript:alert(2)',
  'java&#9;script:alert(3)',
  'data:text/html,&lt;script&gt;alert(4)&lt;/script&gt;',
  'javascript://example.org/%0Aalert(5)',
];

let kith, browser, hostServer, hostOrigin, foreignServer, foreignOrigin;

function wxr() {
  const comments = offset => HOSTILE.concat(['https://friend.example/']).map((url, i) => `
    <wp:comment><wp:comment_id>${offset + i + 1}</wp:comment_id>
      <wp:comment_author>Mallory ${i + 1}</wp:comment_author>
      <wp:comment_author_url>${url.replace(/&(?!lt;|gt;|#9;)/g, '&amp;')}</wp:comment_author_url>
      <wp:comment_date_gmt>2024-01-0${i + 1} 10:00:00</wp:comment_date_gmt>
      <wp:comment_content>Hello ${i + 1}</wp:comment_content>
      <wp:comment_approved>1</wp:comment_approved>
      <wp:comment_parent>0</wp:comment_parent></wp:comment>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel><link>https://blog.example</link>
<item><title>Hostile</title><link>javascript:alert('thread')</link><wp:post_id>7</wp:post_id>${comments(100)}</item>
<item><title>Hostile too</title><link>https://blog.example/hostile/</link><wp:post_id>8</wp:post_id>${comments(0)}</item>
</channel></rss>`;
}

function kithCli(args, input) {
  return execFileSync(process.env.KITH_BIN || '/var/tmp/kith-target/debug/kith', args, {
    env: { PATH: process.env.PATH, KITH_DATABASE__URL: kith.dbUrl, KITH_LOG__LEVEL: 'warn' },
    input,
    encoding: 'utf8',
  });
}

/** A static site's page that includes the no-JavaScript fragment in its own HTML. */
function serve(host) {
  const server = http.createServer(async (req, res) => {
    const fragment = await (await fetch(`${kith.api}/thread.html?key=/hostile/`)).text();
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><title>Post</title></head><body><main><h1>Post</h1>${fragment}</main></body></html>`);
  });
  return new Promise(resolve => server.listen(0, host, () => resolve(server)));
}

before(async () => {
  kith = await startKith({ db: 'sqlite' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kith-links-'));
  const file = path.join(dir, 'hostile.xml');
  fs.writeFileSync(file, wxr());
  kithCli(['import', file, '--site', 'default']);
  kithCli(['admin', 'create', 'owner'], `${PASSWORD}\n`);
  browser = await launchBrowser();
  hostServer = await serve('127.0.0.1');
  hostOrigin = `http://localhost:${hostServer.address().port}`;
  // 127.0.0.2 is not among the default site's allowed origins.
  foreignServer = await serve('127.0.0.2');
  foreignOrigin = `http://127.0.0.2:${foreignServer.address().port}`;
});

after(async () => {
  await browser?.close();
  hostServer?.close();
  foreignServer?.close();
  await kith?.stop();
});

/** Clicks every link matched by `selector` on `url`, each on a fresh load; no dialog may open and
 * no script may run. Returns the hrefs seen. */
async function clickEveryLink(context, url, selector) {
  // Links out (the one real website) land on a stand-in page instead of the closed network.
  await context.route(u => !u.href.startsWith(kith.base) && !u.href.startsWith(hostOrigin),
    route => route.fulfill({ status: 200, contentType: 'text/html', body: '<title>elsewhere</title>' }));
  const page = await newPage(context);
  const dialogs = [];
  page.on('dialog', d => { dialogs.push(d.message()); d.dismiss(); });
  await page.goto(url);
  const hrefs = await page.locator(selector).evaluateAll(links => links.map(a => a.getAttribute('href')));
  for (let i = 0; i < hrefs.length; i++) {
    await page.goto(url);
    await page.locator(selector).nth(i).click();
    await page.waitForLoadState();
    // A javascript: URL runs synchronously on click; a dialog or a changed flag would show it.
    assert.deepEqual(dialogs, [], `clicking ${hrefs[i]} opened a dialog`);
  }
  assert.deepEqual(page.errors, []);
  await page.close();
  return hrefs;
}

test('author links from a hostile import never run script in the page that includes thread.html', async () => {
  const context = await browser.newContext();
  const page = await newPage(context);
  await page.goto(hostOrigin + '/');
  const authors = await page.locator('.kith-comment header').allTextContents();
  assert.equal(authors.filter(a => a.includes('Mallory')).length, HOSTILE.length + 1, authors.join('|'));
  const protocols = await page.locator('.kith-comments a[href]').evaluateAll(links => links.map(a => a.protocol));
  assert.deepEqual(protocols, ['https:'], 'only the one real website is a link');
  // the only other link is kith's own: the thread's Atom feed
  const others = await page.locator('a[href]:not(.kith-comments a)').evaluateAll(links => links.map(a => a.href));
  assert.deepEqual(others, [`${kith.api}/thread.atom?key=%2Fhostile%2F`]);
  await page.close();
  const hrefs = await clickEveryLink(context, hostOrigin + '/', '.kith-comment header a, .kith-comment header strong');
  assert.ok(hrefs.length >= HOSTILE.length, 'every author was clicked');
  await context.close();
});

test('author and page links in the admin queue never run script', async () => {
  const context = await browser.newContext();
  const page = await newPage(context);
  await page.goto(`${kith.base}/admin/login`);
  await page.getByLabel('Name').fill('owner');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: /log in/i }).click();
  await page.waitForURL(`${kith.base}/admin`);
  const queue = `${kith.base}/admin/comments?status=approved`;
  await page.goto(queue);
  const protocols = await page.locator('ol.queue a[href]').evaluateAll(links => links.map(a => a.protocol));
  assert.ok(protocols.length > 0);
  for (const p of protocols) assert.ok(['http:', 'https:'].includes(p), `a ${p} link in the queue`);
  const csp = (await (await fetch(queue)).headers.get('content-security-policy')) || '';
  assert.match(csp, /script-src 'self'/);
  await page.close();
  await clickEveryLink(context, queue, 'ol.queue h2 a, ol.queue dd a');
  await context.close();
});

test('API errors are readable by a page on an allowed origin; a refused origin can read why', async () => {
  const page = await newPage(browser);
  await page.goto(hostOrigin + '/');
  const allowed = await page.evaluate(async api => {
    const r = await fetch(`${api}/comments/999999/like`, { method: 'POST' });
    return { status: r.status, body: await r.json() };
  }, kith.api);
  assert.deepEqual(allowed, { status: 404, body: allowed.body });
  assert.equal(allowed.body.error, 'comment_not_found');

  await page.goto(foreignOrigin + '/');
  const refused = await page.evaluate(async api => {
    const r = await fetch(`${api}/settings`);
    return { status: r.status, body: await r.json() };
  }, kith.api);
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error, 'origin_not_allowed');
  assert.ok(refused.body.message.includes('127.0.0.2'), refused.body.message);
  // A write from the refused origin does not go through (its preflight gets no CORS headers).
  const write = await page.evaluate(async api => {
    try {
      await fetch(`${api}/comments`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      return 'sent';
    } catch { return 'blocked'; }
  }, kith.api);
  assert.equal(write, 'blocked');
  assert.deepEqual(page.errors, []);
  await page.close();
});
