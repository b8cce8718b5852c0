// Locale files: every language has every string the embed uses (no browser needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './harness.mjs';

const dir = path.join(repoRoot, 'embed', 'locales');
const langs = ['en', 'de', 'fr', 'es', 'pt', 'it', 'nl', 'pl', 'ja', 'zh'];

test('all ten locale files exist and have the same keys as the built-in English', () => {
  const src = fs.readFileSync(path.join(repoRoot, 'embed', 'embed.js'), 'utf8');
  const en = JSON.parse(fs.readFileSync(path.join(dir, 'en.json'), 'utf8'));
  for (const k of Object.keys(en)) assert.ok(new RegExp(`\\b${k}:`).test(src), `embed.js has built-in English for ${k}`);
  for (const l of langs) {
    const j = JSON.parse(fs.readFileSync(path.join(dir, `${l}.json`), 'utf8'));
    assert.deepEqual(Object.keys(j).sort(), Object.keys(en).sort(), `${l}.json keys`);
    const pr = new Intl.PluralRules(l);
    for (const n of [0, 1, 2, 5, 22, 1000]) assert.ok(j.comments[pr.select(n)] || j.comments.other, `${l} plural for ${n}`);
    assert.ok(j.comments.other.includes('{n}'));
    assert.ok(j.reply_to.includes('{name}') && j.left.includes('{t}'), `${l} placeholders`);
  }
});

test('built-in English strings match en.json', () => {
  const src = fs.readFileSync(path.join(repoRoot, 'embed', 'embed.js'), 'utf8');
  const en = JSON.parse(fs.readFileSync(path.join(dir, 'en.json'), 'utf8'));
  for (const [k, v] of Object.entries(en)) {
    if (typeof v !== 'string') continue;
    assert.ok(src.includes(JSON.stringify(v).slice(1, -1)) || src.includes(v), `English "${k}" in embed.js equals en.json`);
  }
});
