// Reactions and avatars in real Chromium: picking a reaction, its count and pressed state after a
// reload, the keyboard, axe; and avatars: no request to anyone but the host page and kith while
// the site draws identicons, Libravatar pictures (routed to a stand-in, never the internet) when
// it opts in, with the identicon as the fallback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { setup, newPage, freshKey, kithEl, expectCount, expectValue, until, apiPost, shadowActive, runAxe } from './harness.mjs';

let env;
before(async () => { env = await setup({ db: 'sqlite', moderation: 'none' }); });
after(async () => { await env?.stop(); });

const open = async (key, page) => {
  page ||= await newPage(env.browser);
  await page.goto(`${env.host.origin}${key}`);
  await kithEl(page, 'h2').waitFor();
  return page;
};

const thread = async key => (await fetch(`${env.kith.api}/thread?key=${encodeURIComponent(key)}`)).json();
const pressed = locator => locator.getAttribute('aria-pressed');
const button = (page, id, name) => kithEl(page, `#comment-${id} > article`).getByRole('button', { name, exact: true });

/** `kith site set default …` against the test server's database, then a restart to see it. */
async function siteSet(...args) {
  execFileSync(process.env.KITH_BIN || '/var/tmp/kith-target/debug/kith', ['site', 'set', 'default', ...args], {
    env: { PATH: process.env.PATH, KITH_DATABASE__URL: env.kith.dbUrl, KITH_LOG__LEVEL: 'warn' }, stdio: 'pipe',
  });
  await env.kith.restart();
}

test('a reader picks a reaction, the count updates, and it stays after a reload', async () => {
  const key = freshKey('react');
  const { comment } = await apiPost(env.kith, key, { author: 'Ann', body: 'react to me' });
  const page = await open(key);
  const more = button(page, comment.id, 'Add a reaction');
  assert.equal(await more.getAttribute('aria-expanded'), 'false');
  assert.equal(await kithEl(page, `#comment-${comment.id} input.kith-reaction`).count(), 0, 'nothing given: no reaction shown');

  await more.click();
  assert.equal(await more.getAttribute('aria-expanded'), 'true');
  for (const name of ['Thumbs up 0', 'Heart 0', 'Laugh 0', 'Hooray 0', 'Confused 0', 'Eyes 0']) {
    assert.equal(await pressed(button(page, comment.id, name)), 'false', name);
  }
  await button(page, comment.id, 'Hooray 0').click();
  const hooray = button(page, comment.id, 'Hooray 1');
  await until(async () => (await pressed(hooray)) === 'true', 'hooray pressed');
  await expectValue(hooray, '🎉 1');
  assert.deepEqual((await thread(key)).comments[0].reactions, { hooray: 1 }, 'stored on the server');
  // The same reader (this address) giving it again through the API counts once.
  await fetch(`${env.kith.api}/comments/${comment.id}/reactions/hooray`, { method: 'POST' });
  assert.deepEqual((await thread(key)).comments[0].reactions, { hooray: 1 });

  await page.reload();
  await kithEl(page, 'h2').waitFor();
  const after = button(page, comment.id, 'Hooray 1');
  await after.waitFor();
  assert.equal(await pressed(after), 'true', 'this browser remembers what it gave');
  assert.equal(await kithEl(page, `#comment-${comment.id} input.kith-reaction:visible`).count(), 1, 'picker closed: only the given one');
  await after.click();
  await until(async () => (await kithEl(page, `#comment-${comment.id} input.kith-reaction:visible`).count()) === 0, 'taken back: gone');
  assert.deepEqual(await shadowActive(page).then(a => a?.text), '☺+', 'focus went to the picker button');
  assert.equal((await thread(key)).comments[0].reactions, undefined);
  await page.reload();
  await kithEl(page, 'h2').waitFor();
  await button(page, comment.id, 'Add a reaction').waitFor();
  assert.equal(await kithEl(page, `#comment-${comment.id} input.kith-reaction`).count(), 0);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the picker works from the keyboard and is axe clean', async () => {
  const key = freshKey('react-keys');
  const { comment } = await apiPost(env.kith, key, { author: 'Kay', body: 'keyboard' });
  const page = await open(key);
  await kithEl(page, `#comment-${comment.id} input.kith-like`).focus();
  await page.keyboard.press('Tab');
  assert.equal((await shadowActive(page)).text, '☺+', 'Tab from Like reaches the picker button');
  await page.keyboard.press('Enter');
  await until(async () => (await shadowActive(page))?.text === '👍', 'the picker opened with the focus on its first reaction');
  await page.keyboard.press('Tab');
  assert.equal((await shadowActive(page)).text, '❤️');
  await page.keyboard.press('Space');
  const heart = button(page, comment.id, 'Heart 1');
  await until(async () => (await pressed(heart)) === 'true', 'heart given with Space');
  assert.equal((await shadowActive(page)).text, '❤️ 1', 'the focus stays on the pressed reaction');

  const violations = (await runAxe(page, '#kith-thread')).violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(violations, [], 'axe with the picker open');

  await page.keyboard.press('Escape');
  await until(async () => (await shadowActive(page))?.text === '☺+', 'Escape closed the picker, focus back on its button');
  assert.equal(await button(page, comment.id, 'Add a reaction').getAttribute('aria-expanded'), 'false');
  await expectCount(kithEl(page, `#comment-${comment.id} input.kith-reaction:visible`), 1);
  assert.deepEqual((await thread(key)).comments[0].reactions, { heart: 1 });
  await page.close();
});

