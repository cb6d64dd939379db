import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 may grow the old generation past what survived its last full collection, in percent.
 *
 * Left to itself V8 lets the old generation grow to several times the live heap when a process
 * allocates fast, and a busy server does: at 10,000 workers a heap snapshot finds ~23 MB live
 * while ~56 MB of old space waits for a collection. Growing by a fifth instead collects sooner;
 * the marking runs concurrently on another core, and the bench measured the same tasks/s and p99
 * with it (docs/performance.md).
 */
export const HEAP_GROWING_PERCENT = 20;

/**
 * Sets V8's heap growing factor for the server process, unless node was started with its own
 * `--heap-growing-percent`. A V8 flag, not a Node option (NODE_OPTIONS refuses it), so the server
 * sets it on itself at start: V8 reads it at every full collection. Returns whether it set it.
 */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
