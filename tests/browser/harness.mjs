// Browser test harness: a real kith server (child process, fresh database), a host-page server on a
// different origin, and Debian's Chromium driven by playwright-core. No mocks.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'node:test';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const requireFromHere = createRequire(import.meta.url);
export const repoRoot = path.resolve(here, '..', '..');
export const sharedDir = path.resolve(repoRoot, '..', 'shared');

const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer();
  s.unref();
  s.on('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

/** The PostgreSQL database used to create and drop per-run databases (same variable as tests/run). */
const pgAdmin = process.env.TEST_POSTGRES_URL || 'postgres://root@127.0.0.1:5432/test';

let uniq = 0;
/** A thread key nobody else uses, so tests sharing one server never see each other's comments. */
export const freshKey = name => `/p/${name}-${process.pid}-${++uniq}-${Date.now().toString(36)}/`;

/**
 * Start the kith binary on a free port with a fresh database.
 * opts.db: 'sqlite' (default) or 'postgres'; opts.moderation: 'none' (default) | 'all' | 'first-time'.
 * opts.dbUrl: join that (PostgreSQL) database instead, as a second process of the same
 * installation (it is neither made nor dropped here).
 */
export async function startKith({ db = 'sqlite', moderation = 'none', env = {}, dbUrl: joined = null } = {}) {
  const src = process.env.KITH_BIN || '/var/tmp/kith-target/debug/kith';
  if (!fs.existsSync(src)) throw new Error(`kith binary not found at ${src} (set KITH_BIN)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kith-browser-'));
  // The binary is rebuilt often: run a private copy.
  const bin = path.join(dir, 'kith');
  fs.copyFileSync(src, bin);
  fs.chmodSync(bin, 0o755);
  let dbUrl, pgName;
  if (joined) {
    dbUrl = joined;
  } else if (db === 'postgres') {
    pgName = `kith_browser_${process.pid}_${Date.now()}`;
    execFileSync('psql', [pgAdmin, '-c', `CREATE DATABASE ${pgName}`], { stdio: 'pipe' });
    const u = new URL(pgAdmin);
    u.pathname = `/${pgName}`;
    dbUrl = u.href;
  } else {
    dbUrl = `sqlite://${path.join(dir, 'kith.db')}`;
  }
  const port = await freePort();
  let log = '', child, exited = null;
  const base = `http://127.0.0.1:${port}`;
  const launch = async () => {
    exited = null;
    child = spawn(bin, ['serve'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        KITH_SERVER__PORT: String(port),
        KITH_SERVER__HOST: '127.0.0.1',
        KITH_SERVER__ASSETS_DIR: path.join(repoRoot, 'embed'),
        KITH_DATABASE__URL: dbUrl,
        KITH_DEFAULT_SITE__MODERATION: moderation,
        KITH_LOG__LEVEL: 'warn',
        // Browser tests type faster than people and post many comments from one address: no
        // minimum form age, and rate limits far above what the tests send.
        KITH_DEFAULT_SITE__MIN_POST_SECS: '0',
        KITH_RATE_LIMITS__POST: '{per_minute=100000,burst=100000}',
        KITH_RATE_LIMITS__EDIT: '{per_minute=100000,burst=100000}',
        KITH_RATE_LIMITS__LIKE: '{per_minute=100000,burst=100000}',
        KITH_RATE_LIMITS__REPORT: '{per_minute=100000,burst=100000}',
        KITH_RATE_LIMITS__PREVIEW: '{per_minute=100000,burst=100000}',
        KITH_RATE_LIMITS__COUNTS: '{per_minute=100000,burst=100000}',
        KITH_RATE_LIMITS__MAIL: '{per_minute=100000,burst=100000}',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', d => { log += d; });
    child.stderr.on('data', d => { log += d; });
    child.on('exit', code => { exited = code ?? 'signal'; });
    // Start-up readiness: poll until the settings endpoint answers (or the child dies).
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (exited !== null) throw new Error(`kith exited with ${exited} during start-up:\n${log}`);
      try {
        const r = await fetch(`${base}/api/v1/sites/default/settings`);
        if (r.ok) break;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`kith did not become ready:\n${log}`); }
      await new Promise(r => setTimeout(r, 100));
    }
  };
  const halt = async () => {
    if (exited === null) {
      const gone = new Promise(r => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    }
  };
  await launch();
  return {
    base,
    api: `${base}/api/v1/sites/default`,
    dbUrl,
    log: () => log,
    /** Stop and start again on the same port and database (e.g. after changing site settings in the database). */
    async restart() { await halt(); await launch(); },
    async stop() {
      await halt();
      if (pgName) {
        try { execFileSync('psql', [pgAdmin, '-c', `DROP DATABASE IF EXISTS ${pgName}`], { stdio: 'pipe' }); } catch { /* best effort */ }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Host pages on a different origin (http://localhost:<port>), from tests/browser/fixtures/.
 * /p/<anything>/?theme=dark&lang=de&title=...  -> fixtures/post.html with the container attributes,
 *   plus &css=<page CSS>&doctitle=<title>&og=<og:title>&counts=/a/,/b/ (count links on the page)
 * /index/?keys=/a/,/b/&script=embed             -> fixtures/index.html with count links (count.js, or embed.js)
 */
export async function startHost(kithBase) {
  const fx = name => fs.readFileSync(path.join(here, 'fixtures', name), 'utf8');
  const attr = s => String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://localhost');
    let html;
    if (u.pathname.startsWith('/p/')) {
      const attrs = ['key', 'title', 'site', 'lang', 'theme']
        .filter(k => u.searchParams.has(k))
        .map(k => ` data-kith-${k}="${attr(u.searchParams.get(k))}"`).join('');
      // Extra host page parts: page CSS, <title>, og:title, count links beside the thread.
      const head = (u.searchParams.has('css') ? `<style>${u.searchParams.get('css')}</style>` : '')
        + (u.searchParams.has('og') ? `<meta property="og:title" content="${attr(u.searchParams.get('og'))}">` : '');
      const countLinks = (u.searchParams.get('counts') || '').split(',').filter(Boolean)
        .map(k => `<a href="${attr(k)}" data-kith-count="${attr(k)}">Comments</a>`).join('\n');
      html = fx('post.html').replaceAll('{{ATTRS}}', attrs).replace('{{HEAD}}', head).replace('{{COUNTS}}', countLinks)
        .replace('<title>A host blog post</title>', `<title>${attr(u.searchParams.get('doctitle') ?? 'A host blog post')}</title>`);
    } else if (u.pathname.startsWith('/index/')) {
      const keys = (u.searchParams.get('keys') || '').split(',').filter(Boolean);
      const site = u.searchParams.get('site');
      const links = keys.map(k => `<li><a href="${attr(k)}#comments" data-kith-count="${attr(k)}">Comments</a></li>`)
        .concat(site ? [`<li><span data-kith-count="/x/" data-kith-site="${attr(site)}">Comments</span></li>`] : []).join('\n');
      const lang = u.searchParams.get('lang');
      // ?script=embed loads embed.js (which also fills counts) instead of count.js.
      const script = u.searchParams.get('script') === 'embed' ? 'embed.js' : 'count.js';
      html = fx('index.html').replaceAll('{{LINKS}}', links).replaceAll('{{SCRIPT_ATTRS}}', lang ? ` data-kith-lang="${attr(lang)}"` : '')
        .replace('/count.js', `/${script}`);
    } else {
      res.writeHead(404); res.end('not found'); return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html.replaceAll('{{KITH}}', kithBase));
  });
  const port = await freePort();
  await new Promise(r => server.listen(port, '127.0.0.1', r));
  return { origin: `http://localhost:${port}`, stop: () => new Promise(r => { server.closeAllConnections(); server.close(r); }) };
}

export async function launchBrowser() {
  // chromium.launch() always starts with a fresh temporary user data dir of its own.
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** Everything one test file needs; call from before(), stop from after(). */
export async function setup(opts = {}) {
  const kith = await startKith(opts);
  let host, browser;
  try {
    host = await startHost(kith.base);
    browser = await launchBrowser();
  } catch (e) { await kith.stop(); throw e; }
  return {
    kith, host, browser,
    async stop() { await browser.close(); await host.stop(); await kith.stop(); },
  };
}

// Every page opened with newPage() during the running test; checked after the test.
let pagesOfThisTest = [];

/**
 * A new page whose uncaught errors (exceptions and unhandled rejections, in `page.errors`) fail
 * the test that opened it: a hook after every test of every file that imports the harness checks
 * them, whether or not the test closed the page, so no test can forget to.
 */
export async function newPage(ctxOrBrowser) {
  const page = await ctxOrBrowser.newPage();
  page.errors = [];
  page.on('pageerror', e => page.errors.push(e));
  pagesOfThisTest.push(page);
  return page;
}

afterEach(() => {
  const errors = pagesOfThisTest.flatMap(page => page.errors.map(e => `${page.url()}: ${e.stack || e.message || e}`));
  pagesOfThisTest = [];
  if (errors.length) throw new Error(`page errors during the test:\n${errors.join('\n')}`);
});

// ---- expect-style polling of locators (playwright-core has no expect) ----
const TIMEOUT = 10_000;
export async function until(fn, what, timeout = TIMEOUT) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise(r => setTimeout(r, 50));
  }
}
export async function expectText(locator, expected, timeout) {
  let seen;
  await until(async () => {
    seen = (await locator.textContent({ timeout: 1000 })) ?? '';
    return expected instanceof RegExp ? expected.test(seen) : seen.includes(expected);
  }, { toString: () => `text ${expected} (seen ${JSON.stringify(seen)})` }, timeout);
}
export async function expectValue(locator, expected) {
  let seen;
  await until(async () => (seen = await locator.inputValue({ timeout: 1000 })) === expected,
    { toString: () => `value ${expected} (seen ${JSON.stringify(seen)})` });
}
export const expectCount = (locator, n) => until(async () => (await locator.count()) === n, `${n} elements for ${locator}`);

// ---- API helpers (plain HTTP, as a second reader would) ----
export async function apiPost(kith, key, fields = {}) {
  const settings = await (await fetch(`${kith.api}/settings`)).json();
  const r = await fetch(`${kith.api}/comments`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      thread_key: key, thread_title: 'A post', thread_url: `http://localhost${key}`, parent_id: null,
      author: 'Api Author', email: 'api@example.com', website: null, body: 'Hello from the API',
      notify_replies: false, notify_thread: false, form_token: settings.form_token, hp: '', pow: null, ...fields,
    }),
  });
  const j = await r.json();
  if (r.status !== 201) throw new Error(`POST comment answered ${r.status}: ${JSON.stringify(j)}`);
  return j;
}

/** Locators inside the embed (Playwright CSS pierces the open shadow root). */
export const kithEl = (page, sel) => page.locator(`#kith-thread ${sel}`);
export const shadowActive = page => page.evaluate(() => {
  const a = document.querySelector('#kith-thread').shadowRoot.activeElement;
  return a ? { tag: a.tagName.toLowerCase(), name: a.getAttribute('name'), id: a.id, li: a.closest('li')?.id ?? null, text: (a.tagName == 'INPUT' && a.type == 'button' ? a.value : a.textContent).slice(0, 80) } : null;
});

/** Fill and submit the embed's form with the mouse-free API of Playwright. */
export async function postViaForm(page, { body, author = 'Ann Reader', email = 'ann@example.com', website = '' }) {
  await kithEl(page, 'textarea[name=body]').fill(body);
  await kithEl(page, 'input[name=author]').fill(author);
  await kithEl(page, 'input[name=email]').fill(email);
  if (website) await kithEl(page, 'input[name=website]').fill(website);
  await kithEl(page, 'button[type=submit]').click();
}

/** Runs axe-core in `page` (evaluated through the DevTools protocol, so the admin pages' strict
 * Content-Security-Policy, which refuses injected script tags, does not stop it). */
export async function runAxe(page, selector = null) {
  const source = fs.readFileSync(requireFromHere.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  return page.evaluate(sel => window.axe.run(sel ? document.querySelector(sel) : document), selector);
}
