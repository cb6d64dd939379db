// Bundles OWP Pool into dist/:
//   dist/scheduler.js    the engine, protocol and migrations as one platform-neutral ES module
//                        (a bundle needs no files at run time: the SQL is compiled in);
//   dist/server/main.js  the server for `node` in production and in the container: everything
//                        bundled except better-sqlite3, a native addon installed by `npm ci --omit=dev`;
//   dist/cli/owp.js      the `owp` command, bundled the same way;
//   dist/plugin/         the Obsidian plugin: main.js (sql.js WASM inlined), manifest.json, styles.css;
//   dist/dashboard/      the web dashboard the server serves at `/`: index.html, app.js, app.css.
import { build } from 'esbuild';
import { buildPlugin } from './scripts/plugin-build.mjs';
import { buildDashboard } from './dashboard/build.mjs';

const common = {
  bundle: true,
  format: 'esm',
  target: 'es2022',
  sourcemap: true,
  logLevel: 'info',
};

await build({
  ...common,
  entryPoints: { scheduler: 'scheduler/index.ts' },
  outdir: 'dist',
  platform: 'neutral',
  mainFields: ['browser', 'module', 'main'],
  conditions: ['browser'],
});

const nodeBundle = {
  ...common,
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3'],
  // Some bundled CommonJS dependencies call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __owpCreateRequire } from 'node:module'; const require = __owpCreateRequire(import.meta.url);",
  },
};

await build({ ...nodeBundle, entryPoints: { main: 'server/main.ts' }, outdir: 'dist/server' });
// The `owp` command for production installs; bin/owp.js runs it when tsx is not installed.
await build({ ...nodeBundle, entryPoints: { owp: 'server/cli/main.ts' }, outdir: 'dist/cli' });
// The Obsidian plugin (scripts/plugin-build.mjs); `npm run dev -- --vault PATH` watches it.
await buildPlugin();
// The web dashboard (dashboard/build.mjs); server/dashboard.ts serves it.
await buildDashboard();
