// Bundles OWP Pool. Today: the engine with its protocol and migrations as one platform-neutral
// ES module (proof that a bundle needs no files at run time: the SQL is compiled in). The server
// and the Obsidian plugin bundles are added here as they land.
import { build } from 'esbuild';

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
