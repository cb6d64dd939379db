import type { OwpEvent, OwpEventType, Task } from '../../protocol/index.ts';
import type { PoolSnapshot } from './pool-snapshot.ts';
import { clockTime } from './time-text.ts';

/** What the feed needs to name things: workers by id, and tasks (title, current lease) by id. */
export interface ActivityNames {
  workers: ReadonlyMap<string, string>;
  tasks: ReadonlyMap<string, Pick<Task, 'title' | 'lease'>>;
}

export interface ActivityItem {
  seq: number;
  type: OwpEventType;
  /** One sentence, e.g. `Alice took “Fix login” (lease until 12:30)`. */
  text: string;
  /** When it happened, as a clock time. */
  time: string;
  at: string;
  taskId: string | null;
  workerId: string | null;
  repo: string | null;
}

export interface ActivityOptions {
  /** Formats a time of day; local `HH:MM` by default. */
  formatTime?: (iso: string) => string;
}

/** The names the feed uses, from a snapshot. */
export function activityNames(snapshot: PoolSnapshot): ActivityNames {
  const workers = new Map<string, string>();
  for (const worker of snapshot.workers.values()) workers.set(worker.worker_id, worker.name);
  return { workers, tasks: snapshot.tasks };
}

/**
 * The activity feed: one readable sentence per event, newest first. Names come from `names`, or
 * from the events themselves (a task's creation carries its title, a registration the name), or
 * fall back to the id. An offer's move is recorded twice — the task's status change and the
 * offer's own event — and the feed tells it once, from whichever event says more.
 */
export function activityItems(
  events: readonly OwpEvent[],
  names: ActivityNames,
  options: ActivityOptions = {},
): ActivityItem[] {
  const formatTime = options.formatTime ?? clockTime;
  const titles = new Map<string, string>();
  const workerNames = new Map<string, string>();
  for (const event of events) {
    if (event.type === 'task.created' && event.task_id) titles.set(event.task_id, event.data.title);
    if (event.type === 'worker.registered' && event.worker_id) {
      workerNames.set(event.worker_id, event.data.name);
    }
  }
  const context: SentenceContext = {
    task: (id) => `“${(id && (names.tasks.get(id)?.title ?? titles.get(id))) || id || 'a task'}”`,
    worker: (id) => (id && (names.workers.get(id) ?? workerNames.get(id))) || id || 'A worker',
    leaseUntil: (taskId, leaseId) => {
      const lease = taskId ? names.tasks.get(taskId)?.lease : null;
      return lease && lease.lease_id === leaseId && lease.expires_at
        ? formatTime(lease.expires_at)
        : null;
    },
    formatTime,
  };
  return [...events].reverse().flatMap((event) => {
    const text = sentence(event, context);
    if (text === null) return [];
    return [
      {
        seq: event.seq,
        type: event.type,
        text,
        time: formatTime(event.at),
        at: event.at,
        taskId: event.task_id,
        workerId: event.worker_id,
        repo: event.repo,
      },
    ];
  });
}

/** Why a worker turned an offer down, as the feed says it. */
const REJECT_REASON_TEXT: Record<string, string> = {
  insufficient_time: 'not enough time',
  unclear_requirements: 'requirements unclear',
  skill_mismatch: 'skills do not match',
  other: 'another reason',
};

const FAILED = '; out of attempts, it failed';

interface SentenceContext {
  task(id: string | null): string;
  worker(id: string | null): string;
  leaseUntil(taskId: string | null, leaseId: string | null): string | null;
  formatTime(iso: string): string;
}

/** The event's sentence, or null for an offer event the task's status change already tells. */
function sentence(event: OwpEvent, c: SentenceContext): string | null {
  const who = c.worker(event.worker_id);
  const task = c.task(event.task_id);
  switch (event.type) {
    case 'repo.upserted':
      return event.data.max_open_prs === 0
        ? `Repo ${event.repo} paused (review budget 0)`
        : `Repo ${event.repo} set: up to ${plural(event.data.max_open_prs, 'open PR')}, ` +
            `area locks ${event.data.area_locks_enabled ? 'on' : 'off'}`;
    case 'repo.deleted':
      return `Repo ${event.repo} removed`;
    case 'task.created':
      return `New task ${task} in ${event.repo}`;
    case 'task.updated':
      return `${task} edited: ${event.data.fields.map((f) => f.replace(/_/g, ' ')).join(', ')}`;
    case 'task.status_changed': {
      const { cause, message } = event.data;
      const why = message ? `: ${message}` : '';
      switch (cause) {
        case 'grant': {
          const until = c.leaseUntil(event.task_id, event.data.lease_id);
          return `${who} took ${task}${until ? ` (lease until ${until})` : ''}`;
        }
        case 'start':
          return `${who} started ${task}`;
        case 'block':
          return `${who} is blocked on ${task}${why}`;
        case 'open_pr':
          return `${who} opened a PR for ${task}`;
        case 'merge':
          return `${task} was merged`;
        case 'expire':
          return event.data.to === 'failed'
            ? `${who}’s lease on ${task} expired${FAILED}`
            : `${who}’s lease on ${task} expired; it is back in the queue`;
        case 'release':
          return `${who} released ${task}${why}${event.data.to === 'failed' ? FAILED : ''}`;
        case 'requeue':
          return `${task} was put back in the queue`;
        case 'cancel':
          return `${task} was cancelled`;
        case 'accept':
          return `${who} accepted ${task}`;
        case 'offer_expire':
          return `${who} let the offer of ${task} run out; it is back in the queue`;
        case 'offer': // told by offer.made, which says until when
        case 'decline': // told by offer.rejected, which says why
          return null;
      }
      break;
    }
    case 'offer.made':
      return `${task} was offered to ${who} (until ${c.formatTime(event.data.expires_at)})`;
    case 'offer.rejected': {
      const reason = REJECT_REASON_TEXT[event.data.reason] ?? event.data.reason;
      return `${who} turned down ${task}: ${reason}${event.data.message ? ` — ${event.data.message}` : ''}`;
    }
    case 'offer.accepted':
    case 'offer.expired':
    case 'offer.withdrawn':
      return null; // the status change tells it
    case 'worker.trust_changed':
      return `${who}’s trust tier is now ${event.data.to} (was ${event.data.from}): ${event.data.reason}`;
    case 'lease.renewed':
      // Upkeep, not a move: a heartbeat's renewal is recorded every half TTL of every lease, and
      // would crowd out what happened. The note and the board show the new expiry.
      return null;
    case 'worker.registered':
      return event.data.skills.length > 0
        ? `${who} joined with skills ${event.data.skills.join(', ')}`
        : `${who} joined`;
    case 'worker.online':
      return `${who} is online`;
    case 'worker.offline':
      return `${who} went offline`;
    case 'worker.status_changed':
      return `${who} is now ${event.data.to}`;
    case 'worker.paused':
      return `${who} was paused by an admin`;
    case 'worker.resumed':
      return `${who} was resumed`;
    case 'worker.token_replaced':
      return `${who} got a new token from an admin`;
  }
  return `${(event as OwpEvent).type}`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
