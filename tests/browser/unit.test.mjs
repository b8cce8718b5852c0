// Checks without a browser: locale files complete and used, proof-of-work solver correct, the
// committed bundle built from the source and within its size budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './harness.mjs';
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
    for (const [k, v] of Object.entries(en)) {
      if (k === 'comments' || k === 'ago') continue;
      assert.equal(typeof j[k], 'string', `${l}.${k} is a string`);
      assert.ok(j[k].trim().length > 0, `${l}.${k} is not empty`);
      assert.deepEqual(placeholders(j[k]), placeholders(v), `${l}.${k} placeholders`);
    }
    const pr = new Intl.PluralRules(l);
    for (const n of [0, 1, 2, 5, 22, 1000]) assert.ok(j.comments[pr.select(n)] || j.comments.other, `${l} plural for ${n}`);
    for (const form of Object.values(j.comments)) assert.ok(form.includes('{n}'), `${l} plural form has {n}`);
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
  assert.match(out, /embed\.js \(script and styles\): \d+ bytes gzipped/);
});
