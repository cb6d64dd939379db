import { defineConfig } from 'vitest/config';

/**
 * The dashboard's and the plugin's browser tests: headless Chromium against a real server on 127.0.0.1. Run with
 * `npm run test:e2e`, which builds the dashboard first. One file at a time: each starts a browser.
 */
export default defineConfig({
  test: {
    include: ['dashboard/e2e/**/*.e2e.test.ts', 'plugin/e2e/**/*.e2e.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
