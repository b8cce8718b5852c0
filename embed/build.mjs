// Bundles and minifies embed/src into the files the kith binary embeds: embed.js (with the styles
// inside), embed.css (the same styles as a stylesheet; the embed itself does not load it) and
// count.js (next to this file). `--check` builds in memory and fails when the committed files
// differ from what the source gives (tests/run uses it); `--watch` rebuilds on every change.
// The output depends only on the source and the pinned esbuild version.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
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

const banner = '/* kith embed, built from embed/src by `npm run build`: edit the source, not this file. */';
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
  banner: { js: banner, css: banner },
  logLevel: 'warning',
  plugins: [inlineCss],
};

if (process.argv.includes('--watch')) {
  const context = await esbuild.context(options);
  await context.watch();
  console.log('watching embed/src');
} else if (process.argv.includes('--check')) {
  const { outputFiles } = await esbuild.build({ ...options, write: false });
  const stale = outputFiles.filter(file => !fs.existsSync(file.path) || !fs.readFileSync(file.path).equals(Buffer.from(file.contents)));
  for (const file of stale) console.error(`embed/${path.relative(here, file.path)} differs from its source: run \`npm run build\` in embed/ and commit the result`);
  process.exit(stale.length ? 1 : 0);
} else {
  const { outputFiles } = await esbuild.build({ ...options, write: false });
  for (const file of outputFiles) fs.writeFileSync(file.path, file.contents);
  console.log(outputFiles.map(file => `${path.relative(here, file.path)} ${file.contents.length} bytes`).join('\n'));
}
