#!/usr/bin/env node
// The comments the benchmarks seed into Isso through its HTTP API (kith then imports Isso's
// database, so both systems serve the same comments). Used by benches/browser.mjs and, from the
// command line, by benches/compare-isso.sh:
//
//   node benches/isso/seed.mjs http://127.0.0.1:PORT /bench-100/=100 /bench-2000/=2000 ...
//
// Each argument is a thread URI and how many comments to post to it. The text is deterministic
// (a thread of N comments always gets the same text), so every run seeds the same comments.
import { fileURLToPath } from 'node:url';

const WORDS = ('the a comment thread reader server page script browser time first visible paint layout node '
  + 'style request answer reply quite agree think really good point about this that with from when which would '
  + 'could more less some every long short fast slow test measure number result people blog post write read')
  .split(' ');
/** Deterministic pseudo-random numbers, so every run seeds the same text. */
function random(seed) {
  let state = seed >>> 0;
  return () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}
/** The i-th comment: one to three paragraphs, now and then a link or emphasis. */
function commentText(rand) {
  const sentence = () => {
    const words = Array.from({ length: 6 + Math.floor(rand() * 14) }, () => WORDS[Math.floor(rand() * WORDS.length)]);
    if (rand() < 0.15) words[1] = `*${words[1]}*`;
    if (rand() < 0.1) words[3] = `[${words[3]}](https://example.com/${words[3]})`;
    return words.join(' ').replace(/^./, c => c.toUpperCase()) + '.';
  };
  const paragraphs = 1 + Math.floor(rand() * rand() * 3);
  return Array.from({ length: paragraphs }, () => Array.from({ length: 1 + Math.floor(rand() * 3) }, sentence).join(' '))
    .join('\n\n');
}

/**
 * Posts `count` comments to Isso's thread `uri`: every fourth one top-level, the others replies
 * to the latest top-level comment (Isso keeps one level of replies).
 */
export async function seedIsso(issoBase, uri, count) {
  const rand = random(count);
  let parent = null;
  for (let i = 0; i < count; i++) {
    const topLevel = i % 4 == 0;
    const body = {
      text: commentText(rand),
      author: `Reader ${i % 97}`,
      email: `reader${i % 97}@example.com`,
      website: i % 5 == 0 ? `https://reader${i % 97}.example.com/` : null,
      parent: topLevel ? null : parent,
      title: `A post with ${count} comments`,
    };
    const response = await fetch(`${issoBase}/new?uri=${encodeURIComponent(uri)}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    if (response.status != 201 && response.status != 202) throw new Error(`Isso answered ${response.status}: ${await response.text()}`);
    const { id } = await response.json();
    if (topLevel) parent = id;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [base, ...threads] = process.argv.slice(2);
  if (!base || !threads.length) {
    console.error('usage: node benches/isso/seed.mjs ISSO_BASE_URL URI=COUNT ...');
    process.exit(2);
  }
  for (const thread of threads) {
    const at = thread.lastIndexOf('=');
    const uri = thread.slice(0, at), count = Number(thread.slice(at + 1));
    const started = Date.now();
    await seedIsso(base.replace(/\/$/, ''), uri, count);
    console.error(`seeded Isso's ${uri} with ${count} comments in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