test('with identicons (the default) the page asks nobody but the host and kith', async () => {
  const key = freshKey('private');
  await apiPost(env.kith, key, { author: 'Ann', email: 'ann@example.com', body: 'one' });
  await apiPost(env.kith, key, { author: 'Bob', email: 'bob@example.com', body: 'two' });
  const page = await newPage(env.browser);
  const hosts = new Set();
  page.on('request', r => hosts.add(new URL(r.url()).origin));
  await open(key, page);
  await expectCount(kithEl(page, 'li.kith-comment'), 2);
  // Every avatar drawn (they draw once in view), the form loaded: everything the page does.
  await until(() => page.evaluate(() => [...document.querySelector('#kith-thread').shadowRoot.querySelectorAll('.kith-avatar')]
    .every(a => a.localName == 'span' && a.style.backgroundImage.includes('gradient'))), 'identicons drawn');
  await kithEl(page, 'textarea[name=body]').waitFor();
  assert.deepEqual([...hosts].filter(h => h != env.host.origin && h != env.kith.base), [], `requests went to ${[...hosts]}`);
  assert.equal(await kithEl(page, 'img').count(), 0);
  await page.close();
});

test('with Libravatar on, pictures come from a hash of the address, lazily, without referrer, else the identicon', async () => {
  await siteSet('--avatars', 'libravatar');
  const key = freshKey('libravatar');
  const ann = (await apiPost(env.kith, key, { author: 'Ann', email: 'Ann@Example.com', body: 'has a picture' })).comment;
  const bob = (await apiPost(env.kith, key, { author: 'Bob', email: 'bob@example.com', body: 'has none' })).comment;
  const hash = address => crypto.createHash('sha256').update(address).digest('hex');
  const page = await newPage(env.browser);
  // The avatar host, played by the test: Ann has a picture, Bob gets Libravatar's 404 (d=404).
  const asked = [];
  await page.route('https://seccdn.libravatar.org/**', route => {
    const request = route.request();
    asked.push({ url: request.url(), referer: request.headers().referer });
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');
    return request.url().includes(hash('ann@example.com'))
      ? route.fulfill({ status: 200, contentType: 'image/png', body: png })
      : route.fulfill({ status: 404, body: '' });
  });
  const hosts = new Set();
  page.on('request', r => hosts.add(new URL(r.url()).origin));
  await open(key, page);
  await expectCount(kithEl(page, 'li.kith-comment'), 2);

  const image = kithEl(page, `#comment-${ann.id} img.kith-avatar`);
  await image.waitFor();
  assert.equal(await image.getAttribute('alt'), '');
  assert.equal(await image.getAttribute('loading'), 'lazy');
  assert.equal(await image.getAttribute('referrerpolicy'), 'no-referrer');
  await until(() => image.evaluate(img => img.complete && img.naturalWidth == 1), 'the picture loaded');
  // Bob's picture failed: his identicon stands in.
  await until(async () => (await kithEl(page, `#comment-${bob.id} span.kith-avatar`).count()) == 1, 'identicon fallback');
  assert.equal(await kithEl(page, `#comment-${bob.id} img`).count(), 0);

  const urls = asked.map(a => a.url).sort();
  assert.deepEqual(urls, [
    `https://seccdn.libravatar.org/avatar/${hash('ann@example.com')}?s=80&d=404`,
    `https://seccdn.libravatar.org/avatar/${hash('bob@example.com')}?s=80&d=404`,
  ].sort());
  assert.ok(asked.every(a => a.referer === undefined), `no referrer: ${JSON.stringify(asked)}`);
  assert.deepEqual([...hosts].filter(h => ![env.host.origin, env.kith.base, 'https://seccdn.libravatar.org'].includes(h)), []);
  // The page never carries the addresses, only their hashes.
  const html = await page.evaluate(() => document.querySelector('#kith-thread').shadowRoot.innerHTML);
  assert.ok(!/example\.com/i.test(html), 'no address in the page');
  await page.close();
  await siteSet('--avatars', 'identicon');
});
