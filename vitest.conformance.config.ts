import { defineConfig } from 'vitest/config';

/** Runs only the conformance suite against the server named by OWP_URL. */
export default defineConfig({
  test: { include: ['protocol/conformance/remote.conformance.ts'] },
});
