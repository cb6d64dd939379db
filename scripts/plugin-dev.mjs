// `npm run dev -- --vault PATH`: builds the plugin, installs main.js, manifest.json and styles.css
// into PATH/<config dir>/plugins/owp-pool/, and rebuilds and reinstalls on every change. An empty
// `.hotreload` file is put beside them for the Hot Reload plugin, which then reloads OWP Pool.
import { context } from 'esbuild';
import { watch } from 'node:fs';
import { copyFile, mkdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PLUGIN_FILES, PLUGIN_OUTDIR, ROOT, pluginBuildOptions } from './plugin-build.mjs';

const { values } = parseArgs({
  options: {
    vault: { type: 'string' },
    'config-dir': { type: 'string', default: '.obsidian' },
  },
});
if (!values.vault) {
  console.error('Usage: npm run dev -- --vault PATH [--config-dir .obsidian]');
  process.exit(2);
}
const vault = resolve(values.vault);
if (!(await stat(vault).catch(() => null))?.isDirectory()) {
  console.error(`No vault at ${vault}`);
  process.exit(2);
}
const target = join(vault, values['config-dir'], 'plugins', 'owp-pool');

async function install() {
  await mkdir(target, { recursive: true });
  for (const file of PLUGIN_FILES) await copyFile(join(PLUGIN_OUTDIR, file), join(target, file));
  await writeFile(join(target, '.hotreload'), '');
  console.log(`${new Date().toLocaleTimeString()} installed into ${target}`);
}

const installAfterBuild = {
  name: 'owp-install-into-vault',
  setup(pluginBuild) {
    pluginBuild.onEnd(async (result) => {
      if (result.errors.length === 0) await install();
    });
  },
};

await mkdir(PLUGIN_OUTDIR, { recursive: true });
const ctx = await context(pluginBuildOptions({ production: false, plugins: [installAfterBuild] }));
await ctx.watch();
// esbuild watches what it bundles; the style sheet and manifest are copied, so watch them here.
for (const file of ['styles.css', 'manifest.json']) {
  watch(join(ROOT, file), () => void ctx.rebuild().catch((error) => console.error(error)));
}
console.log(`Watching; installing into ${target}. Ctrl+C stops.`);
