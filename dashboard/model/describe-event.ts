import type { OwpEvent } from '../../protocol/events.ts';
import { STATUS_LABELS } from './statuses.ts';
import { formatClock } from './time-format.ts';

/** Names to show instead of ids, when the page knows them. */
export interface EventNames {
  taskTitle(taskId: string): string | undefined;
  workerName(workerId: string): string | undefined;
}

export type EventTone = 'neutral' | 'good' | 'warn' | 'bad';

/** One line of the live feed or a task's history. */
export interface EventLine {
  text: string;
  tone: EventTone;
}

const quote = (text: string) => `“${text}”`;

/**
 * An event in words: `“Fix login” leased to alice`, `Worker bob went offline`. Within one task's
 * history (`withinTask`) the task goes without saying: `Leased to alice`.
 */
export function describeEvent(event: OwpEvent, names: EventNames, withinTask = false): EventLine {
  const worker = event.worker_id
    ? (names.workerName(event.worker_id) ?? event.worker_id)
    : 'a worker';
  const task = event.task_id ? quote(names.taskTitle(event.task_id) ?? event.task_id) : 'a task';
  /** `“Fix login” merged`, or `Merged` in the task's own history. */
  const about = (predicate: string, separator = ' ') =>
    withinTask
      ? predicate[0]!.toUpperCase() + predicate.slice(1)
      : `${task}${separator}${predicate}`;
  switch (event.type) {
    case 'repo.upserted':
      return {
        text: `Repo ${event.repo}: review budget ${event.data.max_open_prs} PR${event.data.max_open_prs === 1 ? '' : 's'}, area locks ${event.data.area_locks_enabled ? 'on' : 'off'}`,
        tone: 'neutral',
      };
    case 'repo.deleted':
      return { text: `Repo ${event.repo} deleted`, tone: 'warn' };
    case 'task.created':
      return {
        text: withinTask
          ? `Created in ${event.repo} (priority ${event.data.priority})`
          : `${quote(event.data.title)} created in ${event.repo} (priority ${event.data.priority})`,
        tone: 'neutral',
      };
    case 'task.updated':
      // The engine's own bookkeeping, not an edit: a task this one waits on was merged.
      if (event.data.fields.length === 1 && event.data.fields[0] === 'dependencies_pending') {
        return { text: about('a task it depends on was merged', ': '), tone: 'good' };
      }
      return { text: about(`edited: ${event.data.fields.join(', ')}`), tone: 'neutral' };
    case 'task.status_changed': {
      const { cause, message, to } = event.data;
      const why = message ? ` — ${message}` : '';
      if (to === 'failed') {
        return {
          text: about(
            `out of attempts (${cause === 'expire' ? 'lease expired' : `released by ${worker}${why}`}); waiting for an admin`,
            ': ',
          ),
          tone: 'bad',
        };
      }
      const lines: Record<typeof cause, EventLine> = {
        grant: { text: about(`leased to ${worker}`), tone: 'neutral' },
        start: { text: about(`started by ${worker}`), tone: 'neutral' },
        block: { text: about(`blocked (${worker})${why}`), tone: 'bad' },
        open_pr: { text: about(`PR opened by ${worker}`, ': '), tone: 'neutral' },
        merge: { text: about('merged'), tone: 'good' },
        expire: { text: about(`${worker}'s lease expired; back in the queue`, ': '), tone: 'warn' },
        release: { text: about(`released by ${worker}${why}`), tone: 'warn' },
        requeue: { text: about('requeued by an admin'), tone: 'warn' },
        cancel: { text: about('cancelled'), tone: 'warn' },
        offer: { text: about(`offered to ${worker}`), tone: 'neutral' },
        accept: { text: about(`accepted by ${worker}`), tone: 'good' },
        decline: { text: about(`declined by ${worker}${why}`), tone: 'warn' },
        offer_expire: {
          text: about(`offer to ${worker} expired; back in the queue`, ': '),
          tone: 'warn',
        },
      };
      return lines[cause];
    }
    case 'lease.renewed':
      return {
        text: about(`lease renewed until ${formatClock(event.data.expires_at)}`, ': '),
        tone: 'neutral',
      };
    case 'worker.registered':
      return {
        text: `Worker ${event.data.name} registered${event.data.skills.length ? ` (${event.data.skills.join(', ')})` : ''}`,
        tone: 'neutral',
      };
    case 'worker.online':
      return { text: `${worker} came online (${event.data.status})`, tone: 'good' };
    case 'worker.offline':
      return { text: `${worker} went offline`, tone: 'warn' };
    case 'worker.status_changed':
      return { text: `${worker}: ${event.data.from} → ${event.data.to}`, tone: 'neutral' };
    case 'worker.paused':
      return { text: `${worker} paused by an admin`, tone: 'warn' };
    case 'worker.resumed':
      return { text: `${worker} resumed`, tone: 'good' };
    case 'worker.token_replaced':
      return { text: `${worker} got a new token; the old one is refused`, tone: 'warn' };
    case 'worker.trust_changed':
      return {
        text: `${worker}: trust ${event.data.from} → ${event.data.to} (${event.data.reason})`,
        tone: 'neutral',
      };
    case 'offer.made':
      return {
        text: about(`offered to ${worker} until ${formatClock(event.data.expires_at)}`, ': '),
        tone: 'neutral',
      };
    case 'offer.accepted':
      return { text: about(`offer accepted by ${worker}`, ': '), tone: 'good' };
    case 'offer.rejected':
      return {
        text: about(
          `offer rejected by ${worker} (${event.data.reason.replaceAll('_', ' ')})${event.data.message ? ` — ${event.data.message}` : ''}`,
          ': ',
        ),
        tone: 'warn',
      };
    case 'offer.expired':
      return { text: about(`offer to ${worker} expired`, ': '), tone: 'warn' };
    case 'offer.withdrawn':
      return { text: about(`offer to ${worker} withdrawn`, ': '), tone: 'neutral' };
  }
}

/**
 * Whether the live feed shows an event as a line of its own. An offer moves its task and records
 * the offer: the `offer.*` event says it with more (until when, the reason given), so the status
 * change beside it would only repeat it; a lease renewal is upkeep. A task's history and the audit
 * log show them all.
 */
export function inFeed(event: OwpEvent): boolean {
  // Upkeep, not a move: a heartbeat's renewal is recorded every half TTL of every lease.
  if (event.type === 'lease.renewed') return false;
  if (event.type !== 'task.status_changed') return true;
  return !OFFER_CAUSES.has(event.data.cause);
}

const OFFER_CAUSES = new Set(['offer', 'accept', 'decline', 'offer_expire']);

/** `Ready → Leased`, for a status change in a task's history. */
export function transitionLabel(event: OwpEvent): string | null {
  if (event.type !== 'task.status_changed') return null;
  return `${STATUS_LABELS[event.data.from]} → ${STATUS_LABELS[event.data.to]}`;
}
