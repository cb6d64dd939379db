// Builds the Obsidian plugin into dist/plugin/: main.js (the plugin, with Svelte, the engine,
// sql.js and its WASM inlined), manifest.json and styles.css — the only three files Obsidian
// installs. Used by esbuild.config.mjs (`npm run build`) and scripts/plugin-dev.mjs (`npm run dev`).
import { context } from 'esbuild';
import sveltePlugin from 'esbuild-svelte';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PLUGIN_OUTDIR = join(ROOT, 'dist', 'plugin');
/** The files Obsidian loads from a plugin's folder. */
export const PLUGIN_FILES = ['main.js', 'manifest.json', 'styles.css'];

/**
 * Zod re-exports every message translation, which the plugin never uses (it shows the pool's
 * English messages): resolving that one module to English only keeps them out of main.js, as the
 * dashboard's build does.
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

/** Copies manifest.json and styles.css next to main.js after every build. */
const copyStatics = (outdir) => ({
  name: 'owp-plugin-statics',
  setup(pluginBuild) {
    pluginBuild.onEnd(async (result) => {
      if (result.errors.length > 0) return;
      await copyFile(join(ROOT, 'manifest.json'), join(outdir, 'manifest.json'));
      await copyFile(join(ROOT, 'styles.css'), join(outdir, 'styles.css'));
    });
  },
});

/** The Svelte compiler as the plugin's views are built: also used by the browser test harness. */
export function pluginSvelteOptions({ production = true } = {}) {
  return sveltePlugin({
    compilerOptions: { css: 'external', fragments: 'tree', dev: !production },
  });
}

/**
 * esbuild options for the plugin, as Obsidian plugins are built: CommonJS, `obsidian`, `electron`
 * and the editor's CodeMirror/Lezer packages left to the app. The sql.js WASM is imported as bytes
 * (loader `binary`), so the plugin needs no file beside main.js — on mobile neither. Svelte builds
 * DOM with `fragments: 'tree'` (createElement, never innerHTML), and the components carry no CSS:
 * everything is in styles.css.
 */
export function pluginBuildOptions({
  outdir = PLUGIN_OUTDIR,
  production = true,
  plugins = [],
} = {}) {
  return {
    absWorkingDir: ROOT,
    entryPoints: { main: join(ROOT, 'plugin', 'main.ts') },
    outdir,
    bundle: true,
    format: 'cjs',
    platform: 'browser',
    target: ['es2022', 'chrome114', 'safari16'],
    mainFields: ['svelte', 'browser', 'module', 'main'],
    conditions: ['svelte', 'browser'],
    external: ['obsidian', 'electron', '@codemirror/*', '@lezer/*'],
    loader: { '.wasm': 'binary' },
    minify: production,
    sourcemap: production ? false : 'inline',
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [zodEnglishOnly, pluginSvelteOptions({ production }), copyStatics(outdir), ...plugins],
  };
}

/** Builds dist/plugin once. */
export async function buildPlugin(options = {}) {
  const outdir = options.outdir ?? PLUGIN_OUTDIR;
  await mkdir(outdir, { recursive: true });
  const ctx = await context(pluginBuildOptions({ ...options, outdir }));
  try {
    await ctx.rebuild();
  } finally {
    await ctx.dispose();
  }
  const main = await readFile(join(outdir, 'main.js'));
  console.log(`plugin: ${outdir} (main.js ${Math.round(main.length / 1024)} KiB)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildPlugin();
}
