import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{protocol,scheduler,server,plugin,scripts}/**/*.test.ts'],
    // `*.case.test.ts` files export contract suites that other tests run against each implementation.
    exclude: ['**/*.case.test.ts', 'node_modules/**'],
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
