// Builds the web dashboard into dist/dashboard/: app.js (Svelte, uPlot, the protocol client),
// app.css (every component's styles, uPlot's and the theme) and index.html linking both by content
// hash (`app.js?v=…`), which the server uses to cache them for a year. Static: no CDN, no runtime
// fetches except the API. Run alone with `node dashboard/build.mjs`, or through esbuild.config.mjs.
import { build } from 'esbuild';
import sveltePlugin from 'esbuild-svelte';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Same as server/dashboard.ts `contentVersion`. */
const contentVersion = (body) => createHash('sha256').update(body).digest('hex').slice(0, 12);

/**
 * Zod re-exports all of its ~50 message translations (`z.locales`), which no bundler can drop
 * (a namespace re-export) and the page never uses: it shows the server's English messages and
 * validates with the default (English) locale. Resolving that one module to English only takes
 * about a third off app.js. (Switching the protocol to `zod/mini` was the rejected alternative:
 * it would change every schema the server and plugin share.)
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer)
        ? {
            path: join(dirname(args.importer), '..', 'locales', 'index.js'),
            namespace: 'zod-locales',
          }
        : undefined,
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(join(dirname(args.path), 'en.js'))};`,
      resolveDir: dirname(args.path),
    }));
  },
};

/** Builds the dashboard into `outdir` (default dist/dashboard at the repository root). */
export async function buildDashboard({ outdir = join(here, '..', 'dist', 'dashboard') } = {}) {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: { app: join(here, 'main.ts') },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome111', 'firefox115', 'safari16.4'],
    mainFields: ['svelte', 'browser', 'module', 'main'],
    conditions: ['svelte', 'browser'],
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [zodEnglishOnly, sveltePlugin({ compilerOptions: { css: 'external' } })],
  });
  const [js, css, template] = await Promise.all([
    readFile(join(outdir, 'app.js')),
    readFile(join(outdir, 'app.css')),
    readFile(join(here, 'index.html'), 'utf8'),
  ]);
  const html = template
    .replace('%APP_JS%', `/app.js?v=${contentVersion(js)}`)
    .replace('%APP_CSS%', `/app.css?v=${contentVersion(css)}`);
  await writeFile(join(outdir, 'index.html'), html);
  console.log(
    `dashboard: ${outdir} (app.js ${Math.round(js.length / 1024)} KiB, app.css ${Math.round(css.length / 1024)} KiB)`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildDashboard();
}
