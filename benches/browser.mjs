#!/usr/bin/env node
// What the reader feels: kith's embed and Isso's, side by side in headless Chromium.
//
// Seeds the same comments into both (posted to Isso through its HTTP API, then Isso's database
// imported into kith with `kith import`), serves a host page from another origin, and opens each
// embed on a 100-comment and a 2,000-comment thread, RUNS times each in a fresh browser context
// (cold cache). Prints, per thread, the median of every measure and the ratio kith / Isso.
//
//   cargo build --release --bin kith   # or a debug build: the server's part is a few ms either way
//   node benches/browser.mjs           # uses tests/browser/node_modules (playwright-core)
//
// Environment: KITH_BIN (default $CARGO_TARGET_DIR/release/kith, else .../debug/kith),
// KITH_ASSETS (default embed/ of this checkout: the bundle in the working tree is measured),
// BENCH_RUNS (default 7), BENCH_THREADS (default 100,2000), CHROMIUM_PATH (default /usr/bin/chromium),
// BENCH_SEED_DIR (default /var/tmp/kith-bench-browser: the seeded Isso database is kept there),
// KITH_ASSETS_B=dir (a second kith server, the same binary serving the embed files in dir, measured
// as system `kith-b` alternately with the others, for comparing two versions of the embed in one
// run: add `kith-b` to BENCH_SYSTEMS), BENCH_RESEED=1 (seed again), BENCH_TRACE=dir (a detailed Chromium trace of every load, kept in
// dir; the tracing slows the page), BENCH_SYSTEMS (default isso,kith; `kith` alone when Isso's
// 2,000-comment page times out on a busy machine: no ratios then), ISSO_VENV (see
// benches/isso/setup.sh). The first run takes a few minutes, most of them seeding Isso.
// A benchmark, not a test: nothing here asserts a timing.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { seedIsso } from './isso/seed.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const { chromium } = createRequire(path.join(repo, 'tests/browser/package.json'))('playwright-core');

const RUNS = Number(process.env.BENCH_RUNS || 7);
const THREADS = (process.env.BENCH_THREADS || '100,2000').split(',').map(Number);
const SYSTEMS = (process.env.BENCH_SYSTEMS || 'isso,kith').split(',');
const targetDir = process.env.CARGO_TARGET_DIR || path.join(repo, 'target');
const KITH_BIN = process.env.KITH_BIN
  || [path.join(targetDir, 'release/kith'), path.join(targetDir, 'debug/kith')].find(f => fs.existsSync(f));
// Where the seeded Isso database is kept between runs; bump SEED_VERSION when seedIsso changes.
const SEED_DIR = process.env.BENCH_SEED_DIR || '/var/tmp/kith-bench-browser';
const SEED_VERSION = 1;
const KITH_ASSETS = process.env.KITH_ASSETS || path.join(repo, 'embed');
const KITH_ASSETS_B = process.env.KITH_ASSETS_B;
const TRACE_DIR = process.env.BENCH_TRACE;
if (TRACE_DIR) fs.mkdirSync(TRACE_DIR, { recursive: true });
const TRACE_CATEGORIES = ['toplevel', 'blink.user_timing', 'devtools.timeline', 'disabled-by-default-devtools.timeline',
  'disabled-by-default-devtools.timeline.frame', 'v8', 'v8.execute', 'disabled-by-default-v8.compile', 'loading',
  'netlog', 'blink', 'blink.resource', 'rail', 'benchmark', 'scheduler'].join(',');
if (!KITH_BIN || !fs.existsSync(KITH_BIN)) {
  console.error('kith binary not found: cargo build --release --bin kith, or set KITH_BIN');
  process.exit(1);
}

const freePort = () => new Promise((resolve, reject) => {
  const server = net.createServer();
  server.on('error', reject);
  server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)); });
});

/** Polls `check` until it is truthy (start-up readiness of a child server). */
async function until(check, what, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try { if (await check()) return; } catch { /* not ready yet */ }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 100));
  }
}

