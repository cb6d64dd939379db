import { build } from 'esbuild';
import { join } from 'node:path';
import { pluginSvelteOptions, ROOT } from '../../scripts/plugin-build.mjs';

/**
 * Bundles the harness page's script for the browser with the same Svelte compiler options as the
 * plugin's main.js, so the page mounts the views exactly as built for Obsidian.
 */
export async function buildHarness(outdir: string): Promise<void> {
  await build({
    absWorkingDir: ROOT,
    entryPoints: { harness: join(ROOT, 'plugin', 'e2e', 'harness.ts') },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome114'],
    mainFields: ['svelte', 'browser', 'module', 'main'],
    conditions: ['svelte', 'browser'],
    logLevel: 'warning',
    plugins: [pluginSvelteOptions()],
  });
}
