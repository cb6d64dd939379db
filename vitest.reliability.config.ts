import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { FIGURES_DIR_ENV } from './reliability/support/figures.ts';
import { SummaryReporter } from './reliability/support/summary-reporter.ts';

/** Each part writes its figures here; the summary reporter prints them as one table at the end. */
const figuresDir = mkdtempSync(join(tmpdir(), 'owp-reliability-figures-'));
/** One seed for every part's randomness; set OWP_RELIABILITY_SEED to replay a run. */
const seed = process.env.OWP_RELIABILITY_SEED || String(1 + (Date.now() % 1_000_000_007));
process.env.OWP_RELIABILITY_SEED = seed;

/**
 * `npm run test:reliability` (issue 6): crash, race, fuzz, access, abuse and persistence tests that
 * report figures. Files run one at a time: several of them measure time (lease expiry, timeouts,
 * latency) and would measure each other's load on a 2-core machine instead.
 */
export default defineConfig({
  test: {
    include: ['reliability/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
    env: { [FIGURES_DIR_ENV]: figuresDir, OWP_RELIABILITY_SEED: seed },
    reporters: ['default', new SummaryReporter(figuresDir)],
  },
});