/** Starts a child process; resolves once `ready()` holds. `stop()` ends it and waits. */
async function startChild(name, command, args, env, ready) {
  let log = '', exited = null;
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', d => { log += d; });
  child.stderr.on('data', d => { log += d; });
  child.on('exit', code => { exited = code ?? 'signal'; });
  await until(async () => {
    if (exited !== null) throw new Error(`${name} exited (${exited}):\n${log}`);
    return ready();
  }, name).catch(error => { child.kill('SIGKILL'); throw new Error(`${error.message}\n${log}`); });
  return {
    log: () => log,
    kill: () => { if (exited === null) child.kill('SIGKILL'); },
    stop: async () => {
      if (exited !== null) return;
      const gone = new Promise(resolve => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

// ---- the host page, on its own origin ----

function hostPage(system, kithBase, issoBase) {
  const embed = system.startsWith('kith')
    ? `<div id="kith-thread"></div>\n<script async src="${kithBase}/embed.js"></script>`
    : `<section id="isso-thread"></section>\n<script data-isso="${issoBase}/" src="${issoBase}/js/embed.min.js"></script>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>A host blog post</title>
<style>body{font:17px/1.6 Georgia,serif;max-width:42rem;margin:2rem auto;padding:0 1rem}</style></head>
<body><article><h1>A host blog post</h1>
<p>${'Some text of the post, long enough to look like a real one. '.repeat(12)}</p></article>
${embed}
</body></html>`;
}

// ---- one measured page load ----

/**
 * Installed before any page script: notes the frame in which the first comment is laid out
 * (requestAnimationFrame runs just before that frame is painted) and reports it through the
 * `__benchFirstComment` binding, and the time of the last DOM change anywhere, shadow roots
 * included.
 */
function watchPage(system) {
  const bench = window.__bench = { firstComment: null, lastMutation: 0 };
  const observer = new MutationObserver(() => { bench.lastMutation = performance.now(); });
  observer.observe(document, { childList: true, subtree: true, attributes: true, characterData: true });
  const attachShadow = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attachShadow.call(this, init);
    observer.observe(root, { childList: true, subtree: true, attributes: true, characterData: true });
    return root;
  };
  const findFirst = () => (system.startsWith('kith')
    ? document.getElementById('kith-thread')?.shadowRoot?.querySelector('.kith-comment .kith-body')
    : document.querySelector('#isso-root .isso-comment .isso-text'));
  const frame = () => {
    const first = findFirst();
    if (first && first.getBoundingClientRect().height > 0) {
      bench.firstComment = performance.now();
      window.__benchFirstComment();
    } else requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

/** Counts nodes (elements and text) in the document and in every shadow root under it. */
function countNodes() {
  let count = 0;
  const walk = node => {
    count++;
    if (node.shadowRoot) walk(node.shadowRoot);
    for (let child = node.firstChild; child; child = child.nextSibling) walk(child);
  };
  walk(document.documentElement);
  const comments = document.getElementById('kith-thread')?.shadowRoot?.querySelectorAll('.kith-comment').length
    ?? document.querySelectorAll('#isso-root .isso-comment').length;
  return { nodes: count, comments };
}

/**
 * Round trips: a request is one more than the deepest request that had finished when it started
 * (the page itself is the first). Counted for the requests that finished before the first comment,
 * from the script's depth.
 */
function roundTrips(entries, scriptUrl, before) {
  const done = entries.filter(entry => entry.end <= before).sort((a, b) => a.start - b.start);
  for (const entry of done) {
    entry.depth = 1 + Math.max(0, ...done.filter(other => other !== entry && other.end <= entry.start).map(other => other.depth || 0));
  }
  const script = done.find(entry => entry.url.startsWith(scriptUrl));
  return script ? Math.max(...done.map(entry => entry.depth)) - script.depth : NaN;
}

async function measure(browser, url, system, scriptUrl) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  await cdp.send('Network.enable');
  // A trace of the page's tasks with their CPU time, to tell the build's own cost from time spent
  // waiting for a CPU on a loaded machine.
  const trace = [];
  cdp.on('Tracing.dataCollected', ({ value }) => trace.push(...value));
  // BENCH_TRACE=dir: a detailed trace of each load instead (the main thread's tasks, V8's compiling
  // and running, the network, frames), written to dir as one JSON file per load for Chromium's
  // performance panel or Perfetto. It costs the page time of its own: compare traced loads only
  // with traced loads.
  await cdp.send('Tracing.start', {
    categories: TRACE_DIR ? TRACE_CATEGORIES : 'toplevel,blink.user_timing',
    transferMode: 'ReportEvents',
  });
  let bytes = 0;
  cdp.on('Network.loadingFinished', event => { bytes += event.encodedDataLength; });
  // The page says when its first comment is visible (a binding: no script of the bench's runs in
  // the page meanwhile, which polling with page.waitForFunction would do, on the page's main
  // thread, in the middle of what is measured).
  let seen;
  const firstSeen = new Promise(resolve => { seen = resolve; });
  await page.exposeBinding('__benchFirstComment', () => seen(true));
  await page.addInitScript(watchPage, system);
  await page.goto(url, { waitUntil: 'load' });
  let timer;
  const found = await Promise.race([firstSeen, new Promise(resolve => { timer = setTimeout(resolve, 60_000, false); })]);
  clearTimeout(timer);
  if (!found) {
    const state = await page.evaluate(() => document.body.innerHTML.slice(0, 3000)).catch(() => '');
    throw new Error(`${system}: no comment on ${url} within 60 s\n${state}`);
  }
  // Settled: no DOM change for a second (the embed may still fill avatars, times, counts).
  await page.waitForFunction(() => performance.now() - window.__bench.lastMutation > 1000, null, { timeout: 60_000, polling: 100 });
  const bench = await page.evaluate(() => window.__bench);
  // The embed's own measures of building its first page (kith only; Isso has none): the first
  // screenful (`kith-render`), then the rest of the page a frame later (`kith-render-rest`).
  const render = await page.evaluate(() => performance.getEntriesByType('measure')
    .filter(entry => entry.name.startsWith('kith-render')).map(entry => entry.toJSON()));
  const traced = new Promise(resolve => cdp.once('Tracing.tracingComplete', resolve));
  await cdp.send('Tracing.end');
  await traced;
  if (TRACE_DIR) {
    const file = path.join(TRACE_DIR, `${system}-${new URL(url).pathname.replace(/\W+/g, '')}-${Date.now()}.json`);
    fs.writeFileSync(file, JSON.stringify({ traceEvents: trace }));
    if (process.env.BENCH_VERBOSE) console.error(`  trace: ${file}`);
  }
  const requests = await page.evaluate(() => [
    ...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource'),
  ].map(entry => ({ url: entry.name, start: entry.startTime, end: entry.responseEnd })));
  await cdp.send('HeapProfiler.collectGarbage');
  const metrics = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map(m => [m.name, m.value]));
  const { nodes, comments } = await page.evaluate(countNodes);
  await context.close();
  // The page itself and the requests to the comment server (not the host's favicon).
  const server = new URL(scriptUrl).origin;
  const relevant = requests.filter((entry, i) => i == 0 || entry.url.startsWith(server + '/'));
  const beforeFirst = relevant.filter(entry => entry.url.startsWith(server + '/') && entry.end <= bench.firstComment);
  if (process.env.BENCH_VERBOSE) {
    console.error(`${system} ${url}: first comment at ${bench.firstComment.toFixed(0)} ms`);
    for (const entry of requests) console.error(`  ${entry.start.toFixed(0).padStart(6)} → ${entry.end.toFixed(0).padStart(6)} ms  ${entry.url}`);
    for (const part of render) console.error(`  ${part.startTime.toFixed(0).padStart(6)} → ${(part.startTime + part.duration).toFixed(0).padStart(6)} ms  ${part.name == 'kith-render' ? 'building the first screenful' : 'building the rest of the first page'}`);
  }
  return {
    firstComment: bench.firstComment,
    settled: Math.max(bench.lastMutation, bench.firstComment),
    script: metrics.ScriptDuration * 1000,
    render: render.length ? render.reduce((sum, part) => sum + part.duration, 0) : NaN,
    renderCpu: buildTaskCpu(trace, 'kith-render') + (buildTaskCpu(trace, 'kith-render-rest') || 0),
    firstRenderCpu: buildTaskCpu(trace, 'kith-render'),
    layout: (metrics.LayoutDuration + metrics.RecalcStyleDuration) * 1000,
    nodes,
    comments,
    heap: metrics.JSHeapUsedSize / 2 ** 20,
    kb: bytes / 1024,
    requests: beforeFirst.length,
    roundTrips: roundTrips(relevant, scriptUrl, bench.firstComment),
  };
}

/**
 * The CPU time (thread time, not wall-clock) of the renderer task in which the embed made the
 * measure `name`: the top-level task around it. For `kith-render` (the first screenful) it holds
 * the build and the little the embed does just before it (setting up the view from the answers)
 * and after it; for `kith-render-rest`, the rest of the first page and what the task does after
 * it (starting to load the posting UI). NaN without the measure (Isso).
 */
function buildTaskCpu(trace, name) {
  const begin = trace.find(event => event.name == name && event.ph == 'b');
  const end = trace.find(event => event.name == name && event.ph == 'e');
  if (!begin || !end) return NaN;
  const task = trace.find(event => event.ph == 'X' && event.cat == 'toplevel' && event.tid == begin.tid
    && event.ts <= begin.ts && event.ts + event.dur >= end.ts && event.tdur !== undefined);
  return task ? task.tdur / 1000 : NaN;
}

const median = values => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const MEASURES = [
  ['firstComment', 'time to first comment visible (ms)', 0],
  ['settled', 'time until the page settles (ms)', 0],
  ['script', 'main-thread script time (ms)', 1],
  ['render', 'script building the first page of comments (ms, the embed\'s `kith-render` and `kith-render-rest` measures)', 1],
  ['renderCpu', 'CPU time of the tasks that build the first page (ms, from a Chromium trace)', 1],
  ['firstRenderCpu', 'of which the task that shows the first screenful (ms)', 1],
  ['layout', 'style and layout time (ms)', 1],
  ['comments', 'comments on the page', 0],
  ['nodes', 'DOM nodes (shadow roots included)', 0],
  ['heap', 'JS heap after GC (MiB)', 1],
  ['kb', 'bytes transferred (KiB)', 1],
  ['requests', 'requests to the comment server before the first comment (script included)', 0],
  ['roundTrips', 'round trips after the script before the first comment', 0],
];

function printTable(count, results) {
  const b = SYSTEMS.includes('kith-b');
  const rows = MEASURES.map(([key, label, digits]) => {
    const isso = median(results.isso.map(r => r[key])), kith = median(results.kith.map(r => r[key]));
    // NaN: a measure one system does not have.
    const ratio = isso && !Number.isNaN(isso) ? (kith / isso).toFixed(2) + 'x' : '';
    const cell = value => (Number.isNaN(value) ? '–' : value.toFixed(digits));
    if (!b) return [label, cell(isso), cell(kith), ratio];
    const other = median(results['kith-b'].map(r => r[key]));
    return [label, cell(isso), cell(kith), ratio, cell(other), isso && !Number.isNaN(isso) ? (other / isso).toFixed(2) + 'x' : ''];
  });
  const range = (system, key = 'firstComment', digits = 0) => {
    const times = results[system].map(r => r[key]);
    if (!times.length) return '–';
    return `${Math.min(...times).toFixed(digits)}-${Math.max(...times).toFixed(digits)}`;
  };
  console.log(`\n### ${count} comments (median of ${RUNS} runs; first comment ranged Isso ${range('isso')} ms, kith ${range('kith')} ms;`
    + `${b ? ` kith-b ${range('kith-b')} ms;` : ''} kith's first page built in ${range('kith', 'render', 1)} ms)\n`);
  console.log(b ? `| measure | Isso 0.14 | kith | kith / Isso | kith-b (${KITH_ASSETS_B}) | kith-b / Isso |\n|---|--:|--:|--:|--:|--:|`
    : '| measure | Isso 0.14 | kith | kith / Isso |\n|---|--:|--:|--:|');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

// ---- main ----

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kith-bench-browser-'));
const children = [];
let browser;
// An error thrown outside the flow below (in a server's handler, a child's stream) or Ctrl-C would
// end node without running its `finally`: Isso and kith are killed then too, never left running.
const killAll = code => {
  for (const child of children) child.kill?.();
  fs.rmSync(work, { recursive: true, force: true });
  process.exit(code);
};
process.on('uncaughtException', error => { console.error(error); killAll(1); });
process.on('SIGINT', () => killAll(130));
process.on('SIGTERM', () => killAll(143));
try {
  const [hostPort, issoPort, kithPort, kithPortB] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const host = `http://localhost:${hostPort}`, issoBase = `http://127.0.0.1:${issoPort}`, kithBase = `http://127.0.0.1:${kithPort}`;
  const kithBaseB = `http://127.0.0.1:${kithPortB}`;
  const issoDb = path.join(work, 'isso.db');
  const startIsso = () => startChild('isso', 'bash', [path.join(here, 'isso/setup.sh'), 'start', issoDb, String(issoPort)],
    { ISSO_ORIGIN: host }, async () => (await fetch(`${issoBase}/config`)).ok);

  execFileSync('bash', [path.join(here, 'isso/setup.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  // Seeding takes a while: the seeded database is kept for the next run (BENCH_RESEED=1 redoes it).
  const seeded = path.join(SEED_DIR, `isso-seed-${SEED_VERSION}-${THREADS.join('-')}.db`);
  if (process.env.BENCH_RESEED || !fs.existsSync(seeded)) {
    const isso = await startIsso();
    children.push(isso);
    for (const count of THREADS) {
      const started = Date.now();
      await seedIsso(issoBase, `/bench-${count}/`, count);
      console.error(`seeded Isso with ${count} comments in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    // Stopped, Isso's database is complete in one file.
    await isso.stop();
    fs.mkdirSync(SEED_DIR, { recursive: true });
    fs.copyFileSync(issoDb, seeded);
  } else {
    fs.copyFileSync(seeded, issoDb);
  }
  const kithEnv = {
    KITH_DATABASE__URL: `sqlite://${path.join(work, 'kith.db')}`,
    KITH_SERVER__HOST: '127.0.0.1',
    KITH_SERVER__PORT: String(kithPort),
    KITH_SERVER__ASSETS_DIR: KITH_ASSETS,
    KITH_LOG__LEVEL: 'warn',
    HOME: work,
  };
  execFileSync(KITH_BIN, ['import', issoDb, '--site', 'default'], { cwd: work, env: { ...process.env, ...kithEnv }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(await startIsso());
  children.push(await startChild('kith', KITH_BIN, ['serve'], kithEnv, async () => (await fetch(`${kithBase}/api/v1/sites/default/settings`)).ok));
  if (SYSTEMS.includes('kith-b')) {
    if (!KITH_ASSETS_B) throw new Error('kith-b needs KITH_ASSETS_B');
    // Its own database, imported the same way: the two servers share nothing.
    const envB = { ...kithEnv, KITH_DATABASE__URL: `sqlite://${path.join(work, 'kith-b.db')}` };
    execFileSync(KITH_BIN, ['import', issoDb, '--site', 'default'], { cwd: work, env: { ...process.env, ...envB }, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(await startChild('kith-b', KITH_BIN, ['serve'], {
      ...envB, KITH_SERVER__PORT: String(kithPortB),
      KITH_SERVER__ASSETS_DIR: KITH_ASSETS_B,
    }, async () => (await fetch(`${kithBaseB}/api/v1/sites/default/settings`)).ok));
  }

  const hostServer = http.createServer((request, response) => {
    const system = new URL(request.url, host).searchParams.get('system') || '';
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(hostPage(system, system == 'kith-b' ? kithBaseB : kithBase, issoBase));
  });
  await new Promise(resolve => hostServer.listen(hostPort, '127.0.0.1', resolve));
  children.push({ stop: () => new Promise(resolve => { hostServer.closeAllConnections(); hostServer.close(resolve); }) });

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', ...(process.env.BENCH_CHROMIUM_ARGS || '').split(' ').filter(Boolean)],
  });
  console.log(`kith ${KITH_BIN} (assets ${KITH_ASSETS}) vs Isso ${issoBase}; Chromium ${browser.version()}; ${os.cpus().length} × ${os.cpus()[0]?.model}; ${new Date().toISOString().slice(0, 10)}`);
  for (const count of THREADS) {
    const results = { isso: [], kith: [], 'kith-b': [] };
    const scripts = { kith: `${kithBase}/embed.js`, 'kith-b': `${kithBaseB}/embed.js`, isso: `${issoBase}/js/embed.min.js` };
    // One unmeasured load of each first (the server's and the browser's first-time costs).
    for (const system of SYSTEMS) await measure(browser, `${host}/bench-${count}/?system=${system}`, system, scripts[system]);
    for (let run = 0; run < RUNS; run++) {
      for (const system of SYSTEMS) {
        results[system].push(await measure(browser, `${host}/bench-${count}/?system=${system}`, system, scripts[system]));
      }
    }
    printTable(count, results);
  }
} finally {
  await browser?.close();
  for (const child of children.reverse()) await child.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
