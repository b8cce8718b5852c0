// Bundles and minifies embed/src into the files the kith binary embeds: embed.js (with the styles
// inside; what the first paint needs), embed-form.js (the posting UI, an ES module embed.js loads on
// demand), embed-live.js (live updates, another such module), embed-signin.js (the sign-in panel,
// which embed-form.js loads on demand), embed.css (the same styles as a stylesheet; the embed itself
// does not load it) and count.js (next to this file). `--check` builds in memory and fails when the committed files
// differ from what the source gives (tests/run uses it); `--watch` rebuilds on every change.
// The output depends only on the source and the pinned esbuild version.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

// `import styles from './embed.css'` in the script gives the minified stylesheet as a string, so
// the styles travel with the script (no second round trip before the first comment is styled).
const inlineCss = {
  name: 'inline-css',
  setup(build) {
    build.onResolve({ filter: /\.css$/ }, args => (args.kind == 'import-statement'
      ? { path: path.join(args.resolveDir, args.path), namespace: 'css-text' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'css-text' }, async args => {
      const { code } = await esbuild.transform(await fs.promises.readFile(args.path, 'utf8'), { loader: 'css', minify: true, target: options.target });
      return { contents: `export default ${JSON.stringify(code.trim())}`, loader: 'js', watchFiles: [args.path] };
    });
  },
};

// In embed-form.js, embed-live.js and embed-signin.js, the helpers embed.js already has (dom.js,
// storage.js) are not bundled again: their imports resolve to `kith:base`, whose bindings are
// filled with embed.js's own (`provide`).
const fromBase = {
  name: 'from-base',
  setup(build) {
    build.onResolve({ filter: /^(\.\/(dom|storage)\.js|kith:base)$/ }, () => ({ path: 'base', namespace: 'kith' }));
    build.onLoad({ filter: /.*/, namespace: 'kith' }, () => ({
      contents: 'export let el, button, load, save, trusted; export const provide = base => ({ el, button, load, save, trusted } = base);',
      loader: 'js',
    }));
  },
};

const banner = '/* kith embed, built from embed/src by `npm run build`: edit the source, not this file. */';
// V8's explicit compile hint (Chromium 136 and later; other browsers read a comment): every
// function of the file is compiled while the script streams in, on a worker thread, instead of
// each on the main thread at its first call. Measured on the 100-comment thread: 2.4 ms less of
// the main thread's CPU before the first comment, the requests leave no later.
const hint = '//# allFunctionsCalledOnLoad\n';
const options = {
  absWorkingDir: here,
  entryPoints: [
    { in: 'src/embed.js', out: 'embed' },
    { in: 'src/embed.css', out: 'embed' },
    { in: 'src/count.js', out: 'count' },
  ],
  outdir: here,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2021', 'chrome100', 'firefox100', 'safari15'],
  charset: 'utf8',
  legalComments: 'none',
  banner: { js: hint + banner, css: banner },
  logLevel: 'warning',
  plugins: [inlineCss],
};

const signinOptions = {
  ...options,
  entryPoints: [{ in: 'src/embed-signin.js', out: 'embed-signin' }],
  format: 'esm',
  plugins: [fromBase],
};

const formOptions = { ...signinOptions, entryPoints: [{ in: 'src/embed-form.js', out: 'embed-form' }] };

// Live updates (embed-live.js): an ES module like the form, loaded after the first paint when the
// server has them on.
const liveOptions = { ...formOptions, entryPoints: [{ in: 'src/live.js', out: 'embed-live' }] };

const hash = build => JSON.stringify(crypto.createHash('sha256').update(build.outputFiles[0].contents).digest('hex').slice(0, 10));

/**
 * All builds, in memory: the sign-in panel first (its hash goes into embed-form.js as
 * SIGNIN_VERSION), then the modules embed.js loads (their hashes go into embed.js as FORM_VERSION
 * and LIVE_VERSION), then the rest.
 */
async function buildAll() {
  const signin = await esbuild.build({ ...signinOptions, write: false });
  const form = await esbuild.build({ ...formOptions, write: false, define: { SIGNIN_VERSION: hash(signin) } });
  const live = await esbuild.build({ ...liveOptions, write: false });
  const base = await esbuild.build({ ...options, write: false, define: { FORM_VERSION: hash(form), LIVE_VERSION: hash(live) } });
  return [...base.outputFiles, ...form.outputFiles, ...live.outputFiles, ...signin.outputFiles];
}

if (process.argv.includes('--watch')) {
  // Rebuilds both on any change (the form's hash goes into embed.js).
  const context = await esbuild.context({ ...formOptions, write: false, plugins: [...formOptions.plugins, {
    name: 'rebuild-all',
    setup: build => build.onEnd(async () => { for (const file of await buildAll()) fs.writeFileSync(file.path, file.contents); }),
  }] });
  await context.watch();
  console.log('watching embed/src');
} else if (process.argv.includes('--check')) {
  const outputFiles = await buildAll();
  const stale = outputFiles.filter(file => !fs.existsSync(file.path) || !fs.readFileSync(file.path).equals(Buffer.from(file.contents)));
  for (const file of stale) console.error(`embed/${path.relative(here, file.path)} differs from its source: run \`npm run build\` in embed/ and commit the result`);
  process.exit(stale.length ? 1 : 0);
} else {
  const outputFiles = await buildAll();
  for (const file of outputFiles) fs.writeFileSync(file.path, file.contents);
  console.log(outputFiles.map(file => `${path.relative(here, file.path)} ${file.contents.length} bytes`).join('\n'));
}
