/** Where the engine gets the time: milliseconds since the Unix epoch. Injected so tests drive it. */
export interface Clock {
  now(): number;
}

/** The wall clock, for hosts (server, plugin). The engine itself never reads the time directly. */
export const systemClock: Clock = {
  // eslint-disable-next-line no-restricted-syntax -- the single place the wall clock is read.
  now: () => Date.now(),
};

let lastMs = Number.NaN;
let lastIso = '';
/**
 * The wire form of a time. One command stamps many fields and events with the same instant, so the
 * last conversion is kept: formatting a Date costs more than the rest of building an event.
 */
export function toIso(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}
export const toIsoOrNull = (ms: number | null): string | null => (ms === null ? null : toIso(ms));
