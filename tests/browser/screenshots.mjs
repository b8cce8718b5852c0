// Takes docs/screenshots/demo-{light,dark}.png of the demo page (/) with a few comments.
// Run: node tests/browser/screenshots.mjs   (same env as the tests: KITH_BIN)
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startKith, launchBrowser, apiPost, repoRoot } from './harness.mjs';

const kith = await startKith({ db: 'sqlite' });
// Serve the checked-in demo page (src/http/demo/index.html) as the server would at `/`, so the
// screenshots follow the file even before the binary that compiles it in is rebuilt.
const demo = fs.readFileSync(path.join(repoRoot, 'src', 'http', 'demo', 'index.html'), 'utf8')
  .replace('src="/embed.js"', `src="${kith.base}/embed.js"`);
const host = http.createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }); res.end(demo); });
await new Promise(r => host.listen(0, '127.0.0.1', r));
const origin = `http://localhost:${host.address().port}`;
const browser = await launchBrowser();
try {
  const key = '/';
  const post = f => apiPost(kith, key, { thread_title: 'The Room Where Someone Says “Me Too”', thread_url: `${kith.base}/`, ...f });
  const a = (await post({ author: 'Maya', email: 'maya@example.com', website: 'https://maya.example/',
    body: 'The part about the long pause after someone cries got me. Our group does the same, and nobody ever explained it. It is *exactly* what makes the room feel safe.' })).comment;
  await post({ author: 'Jonas', email: 'jonas@example.com', parent_id: a.id,
    body: 'Same here. The first time someone waited for me like that, I kept talking for twenty minutes.' });
  await post({ author: 'Priya', email: 'priya@example.com',
    body: '“Helping turns out to be part of healing.” I went from newcomer to co-facilitator in two years and I still think I got more out of it than anyone.' });
  for (const c of [a.id, a.id]) await fetch(`${kith.api}/comments/${c}/like`, { method: 'POST' });
  for (const scheme of ['light', 'dark']) {
    // Tall enough for the whole thread to be on screen: comments off screen are not painted
    // (content-visibility: auto), not even into a full-page screenshot.
    const ctx = await browser.newContext({ colorScheme: scheme, viewport: { width: 960, height: 3000 }, deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    await page.goto(`${origin}/`);
    await page.locator('#kith-thread li.kith-comment li.kith-comment').waitFor();
    // The styles come with the script; the avatars are drawn once they are near the screen, so
    // scroll past every comment first.
    for (const item of await page.locator('#kith-thread li.kith-comment').all()) await item.scrollIntoViewIfNeeded();
    await page.waitForFunction(() => [...document.querySelector('#kith-thread').shadowRoot.querySelectorAll('.kith-avatar')]
      .every(avatar => avatar.style.backgroundImage));
    await page.evaluate(() => scrollTo(0, 0));
    await page.evaluate(() => document.fonts.ready);
    const box = await page.locator('#comments').boundingBox();
    const top = Math.max(0, box.y - 260);
    await page.screenshot({ path: path.join(repoRoot, 'docs', 'screenshots', `demo-${scheme}.png`), fullPage: true,
      clip: { x: 0, y: top, width: 960, height: Math.min(1500, box.y + box.height - top + 40) } });
    await ctx.close();
  }
} finally {
  await browser.close();
  host.close();
  await kith.stop();
}
