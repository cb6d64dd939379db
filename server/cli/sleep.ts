import { setTimeout as delay } from 'node:timers/promises';

/** Waits `ms`, or less if `signal` fires first; never rejects, so loops just check the signal. */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  try {
    await delay(ms, undefined, { signal });
  } catch {
    // Aborted: the caller's loop sees signal.aborted and stops.
  }
}
