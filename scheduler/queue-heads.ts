import type { OwpEventData, OwpEventType } from '../protocol/index.ts';
import type { EventRefs } from './event-log.ts';
import { countsAgainstBudget } from './lifecycle.ts';
import type { SqlDriver } from './storage-port.ts';

/** Where a task stands in a ready queue: the columns of the queue order (`compareTasks`). */
export interface QueueKey {
  id: string;
  priority: number;
  estimate_points: number;
  created_at: number;
}

/** What is remembered of one repo. */
export interface RepoQueues {
  key: string;
  /** Room in its review budget; undefined: read it again. */
  room: boolean | undefined;
  /** Skill set → the head of its ready queue in this repo (null: empty). */
  heads: Map<number, QueueKey | null>;
}

/** The first key of one skill set's ready queue in one repo, from the index alone. */
const HEAD_KEY = `SELECT id, priority, estimate_points, created_at
  FROM tasks INDEXED BY tasks_ready_queue
  WHERE repo = $repo AND skill_set_id = $set AND status = 'ready' AND deps_pending = 0
  ORDER BY priority DESC, estimate_points, created_at, id LIMIT 1`;
const ROOM = `SELECT budget_used < max_open_prs AS room FROM repos WHERE key = $repo`;

/**
 * Each repo's ready queues by skill set — the key of each queue's head — and whether the repo has
 * room in its review budget, remembered between reads. A worker choosing while some repos'
 * budgets are full compares the heads of the queues it may take from and reads only the queue
 * whose head wins; reading the repos with room and every queue's head from the indexes each time
 * cost ~45 µs a choice at 10,000 workers (125 repos, two skill sets).
 *
 * Kept by the events the engine records (`recorded`): every write that adds a task to a queue,
 * takes one out, moves it, or changes what a repo's budget holds records one about the repo in
 * the same transaction (created, edited, a status change, a dependency merged, the repo edited or
 * deleted). Everything is forgotten when the driver's `readVersion` changes (a rollback, another
 * process writing the file); on a driver without one, nothing is remembered. Only a hint of where
 * to look: the queue read and the grant check the rules on the rows themselves.
 */
export class QueueHeads {
  private static readonly byDriver = new WeakMap<SqlDriver, QueueHeads>();

  /**
   * The heads for `driver`, shared by every engine over it: a write through one engine (the
   * importer of a test, a second host in one process) is recorded in the same place.
   */
  static of(driver: SqlDriver): QueueHeads {
    let heads = QueueHeads.byDriver.get(driver);
    if (!heads) {
      heads = new QueueHeads(driver);
      QueueHeads.byDriver.set(driver, heads);
    }
    return heads;
  }

  /** Every repo (null: read the list again). */
  private repos: Map<string, RepoQueues> | null = null;
  private version: number | undefined;
  private readonly params = { set: 0, repo: '' };

  private constructor(private readonly driver: SqlDriver) {}

  /**
   * Every repo and what is remembered of it, once checked to still hold: call at the start of a
   * choice, inside its transaction (nothing else writes meanwhile).
   */
  all(): Iterable<RepoQueues> {
    const version = this.driver.readVersion?.();
    if (version === undefined || version !== this.version) this.repos = null;
    this.version = version;
    if (this.repos) return this.repos.values();
    const repos = new Map<string, RepoQueues>();
    for (const { key } of this.driver.all<{ key: string }>('SELECT key FROM repos')) {
      repos.set(key, { key, room: undefined, heads: new Map() });
    }
    if (version !== undefined) this.repos = repos;
    return repos.values();
  }

  /** Whether the repo has room in its review budget. */
  hasRoom(queues: RepoQueues): boolean {
    if (queues.room === undefined) {
      this.params.repo = queues.key;
      queues.room = this.driver.get<{ room: number }>(ROOM, this.params)?.room === 1;
    }
    return queues.room;
  }

  /** The first key of skill set `set`'s ready queue in the repo, or null when it is empty. */
  head(queues: RepoQueues, set: number): QueueKey | null {
    let head = queues.heads.get(set);
    if (head === undefined) {
      this.params.set = set;
      this.params.repo = queues.key;
      head = this.driver.get<QueueKey>(HEAD_KEY, this.params) ?? null;
      queues.heads.set(set, head);
    }
    return head;
  }

  /** An event recorded in the current transaction: forgets what it may have changed. */
  recorded<T extends OwpEventType>(type: T, refs: EventRefs, data: OwpEventData<T>): void {
    if (!this.repos || !refs.repo) return;
    if (type === 'repo.upserted' || type === 'repo.deleted') {
      this.repos = null;
      return;
    }
    const queues = this.repos.get(refs.repo);
    if (!queues) {
      // A repo not seen yet: the list is old.
      this.repos = null;
      return;
    }
    if (type === 'task.status_changed') {
      const { from, to } = data as OwpEventData<'task.status_changed'>;
      if (from === 'ready' || to === 'ready') queues.heads.clear();
      if (countsAgainstBudget(from) !== countsAgainstBudget(to)) queues.room = undefined;
      return;
    }
    // Leases renewed and offers made or answered go with a status change, or change neither.
    if (type.startsWith('lease.') || type.startsWith('offer.')) return;
    queues.heads.clear();
    queues.room = undefined;
  }
}
