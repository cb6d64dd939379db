import type { OwpEvent } from '../../protocol/events.ts';

/**
 * A task's history from two sources — the read when its detail opened, and live events since —
 * as one list, oldest first, each event once (the two overlap while the read is in flight).
 */
export function mergeTaskEvents(
  taskId: string,
  loaded: readonly OwpEvent[],
  live: readonly OwpEvent[],
): OwpEvent[] {
  const bySeq = new Map<number, OwpEvent>();
  for (const event of [...loaded, ...live]) {
    if (event.task_id === taskId) bySeq.set(event.seq, event);
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}
