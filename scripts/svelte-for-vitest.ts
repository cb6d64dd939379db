import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { compile } from 'svelte/compiler';
import type { Plugin } from 'vitest/config';

type ExportEntry = string | { browser?: string; default?: string };

const require = createRequire(import.meta.url);
const svelteDir = dirname(require.resolve('svelte/package.json'));
const svelteExports = (
  JSON.parse(readFileSync(join(svelteDir, 'package.json'), 'utf8')) as {
    exports: Record<string, ExportEntry>;
  }
).exports;

/**
 * Compiles `.svelte` components for tests, as esbuild-svelte does for the plugin's bundle (client
 * code, DOM built without innerHTML, no CSS: the styles live in styles.css), and resolves `svelte`
 * and `svelte/*` to their browser builds — only those, since a global `browser` condition would
 * also switch sql.js and others to their browser builds in Node tests. A full
 * `@sveltejs/vite-plugin-svelte` was the rejected alternative: one more dependency for what is a
 * call to the compiler the project already has.
 */
export function svelteForVitest(): Plugin {
  return {
    name: 'owp-svelte-for-vitest',
    enforce: 'pre',
    resolveId(id) {
      if (id !== 'svelte' && !id.startsWith('svelte/')) return null;
      const entry = svelteExports[id === 'svelte' ? '.' : `./${id.slice('svelte/'.length)}`];
      const file = typeof entry === 'string' ? entry : (entry?.browser ?? entry?.default);
      return file ? join(svelteDir, file) : null;
    },
    transform(source, id) {
      if (!id.endsWith('.svelte')) return null;
      const { js } = compile(source, {
        filename: id,
        generate: 'client',
        css: 'external',
        fragments: 'tree',
      });
      return { code: js.code, map: js.map };
    },
  };
}
