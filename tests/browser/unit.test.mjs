// Checks of the embed's parts: locale files complete and used, proof-of-work solver correct, the
// committed bundle built from the source and within its size budget, and (in Chromium) the one
// parse of a page's comment bodies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, launchBrowser } from './harness.mjs';
import { solveChallenge } from '../../embed/src/pow.js';
import { createTranslator } from '../../embed/src/locale.js';

const embedDir = path.join(repoRoot, 'embed');
const dir = path.join(embedDir, 'locales');
const langs = ['en', 'de', 'fr', 'es', 'pt', 'it', 'nl', 'pl', 'ja', 'zh'];
const readJson = file => JSON.parse(fs.readFileSync(file, 'utf8'));
const placeholders = s => [...JSON.stringify(s).matchAll(/\{(\w+)\}/g)].map(m => m[1]).sort();

test('all ten locale files have the same keys and placeholders as en.json', () => {
  const en = readJson(path.join(dir, 'en.json'));
  for (const l of langs) {
    const j = readJson(path.join(dir, `${l}.json`));
    assert.deepEqual(Object.keys(j).sort(), Object.keys(en).sort(), `${l}.json keys`);
    // Strings with plural forms (`{ one, other, … }`), by the language's plural rules.
    const plural = ['comments', 'new_comments'];
    for (const [k, v] of Object.entries(en)) {
      if (plural.includes(k) || k === 'ago') continue;
      assert.equal(typeof j[k], 'string', `${l}.${k} is a string`);
      assert.ok(j[k].trim().length > 0, `${l}.${k} is not empty`);
      assert.deepEqual(placeholders(j[k]), placeholders(v), `${l}.${k} placeholders`);
    }
    const pr = new Intl.PluralRules(l);
    for (const k of plural) {
      for (const n of [0, 1, 2, 5, 22, 1000]) assert.ok(j[k][pr.select(n)] || j[k].other, `${l}.${k} plural for ${n}`);
      for (const form of Object.values(j[k])) assert.ok(form.includes('{n}'), `${l}.${k} plural form has {n}`);
      // Every form the language has, so no count falls back to another form's grammar.
      for (const n of [0, 1, 2, 3, 5, 22, 1000]) assert.ok(pr.select(n) in j[k], `${l}.${k} has the "${pr.select(n)}" form`);
    }
  }
});

test('every locale file says "now" and "n minutes ago" to "n years ago" for every count, as Intl would', () => {
  // The `ago` entries are written by embed/relative-time.mjs (npm run locales) from this Node's
  // CLDR data; checked here against Node's Intl.RelativeTimeFormat, as locale.js reads them.
  for (const l of langs) {
    const { ago } = readJson(path.join(dir, `${l}.json`));
    const pr = new Intl.PluralRules(l), always = new Intl.RelativeTimeFormat(l), words = new Intl.RelativeTimeFormat(l, { numeric: 'auto' });
    assert.equal(ago.now, words.format(0, 'second'));
    for (const unit of ['minute', 'hour', 'day', 'week', 'month', 'year']) {
      for (let n = 1; n <= 60; n++) {
        const text = ago[unit + n] || ago[unit][pr.select(n)].replace('{n}', n);
        assert.equal(text, (n <= 2 ? words : always).format(-n, unit), `${l}: ${n} ${unit}s ago`);
      }
    }
  }
});

test('times are told from the language file: now, minutes, yesterday, the plural forms', () => {
  const ago = (lang, seconds, file = lang) => createTranslator({ lang, strings: readJson(path.join(dir, `${file}.json`)) })
    .ago(new Date(Date.now() - seconds * 1000).toISOString());
  const minute = 60, hour = 60 * minute, day = 24 * hour;
  assert.equal(ago('en', 20), 'now');
  assert.equal(ago('en', -300), 'now', 'a time a little ahead (clock skew) is now');
  assert.equal(ago('en', minute + 5), '1 minute ago');
  assert.equal(ago('en', 5 * minute), '5 minutes ago');
  assert.equal(ago('en', 3 * hour), '3 hours ago');
  assert.equal(ago('en', day + hour), 'yesterday');
  assert.equal(ago('en', 2 * day), '2 days ago');
  assert.equal(ago('de', 2 * day), 'vorgestern');
  assert.equal(ago('en', 8 * day), 'last week');
  assert.equal(ago('en', 20 * day), '3 weeks ago');
  assert.equal(ago('en', 100 * day), '3 months ago');
  assert.equal(ago('en', 800 * day), '2 years ago');
  assert.equal(ago('pl', 5 * minute), '5 minut temu');
  assert.equal(ago('pl', 3 * minute), '3 minuty temu');
  assert.equal(ago('not a tag!', minute + 5, 'en'), '1 minute ago', 'an invalid language tag falls back to English plural rules');
});

