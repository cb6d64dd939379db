/** Where the engine gets the time: milliseconds since the Unix epoch. Injected so tests drive it. */
export interface Clock {
  now(): number;
}

/** The wall clock, for hosts (server, plugin). The engine itself never reads the time directly. */
export const systemClock: Clock = {
  // eslint-disable-next-line no-restricted-syntax -- the single place the wall clock is read.
  now: () => Date.now(),
};

export const toIso = (ms: number): string => new Date(ms).toISOString();
export const toIsoOrNull = (ms: number | null): string | null => (ms === null ? null : toIso(ms));
