// Checks without a browser: locale files complete, proof-of-work solver correct.
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

test('the embed proof-of-work solver agrees with node:crypto SHA-256', async () => {
  const { createHash, randomBytes } = await import('node:crypto');
  const src = fs.readFileSync(path.join(repoRoot, 'embed', 'embed.js'), 'utf8');
  const m = src.match(/function solve\(p\) \{[\s\S]*?\n {2}\}\n/);
  assert.ok(m, 'solve() found in embed.js');
  const solve = new Function(`return ${m[0]}`)();
  const zeros = s => {
    let z = 0;
    for (const b of createHash('sha256').update(s).digest()) { if (b === 0) { z += 8; continue; } z += Math.clz32(b) - 24; break; }
    return z;
  };
  for (const [len, difficulty] of [[8, 0], [16, 8], [32, 12], [40, 14], [64, 10]]) {
    const challenge = randomBytes(len).toString('hex');
    const nonce = solve({ challenge, difficulty });
    assert.match(nonce, /^\d+$/);
    assert.ok(zeros(`${challenge}:${nonce}`) >= difficulty, `solution has ${difficulty} leading zero bits`);
    for (let n = 0; n < Number(nonce); n++) assert.ok(zeros(`${challenge}:${n}`) < difficulty, 'first solution found');
  }
});