test('every string in en.json is used by the embed source, and the source uses no other key', () => {
  const en = readJson(path.join(dir, 'en.json'));
  const source = fs.readdirSync(path.join(embedDir, 'src')).filter(f => f.endsWith('.js'))
    .map(f => fs.readFileSync(path.join(embedDir, 'src', f), 'utf8')).join('\n');
  for (const k of Object.keys(en)) assert.ok(source.includes(`'${k}'`) || source.includes(`strings.${k}`), `the source uses "${k}"`);
  for (const [, k] of source.matchAll(/\bt\('(\w+)'/g)) assert.ok(k in en, `en.json has "${k}"`);
});

test('the embed proof-of-work solver agrees with node:crypto SHA-256', async () => {
  const { createHash, randomBytes } = await import('node:crypto');
  const zeros = s => {
    let z = 0;
    for (const b of createHash('sha256').update(s).digest()) { if (b === 0) { z += 8; continue; } z += Math.clz32(b) - 24; break; }
    return z;
  };
  for (const [len, difficulty] of [[8, 0], [16, 8], [32, 12], [40, 14], [64, 10]]) {
    const challenge = randomBytes(len).toString('hex');
    const nonce = solveChallenge({ challenge, difficulty });
    assert.match(nonce, /^\d+$/);
    assert.ok(zeros(`${challenge}:${nonce}`) >= difficulty, `solution has ${difficulty} leading zero bits`);
    for (let n = 0; n < Number(nonce); n++) assert.ok(zeros(`${challenge}:${n}`) < difficulty, 'first solution found');
  }
});

test('the committed bundle is what embed/src builds to (npm ci in embed/ first)', () => {
  execFileSync(process.execPath, ['build.mjs', '--check'], { cwd: embedDir, stdio: 'pipe' });
});

test('the bundle is within its size budget (benches/embed-size.sh)', () => {
  const out = execFileSync('bash', [path.join(repoRoot, 'benches', 'embed-size.sh')], { encoding: 'utf8' });
  assert.match(out, /embed\.js \(first paint: script and styles\): \d+ bytes gzipped/);
  assert.match(out, /embed-form\.js \(posting UI, on demand\): +\d+ bytes gzipped/);
  assert.match(out, /embed-live\.js \(live updates, on demand\): +\d+ bytes gzipped/);
});

// The one parse of a page's comment bodies (embed/src/comment.js: parseBodies), in Chromium:
// bodies that would break a joined parse make every body be parsed on its own, and each
// comment's body stays in its own card either way.
test('a page of bodies is parsed in one go, or each alone when one would break out (Chromium)', async () => {
  const esbuild = await import(path.join(embedDir, 'node_modules', 'esbuild', 'lib', 'main.js'));
  const { outputFiles } = await esbuild.build({
    stdin: { contents: "import { parseBodies, renderComment } from './src/comment.js'; window.kith = { parseBodies, renderComment };", resolveDir: embedDir },
    bundle: true, write: false, format: 'iife', logLevel: 'silent',
  });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.setContent('<!doctype html><ol id="list"></ol>');
    await page.addScriptTag({ content: outputFiles[0].text });
    const render = bodies => page.evaluate(bodies => {
      const { parseBodies, renderComment } = window.kith;
      const view = {
        i18n: { t: key => key, ago: () => 'now' },
        own: { entries: {} }, liked: { ids: {} }, closed: false,
        // (comment.js puts its one click listener for the cards' actions on the view's section)
        section: document.createElement('section'),
      };
      // Two top-level comments with two replies each, then the rest top-level.
      let id = 0;
      const comment = html => ({ id: ++id, html, author: 'A' + id, avatar: 'abcdef', created_at: '2026-01-01T00:00:00Z', status: 'approved', likes: 0, replies: [] });
      const comments = bodies.map(comment);
      const page = [comments[0], comments[3], ...comments.slice(6)];
      comments[0].replies = [comments[1], comments[2]];
      comments[3].replies = [comments[4], comments[5]];
      const list = document.getElementById('list');
      list.textContent = '';
      const joined = parseBodies(() => {
        for (const item of page) list.append(renderComment(view, item));
      });
      return {
        joined,
        cards: comments.map(c => {
          const card = document.getElementById('comment-' + c.id).firstChild;
          return { body: card.querySelector(':scope > .kith-body').innerHTML, bold: card.querySelectorAll('b').length };
        }),
      };
    }, bodies);

    const good = Array.from({ length: 8 }, (_, i) => `<p>body ${i} <a href="https://example.com/${i}">link</a></p>`);
    const plain = await render(good);
    assert.equal(plain.joined, true, 'well-formed bodies are parsed in one go');
    plain.cards.forEach((card, i) => assert.equal(card.body, good[i], `body ${i} in its own card`));

    // Each of these, as the third body, would move markup across the joined string's wrappers.
    const breakers = [
      '<p>x</p></template><p>escaped</p>',
      '<p>x</p></div></template></template><template data-k=3><p>forged</p>',
      '<textarea><p>x</p>',
      '<!-- <p>x</p>',
      '<p title="x>',
      '<template><p>x</p>',
      '<plaintext>',
    ];
    for (const breaker of breakers) {
      const bodies = good.slice();
      bodies[2] = breaker;
      const result = await render(bodies);
      assert.equal(result.joined, false, `falls back for ${breaker}`);
      result.cards.forEach((card, i) => {
        if (i != 2) assert.equal(card.body, good[i], `with ${breaker}: body ${i} in its own card, untouched`);
      });
    }

    // An unclosed <b> is parsed in one go, but its bold does not carry on into the next body.
    const bodies = good.slice();
    bodies[2] = '<p><b>bold';
    const unclosed = await render(bodies);
    assert.equal(unclosed.joined, true);
    assert.equal(unclosed.cards[2].bold, 1);
    unclosed.cards.forEach((card, i) => {
      if (i != 2) assert.equal(card.body, good[i], `body ${i} untouched by an unclosed <b>`);
    });
  } finally {
    await browser.close();
  }
});
