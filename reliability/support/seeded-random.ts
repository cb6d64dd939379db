export { seededRandom } from '../../scheduler/testing/seeded-random.ts';

/** A whole number in [min, max], both included. */
export function between(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** The seed for this run: `OWP_RELIABILITY_SEED` when set (to replay a run), else a fresh one. */
export function runSeed(): number {
  const fromEnv = Number(process.env.OWP_RELIABILITY_SEED);
  return Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : Date.now() % 1_000_000_007;
}
