import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { svelteForVitest } from './scripts/svelte-for-vitest.ts';

export default defineConfig({
  // The plugin's views are Svelte components; tests mount them in happy-dom.
  plugins: [svelteForVitest()],
  resolve: {
    // Obsidian cannot run here: tests get a faithful fake of the `obsidian` module instead.
    alias: {
      obsidian: fileURLToPath(new URL('./plugin/testing/obsidian-fake/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['{protocol,scheduler,server,plugin,scripts,dashboard,bench}/**/*.test.ts'],
    // `*.case.test.ts` files export contract suites that other tests run against each implementation.
    // `*.e2e.test.ts` are the dashboard's browser tests: `npm run test:e2e` (vitest.e2e.config.ts).
    exclude: ['**/*.case.test.ts', '**/*.e2e.test.ts', 'node_modules/**'],
    coverage: {
      provider: 'v8',
      include: ['protocol/**/*.ts', 'scheduler/**/*.ts', 'server/**/*.ts', 'plugin/**/*.ts'],
      exclude: ['**/*.test.ts', '**/*.generated.ts', '**/testing/**'],
      reporter: ['text-summary', 'text'],
      thresholds: {
        'scheduler/**/*.ts': { lines: 90 },
      },
    },
  },
});
